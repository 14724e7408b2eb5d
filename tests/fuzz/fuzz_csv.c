/* fuzz_csv.c — fuzz the CSV data reader (nnx_load_csv) with every option.
 *
 * Input: one byte of options, then the file.  The options byte picks the
 * header flag (bit 0), the delimiter (bits 1-2: , ; tab |), the target kind
 * (bits 3-4) and the label column (bits 5-7: by name "label", the last
 * column, or index 0..5).
 */
#include <stdlib.h>

#include "nnx/rt/data.h"

#include "fuzz_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t o = data[0];
    nnx_csv_opts opts;
    nnx_csv_opts_default(&opts);
    opts.header = o & 1;
    opts.delimiter = ",;\t|"[(o >> 1) & 3];
    opts.target = (nnx_csv_target)(((o >> 3) & 3) % 3);
    int label = o >> 5;
    if (label == 0)
        opts.label_name = "label";
    else
        opts.label_index = label == 1 ? -1 : label - 2;
    char *path = fuzz_write("data.csv", data + 1, size - 1);
    if (!path)
        abort();
    nnx_dataset ds;
    nnx_rt_error err;
    if (nnx_load_csv(&ds, path, &opts, &err) == 0)
        nnx_dataset_free(&ds);
    free(path);
    return 0;
}
