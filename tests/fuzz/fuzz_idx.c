/* fuzz_idx.c — fuzz the IDX image/label reader (nnx_load_idx), plain and gzip.
 *
 * Input: a flags byte (bit 0: gzip the images file, bit 1: gzip the labels
 * file, bits 2-3: how many classes to keep), that many class bytes, a
 * 16-bit little-endian length of the images file, the images file, and the
 * labels file (the rest).  The files are written as given unless their
 * gzip bit asks for them to be compressed first; given bytes that are
 * themselves gzip (the seeds have some) go the gzip way too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <zlib.h>

#include "nnx/rt/data.h"

#include "fuzz_io.h"

static char *put(const char *name, const uint8_t *data, size_t size, bool gzip)
{
    if (!gzip)
        return fuzz_write(name, data, size);
    char *path = fuzz_path(name);
    gzFile f = gzopen(path, "wb1");
    if (!f || (size && gzwrite(f, data, (unsigned)size) != (int)size) || gzclose(f) != Z_OK)
        abort();
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    int32_t keep[3], nkeep = (flags >> 2) & 3;
    if (nkeep > 3)
        nkeep = 3;
    size_t at = 1;
    if (size < at + (size_t)nkeep + 2)
        return 0;
    for (int32_t i = 0; i < nkeep; i++)
        keep[i] = data[at++];
    size_t ilen = data[at] | (size_t)data[at + 1] << 8;
    at += 2;
    if (ilen > size - at)
        ilen = size - at;
    char *images = put("images.idx", data + at, ilen, flags & 1);
    char *labels = put("labels.idx", data + at + ilen, size - at - ilen, flags & 2);
    if (!images || !labels)
        abort();
    nnx_dataset ds;
    nnx_rt_error err;
    if (nnx_load_idx(&ds, images, labels, nkeep ? keep : NULL, nkeep, &err) == 0)
        nnx_dataset_free(&ds);
    free(images);
    free(labels);
    return 0;
}
