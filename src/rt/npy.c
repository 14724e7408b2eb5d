/* npy.c — NumPy .npy arrays (format 1.0-3.0, C order) as a data set: a 2-D
 * x is rows of features, a 3-D one rows of 1×H×W images, a 4-D one rows of
 * C×H×W; y is one label or target per row. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/rt/data.h"
#include "nnx/util/file.h"

enum npy_type { NPY_F4, NPY_F8, NPY_U1, NPY_I8, NPY_I4 };

static const struct { const char *descr; enum npy_type type; size_t size; } types[] = {
    { "<f4", NPY_F4, 4 }, { "<f8", NPY_F8, 8 }, { "|u1", NPY_U1, 1 }, { "<u1", NPY_U1, 1 },
    { "<i8", NPY_I8, 8 }, { "<i4", NPY_I4, 4 },
};

/* The quoted value of 'key' in the header dict, into buf. */
static int dict_str(const char *h, const char *key, char *buf, size_t n)
{
    const char *p = strstr(h, key);
    if (!p || !(p = strchr(p + strlen(key), ':')))
        return -1;
    p++;
    while (*p == ' ')
        p++;
    if (*p != '\'' && *p != '"')
        return -1;
    char q = *p++;
    size_t i = 0;
    while (*p && *p != q && i + 1 < n)
        buf[i++] = *p++;
    buf[i] = '\0';
    return *p == q ? 0 : -1;
}

/* The header at the start of data (avail bytes of a file of len bytes). */
static int parse_header(const char *path, const unsigned char *data, size_t avail, size_t len,
                        nnx_npy_info *out, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (avail < 10 || memcmp(data, "\x93NUMPY", 6) != 0)
        return nnx_rt_fail(err, "%s: not a .npy file (no \\x93NUMPY magic)", path);
    int major = data[6];
    size_t hlen, at;
    if (major == 1) {
        hlen = (size_t)data[8] | (size_t)data[9] << 8;
        at = 10;
    } else if (major == 2 || major == 3) {
        if (avail < 12)
            return nnx_rt_fail(err, "%s: truncated .npy header", path);
        hlen = (size_t)data[8] | (size_t)data[9] << 8 | (size_t)data[10] << 16
             | (size_t)data[11] << 24;
        at = 12;
    } else {
        return nnx_rt_fail(err, "%s: .npy format version %d, this nnx reads 1 to 3", path, major);
    }
    if (hlen > 65536 || at + hlen > avail)
        return nnx_rt_fail(err, "%s: truncated .npy header", path);
    char h[65537];
    memcpy(h, data + at, hlen);
    h[hlen] = '\0';
    char descr[16];
    if (dict_str(h, "'descr'", descr, sizeof descr) < 0)
        return nnx_rt_fail(err, "%s: .npy header without a 'descr'", path);
    size_t t = 0;
    while (t < sizeof types / sizeof types[0] && strcmp(types[t].descr, descr))
        t++;
    if (t == sizeof types / sizeof types[0])
        return nnx_rt_fail(err, "%s: .npy of dtype '%s'; nnx reads float32 (<f4), float64 (<f8), "
                           "uint8 (|u1), int32 (<i4) and int64 (<i8), little-endian", path, descr);
    const char *fo = strstr(h, "'fortran_order'");
    if (!fo || !strchr(fo, ':'))
        return nnx_rt_fail(err, "%s: .npy header without 'fortran_order'", path);
    fo = strchr(fo, ':') + 1;
    while (*fo == ' ')
        fo++;
    if (strncmp(fo, "False", 5) != 0)
        return nnx_rt_fail(err, "%s: a Fortran-order .npy array; save it in C order "
                           "(np.ascontiguousarray)", path);
    const char *sh = strstr(h, "'shape'");
    if (!sh || !(sh = strchr(sh, '(')))
        return nnx_rt_fail(err, "%s: .npy header without a 'shape'", path);
    sh++;
    size_t count = 1;
    while (*sh && *sh != ')') {
        while (*sh == ' ' || *sh == ',')
            sh++;
        if (*sh == ')')
            break;
        char *end;
        long long v = strtoll(sh, &end, 10);
        if (end == sh || v < 0 || v > INT32_MAX || out->ndim == 4)
            return nnx_rt_fail(err, "%s: .npy shape must be 1 to 4 sizes, each below 2^31", path);
        out->dims[out->ndim++] = (int64_t)v;
        if (v && count > SIZE_MAX / (size_t)v)
            return nnx_rt_fail(err, "%s: .npy array too large", path);
        count *= (size_t)v;
        sh = end;
    }
    if (out->ndim == 0)
        return nnx_rt_fail(err, "%s: a .npy scalar, not an array", path);
    out->type = (int)types[t].type;
    out->item = types[t].size;
    out->offset = at + hlen;
    out->count = count;
    if (count > (len - out->offset) / out->item)
        return nnx_rt_fail(err, "%s: truncated: %zu values of %zu bytes need %zu bytes of data, "
                           "the file has %zu", path, count, out->item, count * out->item,
                           len - out->offset);
    return 0;
}

/* Value i of the array as a double. */
static double value(const unsigned char *p, int type, size_t i)
{
    switch (type) {
    case NPY_F4: { float f; memcpy(&f, p + 4 * i, 4); return f; }
    case NPY_F8: { double d; memcpy(&d, p + 8 * i, 8); return d; }
    case NPY_U1: return p[i];
    case NPY_I4: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    default:     { int64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
    }
}

int nnx_npy_probe(const char *path, nnx_npy_info *out, nnx_rt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *head = malloc(65536 + 12);
    size_t avail = head ? fread(head, 1, 65536 + 12, f) : 0;
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    fclose(f);
    int rc = !head ? nnx_rt_fail(err, "%s: out of memory", path)
           : len < 0 ? nnx_rt_fail(err, "%s: cannot tell its size", path)
           : parse_header(path, head, avail, (size_t)len, out, err);
    free(head);
    return rc;
}

/* The file mapped read-only (*len bytes) with its header parsed; NULL on failure. */
static unsigned char *map_npy(const char *path, nnx_npy_info *info, size_t *len,
                              nnx_rt_error *err)
{
    const char *what = nnx_file_not_regular(path);
    if (what) {
        nnx_rt_fail(err, "%s: cannot read %s as a .npy file", path, what);
        return NULL;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    void *m = MAP_FAILED;
    if (fstat(fd, &st) < 0)
        nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    else if (st.st_size < 10)
        nnx_rt_fail(err, "%s: not a .npy file (no \\x93NUMPY magic)", path);
    else if ((m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
        nnx_rt_fail(err, "%s: cannot map: %s", path, strerror(errno));
    close(fd);
    if (m == MAP_FAILED)
        return NULL;
    *len = (size_t)st.st_size;
    if (parse_header(path, m, *len, *len, info, err) < 0) {
        munmap(m, *len);
        return NULL;
    }
    return m;
}

/* Features of type float32 at an aligned offset are read where they lie in
 * the mapping (a table bigger than memory costs page cache, not memory);
 * the others are converted into a malloc'd copy. */
int nnx_load_npy(nnx_dataset *out, const char *x_path, const char *y_path, int real,
                 nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    nnx_npy_info xi, yi;
    size_t xlen = 0, ylen = 0;
    unsigned char *x = map_npy(x_path, &xi, &xlen, err);
    unsigned char *y = x && y_path ? map_npy(y_path, &yi, &ylen, err) : NULL;
    int rc = x && (y || !y_path) ? 0 : -1;
    if (rc == 0 && xi.ndim == 1)
        rc = nnx_rt_fail(err, "%s: x is 1-D (%lld values): it needs a row per sample, as (rows, "
                         "features) or (rows, C, H, W)", x_path, (long long)xi.dims[0]);
    if (rc == 0 && y && (yi.ndim != 1 && !(yi.ndim == 2 && yi.dims[1] == 1)))
        rc = nnx_rt_fail(err, "%s: y must be 1-D (one label per row), not %d-D", y_path, yi.ndim);
    if (rc == 0 && y && yi.dims[0] != xi.dims[0])
        rc = nnx_rt_fail(err, "%s has %lld rows but %s has %lld labels", x_path,
                         (long long)xi.dims[0], y_path, (long long)yi.dims[0]);
    if (rc == 0 && xi.dims[0] == 0)
        rc = nnx_rt_fail(err, "%s: no rows", x_path);
    size_t n = rc == 0 ? (size_t)xi.dims[0] : 0, d = n ? xi.count / n : 0;
    if (rc == 0 && (d == 0 || d > INT32_MAX))
        rc = nnx_rt_fail(err, "%s: %zu features per row", x_path, d);
    if (rc == 0 && n > INT32_MAX)
        rc = nnx_rt_fail(err, "%s: %zu rows, more than nnx takes (%d)", x_path, n, INT32_MAX);
    int64_t maxlab = -1;
    for (size_t i = 0; rc == 0 && y && i < n; i++) {
        double v = value(y + yi.offset, yi.type, i);
        if (!isfinite(v))
            rc = nnx_rt_fail(err, "%s: label %zu is not a number", y_path, i);
        else if (!real && (v != floor(v) || v < 0 || v > 1e6))
            rc = nnx_rt_fail(err, "%s: label %zu is %g, not a class (an integer 0, 1, ...)",
                             y_path, i, v);
        else if (!real && (int64_t)v > maxlab)
            maxlab = (int64_t)v;
    }
    /* One pass over the values, in the mapping: every one a finite float. */
    for (size_t i = 0; rc == 0 && i < n * d; i++) {
        double v = value(x + xi.offset, xi.type, i);
        if (!isfinite(v) || fabs(v) > 3.4e38)
            rc = nnx_rt_fail(err, "%s: row %zu, value %zu is %g, not a finite float", x_path,
                             i / d, i % d, v);
    }
    nnx_target_kind kind = !y ? NNX_TARGET_NONE : real ? NNX_TARGET_REAL : NNX_TARGET_CLASS;
    int32_t classes = !y || real ? 0 : (int32_t)(maxlab + 1);
    bool mapped = xi.type == NPY_F4 && xi.offset % sizeof(float) == 0;
    if (rc == 0 && mapped)
        rc = nnx_dataset_alloc_mapped(out, (int32_t)n, (int32_t)d, kind, classes, x, xlen,
                                      (const float *)(const void *)(x + xi.offset), err);
    else if (rc == 0)
        rc = nnx_dataset_alloc(out, (int32_t)n, (int32_t)d, kind, classes, err);
    if (rc == 0 && mapped)
        x = NULL;                                   /* the set owns the mapping */
    for (size_t i = 0; rc == 0 && x && i < n * d; i++)
        out->x[i] = (float)value(x + xi.offset, xi.type, i);
    for (size_t i = 0; rc == 0 && y && i < n; i++) {
        double v = value(y + yi.offset, yi.type, i);
        if (real)
            out->t[i] = (float)v;
        else
            out->y[i] = (int32_t)v;
    }
    if (rc == 0 && xi.ndim >= 3) {
        int32_t c = xi.ndim == 4 ? (int32_t)xi.dims[1] : 1;
        int32_t h = (int32_t)xi.dims[xi.ndim - 2], w = (int32_t)xi.dims[xi.ndim - 1];
        if (nnx_dataset_set_shape(out, c, h, w, err) < 0) {
            nnx_dataset_free(out);
            rc = -1;
        }
    }
    if (x)
        munmap(x, xlen);
    if (y)
        munmap(y, ylen);
    return rc;
}
