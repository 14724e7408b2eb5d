/* fuzz_npy.c — fuzz the NumPy .npy reader (nnx_load_npy): a features file alone, or with a labels file, as classes or real targets.
 *
 * Input: a flags byte (bit 0: a labels file follows, bit 1: real targets),
 * a 16-bit little-endian length of the features file, the features file,
 * and the labels file (the rest).  A float32 features file is mapped, not
 * read: after a load every feature and target is read once, so a mapping
 * shorter than the header says shows as a crash.
 */
#include <stdlib.h>

#include "nnx/rt/data.h"

#include "fuzz_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t flags = data[0];
    size_t xlen = data[1] | (size_t)data[2] << 8;
    size_t at = 3;
    if (xlen > size - at)
        xlen = size - at;
    char *x = fuzz_write("x.npy", data + at, xlen);
    char *y = flags & 1 ? fuzz_write("y.npy", data + at + xlen, size - at - xlen) : NULL;
    if (!x || ((flags & 1) && !y))
        abort();
    nnx_dataset ds;
    nnx_rt_error err;
    if (nnx_load_npy(&ds, x, y, flags & 2 ? 1 : 0, &err) == 0) {
        volatile float sum = 0;
        for (size_t i = 0; i < (size_t)ds.n * (size_t)ds.d; i++)
            sum += ds.x[i];
        for (int32_t i = 0; ds.y && i < ds.n; i++)
            if (ds.y[i] < 0 || ds.y[i] >= ds.classes)
                abort();            /* a class outside the set's count */
        for (int32_t i = 0; ds.t && i < ds.n; i++)
            sum += ds.t[i];
        (void)sum;
        nnx_dataset_free(&ds);
    }
    free(x);
    free(y);
    return 0;
}
