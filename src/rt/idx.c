/* idx.c — load IDX image/label files (MNIST format), gzip or plain, into a data set. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnx/rt/data.h"
#include "nnx/util/file.h"

/* Read len bytes into buf, the part of the `total` bytes of `what` after
 * `before` of them; -1 with err on a short read (which names the bytes
 * needed and found of the total) or a zlib error. */
static int read_part(gzFile f, const char *path, unsigned char *buf, size_t len, size_t before,
                     size_t total, const char *what, nnx_rt_error *err)
{
    size_t got = 0;
    while (got < len) {
        size_t chunk = len - got;
        if (chunk > (1u << 30))
            chunk = 1u << 30;
        int r = gzread(f, buf + got, (unsigned)chunk);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            return nnx_rt_fail(err, "%s: cannot read %s: %s", path, what, msg);
        }
        if (r == 0)
            return nnx_rt_fail(err, "%s: file is truncated: %s needs %zu bytes, found %zu",
                               path, what, total, before + got);
        got += (size_t)r;
    }
    return 0;
}

/* read_part into buf[from..to). */
static int read_into(gzFile f, const char *path, unsigned char *buf, size_t from, size_t to,
                     size_t total, const char *what, nnx_rt_error *err)
{
    return read_part(f, path, buf + from, to - from, from, total, what, err);
}

/* Read exactly len bytes into buf. */
static int read_exact(gzFile f, const char *path, void *buf, size_t len, const char *what,
                      nnx_rt_error *err)
{
    return read_into(f, path, buf, 0, len, len, what, err);
}

/* Read exactly len bytes into a new buffer (the caller frees it), or NULL
 * with err.  The buffer grows as the bytes arrive (64 MB, then doubling), so
 * a header that announces more than the file holds costs the memory of what
 * is there (and 64 MB at most besides), not of what it announces; a file of
 * Fashion-MNIST's size is still read into one allocation. */
static unsigned char *read_new(gzFile f, const char *path, size_t len, const char *what,
                               nnx_rt_error *err)
{
    const size_t first = (size_t)64 << 20;
    unsigned char *buf = NULL;
    size_t cap = 0;
    do {
        size_t next = cap == 0 ? (len < first ? len : first) : (len - cap < cap ? len : 2 * cap);
        unsigned char *more = realloc(buf, next ? next : 1);
        if (!more) {
            free(buf);
            nnx_rt_fail(err, "%s: out of memory for %s (%zu bytes)", path, what, len);
            return NULL;
        }
        buf = more;
        if (read_into(f, path, buf, cap, next, len, what, err) < 0) {
            free(buf);
            return NULL;
        }
        cap = next;
    } while (cap < len);
    return buf;
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
    unsigned char *lab = read_new(f, path, dims[0], "the labels", err);
    if (lab && expect_end(f, path, err) < 0) {
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

/* The pixels of an images file, inflated in chunks and converted as they
 * come (byte / 255, exactly as torchvision's ToTensor divides) straight into
 * the rows of a float table: row i of the file goes to the next row of x
 * when kept[i] (kept NULL: every row).  x grows with the bytes read (16 MB of
 * floats, then doubling; glibc moves a large block's pages, not its bytes),
 * so a header that announces more than the file holds costs the memory of
 * what is there, not of what it announces.  With kept, the file must hold
 * nrows images (labels_path has that many labels).  NULL with err. */
static float *read_images(const char *path, uint32_t dims[3], const unsigned char *kept,
                          size_t nrows, size_t nkept, const char *labels_path,
                          nnx_rt_error *err)
{
    gzFile f = open_idx(path, 3, dims, err);
    if (!f)
        return NULL;
    float *x = NULL;
    unsigned char *chunk = NULL;
    if (kept && dims[0] != nrows) {
        nnx_rt_fail(err, "%s has %u images but %s has %zu labels", path, (unsigned)dims[0],
                    labels_path, nrows);
        goto fail;
    }
    if ((uint64_t)dims[1] * dims[2] > INT32_MAX || dims[0] > INT32_MAX
        || (uint64_t)dims[0] * dims[1] * dims[2] > (uint64_t)SIZE_MAX / sizeof(float)) {
        nnx_rt_fail(err, "%s: images of %u x %u x %u are too large", path,
                    (unsigned)dims[0], (unsigned)dims[1], (unsigned)dims[2]);
        goto fail;
    }
    const size_t d = (size_t)dims[1] * dims[2], total = (size_t)dims[0] * d;
    const size_t need = (kept ? nkept : dims[0]) * d;   /* floats */
    const size_t chunk_bytes = (size_t)1 << 20;
    chunk = malloc(chunk_bytes);
    if (!chunk) {
        nnx_rt_fail(err, "%s: out of memory", path);
        goto fail;
    }
    size_t got = 0, cap = 0, out = 0;   /* bytes read; floats allocated, written */
    while (got < total) {
        size_t want = total - got < chunk_bytes ? total - got : chunk_bytes;
        if (read_part(f, path, chunk, want, got, total, "the pixels", err) < 0)
            goto fail;
        for (size_t k = 0; k < want;) {
            size_t pos = got + k, row = pos / d, col = pos % d;
            size_t seg = d - col < want - k ? d - col : want - k;
            if (!kept || kept[row]) {
                if (out + seg > cap) {
                    size_t more = cap ? 2 * cap : (size_t)4 << 20;
                    if (more > need)
                        more = need;
                    float *bigger = realloc(x, more * sizeof *x);
                    if (!bigger) {
                        nnx_rt_fail(err, "%s: out of memory for %zu pixels", path, need);
                        goto fail;
                    }
                    x = bigger;
                    nnx_table_prefault(x + cap, (more - cap) * sizeof *x);
                    cap = more;
                }
                const unsigned char *src = chunk + k;
                float *dst = x + out;
                for (size_t j = 0; j < seg; j++)   /* vectorised; exact as the division is */
                    dst[j] = (float)src[j] / 255.0f;
                out += seg;
            }
            k += seg;
        }
        got += want;
    }
    if (expect_end(f, path, err) < 0)
        goto fail;
    if (out == 0) {   /* nothing kept: the caller says why */
        free(x);
        x = malloc(sizeof *x);
        if (!x) {
            nnx_rt_fail(err, "%s: out of memory", path);
            goto fail;
        }
    }
    free(chunk);
    gzclose(f);
    return x;
fail:
    free(chunk);
    free(x);
    gzclose(f);
    return NULL;
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

    /* The kept rows and the classes, before a pixel is read. */
    int32_t kept = 0, maxlab = 0;
    int64_t seen[256] = {0};
    unsigned char *keep_row = malloc(nlab ? nlab : 1);
    float *x = NULL;
    int rc = -1;
    if (!keep_row) {
        nnx_rt_fail(err, "%s: out of memory", labels_path);
        goto done;
    }
    for (uint32_t i = 0; i < nlab; i++) {
        seen[lab[i]]++;
        keep_row[i] = map[lab[i]] >= 0;
        if (keep_row[i]) {
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
    uint32_t dims[3];
    x = read_images(images_path, dims, keep_row, nlab, (size_t)kept, labels_path, err);
    if (!x)
        goto done;
    out->y = malloc((size_t)kept * sizeof *out->y);
    if (!out->y) {
        nnx_rt_fail(err, "out of memory for %d labels", (int)kept);
        goto done;
    }
    out->x = x;
    x = NULL;
    out->n = kept;
    out->d = (int32_t)((size_t)dims[1] * dims[2]);
    out->kind = NNX_TARGET_CLASS;
    out->classes = nkeep > 0 ? nkeep : maxlab + 1;
    nnx_dataset_set_shape(out, 1, (int32_t)dims[1], (int32_t)dims[2], NULL);
    int32_t row = 0;
    for (uint32_t i = 0; i < nlab; i++)
        if (keep_row[i])
            out->y[row++] = map[lab[i]];
    if (nkeep > 0 && name_kept_classes(out, keep, nkeep, err) < 0)
        goto done;
    rc = 0;
done:
    if (rc < 0)
        nnx_dataset_free(out);
    free(x);
    free(keep_row);
    free(lab);
    return rc;
}

int nnx_load_idx_images(nnx_dataset *out, const char *images_path, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t dims[3];
    float *x = read_images(images_path, dims, NULL, 0, 0, NULL, err);
    if (!x)
        return -1;
    out->x = x;
    out->n = (int32_t)dims[0];
    out->d = (int32_t)((size_t)dims[1] * dims[2]);
    out->kind = NNX_TARGET_NONE;
    nnx_dataset_set_shape(out, 1, (int32_t)dims[1], (int32_t)dims[2], NULL);
    return 0;
}
