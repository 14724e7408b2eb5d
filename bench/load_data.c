/* load_data.c — time loading alone: a CSV table or a pair of IDX files read
 * into an nnx data set the way `nnx run` reads them (nnx_load_csv_encoded
 * with the train file's encoding fitted, nnx_load_idx), nothing else.
 *
 * usage: load_data csv FILE          the label is the last column
 *        load_data idx IMAGES LABELS
 *        load_data none              the process alone (its baseline memory)
 *
 * Prints one line: "seconds=S rows=N features=D" (bench/load.sh reads it). */
#include <stdio.h>
#include <string.h>

#include "nnx/rt/clock.h"
#include "nnx/rt/data.h"

int main(int argc, char **argv)
{
    nnx_dataset ds;
    nnx_rt_error err = {{0}};
    double t0 = nnx_clock_seconds();
    int rc;
    if (argc == 3 && !strcmp(argv[1], "csv")) {
        nnx_csv_opts o;
        nnx_csv_opts_default(&o);
        o.target = NNX_CSV_TARGET_CLASS;
        nnx_csv_encoding enc = {0};
        rc = nnx_load_csv_encoded(&ds, argv[2], &o, &enc, NULL, &err);
        nnx_csv_encoding_free(&enc);
    } else if (argc == 4 && !strcmp(argv[1], "idx")) {
        rc = nnx_load_idx(&ds, argv[2], argv[3], NULL, 0, &err);
    } else if (argc == 2 && !strcmp(argv[1], "none")) {
        printf("seconds=0 rows=0 features=0\n");
        return 0;
    } else {
        fprintf(stderr, "usage: load_data csv FILE | idx IMAGES LABELS | none\n");
        return 2;
    }
    double t = nnx_clock_seconds() - t0;
    if (rc < 0) {
        fprintf(stderr, "load_data: %s\n", err.msg);
        return 1;
    }
    printf("seconds=%.3f rows=%d features=%d\n", t, (int)ds.n, (int)ds.d);
    nnx_dataset_free(&ds);
    return 0;
}
