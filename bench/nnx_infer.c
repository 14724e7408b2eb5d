/* nnx_infer.c — inference throughput of a trained model through include/nnx/model.h:
 * the rows of an IDX images file predicted as one batch, again and again.
 *
 *   make build/rel/bench/nnx_infer
 *   build/rel/bench/nnx_infer RUN IMAGES [SECONDS]
 *
 * The images are read once; each timed call is nnx_model_predict over all of
 * them (normalisation, the network in evaluation mode, softmax), what `nnx
 * predict` does between reading the file and writing the CSV.  For 1 and 2
 * threads (nnx_model_set_threads) it runs one warm-up call, then calls for at
 * least SECONDS (default 2) and prints
 *     nnx_infer threads=T rows=N calls=K rows_per_s=R
 * Exit 1 on any error, with the message. */
#include <stdio.h>
#include <stdlib.h>

#include "nnx/model.h"
#include "nnx/rt/clock.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: nnx_infer RUN IMAGES [SECONDS]\n");
        return 1;
    }
    double budget = argc > 3 ? atof(argv[3]) : 2.0;
    nnx_rt_error err;
    nnx_model *m = nnx_model_load(argv[1], &err);
    if (!m) {
        fprintf(stderr, "nnx_infer: %s\n", err.msg);
        return 1;
    }
    nnx_dataset rows;
    if (nnx_model_read_idx(m, argv[2], NULL, &rows, NULL, NULL, &err) < 0) {
        fprintf(stderr, "nnx_infer: %s\n", err.msg);
        nnx_model_free(m);
        return 1;
    }
    float *out = malloc((size_t)rows.n * (size_t)nnx_model_outputs(m) * sizeof *out);
    int status = out ? 0 : 1;
    for (int threads = 1; status == 0 && threads <= 2; threads++) {
        if (nnx_model_set_threads(m, threads, &err) < 0 ||
            nnx_model_predict(m, rows.x, rows.n, out, &err) < 0) {
            fprintf(stderr, "nnx_infer: %s\n", err.msg);
            status = 1;
            break;
        }
        int calls = 0;
        double t0 = nnx_clock_seconds(), t;
        do {
            if (nnx_model_predict(m, rows.x, rows.n, out, &err) < 0) {
                fprintf(stderr, "nnx_infer: %s\n", err.msg);
                status = 1;
                break;
            }
            calls++;
            t = nnx_clock_seconds() - t0;
        } while (t < budget);
        if (status == 0)
            printf("nnx_infer threads=%d rows=%d calls=%d rows_per_s=%.0f\n", threads,
                   (int)rows.n, calls, calls * (double)rows.n / t);
    }
    free(out);
    nnx_dataset_free(&rows);
    nnx_model_free(m);
    return status;
}
