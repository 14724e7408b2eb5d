/* idx.c — load IDX image/label files (MNIST format), gzip or plain, into a data set. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnx/rt/data.h"
#include "nnx/rt/file.h"

/* Read exactly len bytes; -1 with err on a short read or a zlib error. */
static int read_exact(gzFile f, const char *path, void *buf, size_t len, const char *what,
                      nnx_rt_error *err)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < len) {
        size_t chunk = len - got;
        if (chunk > (1u << 30))
            chunk = 1u << 30;
        int r = gzread(f, p + got, (unsigned)chunk);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            return nnx_rt_fail(err, "%s: cannot read %s: %s", path, what, msg);
        }
        if (r == 0)
            return nnx_rt_fail(err, "%s: file is truncated: %s needs %zu bytes, found %zu",
                               path, what, len, got);
        got += (size_t)r;
    }
    return 0;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Open path, check the magic for ndims unsigned-byte dimensions, read dims. */
static gzFile open_idx(const char *path, int ndims, uint32_t *dims, nnx_rt_error *err)
{
    const char *what = nnx_file_not_regular(path);
    if (what) { /* a FIFO or /dev/zero may never end */
        nnx_rt_fail(err, "%s: not a regular file (%s): data is read only from regular files "
                    "(or a gzip of one)", path, what);
        return NULL;
    }
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        nnx_rt_fail(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    gzbuffer(f, 1u << 20);
    unsigned char head[4 + 4 * 3];
    if (read_exact(f, path, head, 4, "the header", err) < 0)
        goto fail;
    uint32_t magic = be32(head);
    if (magic >> 16 != 0 || (magic >> 8 & 0xff) != 0x08 || (magic & 0xff) != (uint32_t)ndims) {
        nnx_rt_fail(err, "%s: not an IDX file of unsigned bytes with %d dimension%s "
                    "(magic 0x%08x, expected 0x%08x)", path, ndims, ndims == 1 ? "" : "s",
                    (unsigned)magic, 0x800u | (unsigned)ndims);
        goto fail;
    }
    if (read_exact(f, path, head + 4, 4 * (size_t)ndims, "the header", err) < 0)
        goto fail;
    for (int i = 0; i < ndims; i++) {
        dims[i] = be32(head + 4 + 4 * i);
        if (dims[i] == 0 || dims[i] > INT32_MAX) {
            nnx_rt_fail(err, "%s: dimension %d has bad size %u", path, i + 1, (unsigned)dims[i]);
            goto fail;
        }
    }
    return f;
fail:
    gzclose(f);
    return NULL;
}

/* Fail unless f is at its end. */
static int expect_end(gzFile f, const char *path, nnx_rt_error *err)
{
    unsigned char extra;
    int r = gzread(f, &extra, 1);
    if (r != 0)
        return nnx_rt_fail(err, "%s: %s after the data the header announces", path,
                           r > 0 ? "unexpected bytes" : "read error");
    return 0;
}

/* Read the labels file into a fresh array of n bytes. */
static unsigned char *read_labels(const char *path, uint32_t *n, nnx_rt_error *err)
{
    uint32_t dims[1];
    gzFile f = open_idx(path, 1, dims, err);
    if (!f)
        return NULL;
    unsigned char *lab = malloc(dims[0]);
    if (!lab) {
        nnx_rt_fail(err, "%s: out of memory for %u labels", path, (unsigned)dims[0]);
    } else if (read_exact(f, path, lab, dims[0], "the labels", err) < 0
               || expect_end(f, path, err) < 0) {
        free(lab);
        lab = NULL;
    }
    gzclose(f);
    *n = dims[0];
    return lab;
}

/* Class of each label byte under the filter: -1 = dropped. */
static int class_map(const int32_t *keep, int32_t nkeep, int32_t map[256],
                     nnx_rt_error *err)
{
    for (int i = 0; i < 256; i++)
        map[i] = nkeep > 0 ? -1 : i;
    for (int32_t c = 0; c < nkeep; c++) {
        if (keep[c] < 0 || keep[c] > 255)
            return nnx_rt_fail(err, "class %d cannot occur in an IDX label file (0..255)",
                               (int)keep[c]);
        if (map[keep[c]] >= 0)
            return nnx_rt_fail(err, "class %d is listed twice", (int)keep[c]);
        map[keep[c]] = c;
    }
    return 0;
}

static int name_kept_classes(nnx_dataset *ds, const int32_t *keep, int32_t nkeep,
                             nnx_rt_error *err)
{
    ds->class_names = calloc((size_t)nkeep, sizeof *ds->class_names);
    if (!ds->class_names)
        return nnx_rt_fail(err, "out of memory for class names");
    for (int32_t c = 0; c < nkeep; c++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", (int)keep[c]);
        if (!(ds->class_names[c] = strdup(buf)))
            return nnx_rt_fail(err, "out of memory for class names");
    }
    return 0;
}

/* The pixels of an images file (n × rows × cols bytes), dims filled; NULL with err. */
static unsigned char *read_images(const char *path, uint32_t dims[3], nnx_rt_error *err)
{
    gzFile f = open_idx(path, 3, dims, err);
    if (!f)
        return NULL;
    unsigned char *pix = NULL;
    if ((uint64_t)dims[1] * dims[2] > INT32_MAX || dims[0] > INT32_MAX
        || (uint64_t)dims[0] * dims[1] * dims[2] > (uint64_t)SIZE_MAX / sizeof(float)) {
        nnx_rt_fail(err, "%s: images of %u x %u x %u are too large", path,
                    (unsigned)dims[0], (unsigned)dims[1], (unsigned)dims[2]);
        goto done;
    }
    size_t npix = (size_t)dims[0] * dims[1] * dims[2];
    pix = malloc(npix ? npix : 1);
    if (!pix) {
        nnx_rt_fail(err, "%s: out of memory for %zu pixels", path, npix);
        goto done;
    }
    if (read_exact(f, path, pix, npix, "the pixels", err) < 0 || expect_end(f, path, err) < 0) {
        free(pix);
        pix = NULL;
    }
done:
    gzclose(f);
    return pix;
}

int nnx_load_idx(nnx_dataset *out, const char *images_path, const char *labels_path,
                 const int32_t *keep, int32_t nkeep, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    int32_t map[256];
    if (nkeep < 0 || (nkeep > 0 && !keep))
        return nnx_rt_fail(err, "bad class filter");
    if (class_map(keep, nkeep, map, err) < 0)
        return -1;

    uint32_t nlab;
    unsigned char *lab = read_labels(labels_path, &nlab, err);
    if (!lab)
        return -1;

    uint32_t dims[3];
    unsigned char *pix = read_images(images_path, dims, err);
    int rc = -1;
    if (!pix)
        goto done;
    if (dims[0] != nlab) {
        nnx_rt_fail(err, "%s has %u images but %s has %u labels", images_path,
                    (unsigned)dims[0], labels_path, (unsigned)nlab);
        goto done;
    }
    size_t d = (size_t)dims[1] * dims[2];

    /* Count the kept rows and the classes. */
    int32_t kept = 0, maxlab = 0;
    int64_t seen[256] = {0};
    for (uint32_t i = 0; i < nlab; i++) {
        seen[lab[i]]++;
        if (map[lab[i]] >= 0) {
            kept++;
            if (lab[i] > maxlab)
                maxlab = lab[i];
        }
    }
    for (int32_t c = 0; c < nkeep; c++)
        if (!seen[keep[c]]) {
            nnx_rt_fail(err, "%s: class %d never occurs", labels_path, (int)keep[c]);
            goto done;
        }
    if (kept == 0) {
        nnx_rt_fail(err, "%s: no rows", labels_path);
        goto done;
    }
    int32_t classes = nkeep > 0 ? nkeep : maxlab + 1;
    if (nnx_dataset_alloc(out, kept, (int32_t)d, NNX_TARGET_CLASS, classes, err) < 0)
        goto done;
    nnx_dataset_set_shape(out, 1, (int32_t)dims[1], (int32_t)dims[2], NULL);

    float level[256];   /* byte / 255 exactly as torchvision's ToTensor divides */
    for (int v = 0; v < 256; v++)
        level[v] = (float)v / 255.0f;
    int32_t row = 0;
    for (uint32_t i = 0; i < nlab; i++) {
        if (map[lab[i]] < 0)
            continue;
        const unsigned char *src = pix + (size_t)i * d;
        float *dst = out->x + (size_t)row * d;
        for (size_t j = 0; j < d; j++)
            dst[j] = level[src[j]];
        out->y[row++] = map[lab[i]];
    }
    if (nkeep > 0 && name_kept_classes(out, keep, nkeep, err) < 0) {
        nnx_dataset_free(out);
        goto done;
    }
    rc = 0;
done:
    free(pix);
    free(lab);
    return rc;
}

int nnx_load_idx_images(nnx_dataset *out, const char *images_path, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t dims[3];
    unsigned char *pix = read_images(images_path, dims, err);
    if (!pix)
        return -1;
    size_t d = (size_t)dims[1] * dims[2];
    int rc = dims[0] == 0 ? nnx_rt_fail(err, "%s: no images", images_path)
           : nnx_dataset_alloc(out, (int32_t)dims[0], (int32_t)d, NNX_TARGET_NONE, 0, err);
    if (rc == 0) {
        nnx_dataset_set_shape(out, 1, (int32_t)dims[1], (int32_t)dims[2], NULL);
        float level[256];
        for (int v = 0; v < 256; v++)
            level[v] = (float)v / 255.0f;
        for (size_t i = 0; i < (size_t)dims[0] * d; i++)
            out->x[i] = level[pix[i]];
    }
    free(pix);
    return rc;
}
