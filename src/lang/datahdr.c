/* datahdr.c — read just enough of a data file to know its shape: IDX headers, label sets, CSV header rows.
 *
 * Each file is read once per checker (cached by path and options).  IDX
 * files may be gzip-compressed or plain (zlib reads both).  Only an IDX
 * label file is read whole, to count its classes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lang/check_int.h"
#include "nnx/util/file.h"

enum { HDR_IDX, HDR_CSV };
enum { MAX_LABELS = 100000000, MAX_CSV_LINE = 1 << 20 };

struct ck_datahdr {
    ck_datahdr *next;
    int         kind;
    char       *path;
    char        delim;
    bool        header;
    const char *err;            /* non-NULL: the file could not be read */
    int         ndims;
    int         dims[4];
    int         classes;        /* IDX with one dimension: max label + 1 */
    unsigned char has[256];
    int         ncols;
    char      **cols;
};

static ck_datahdr *cached(nnx_checker *c, int kind, const char *path, char delim, bool header)
{
    for (ck_datahdr *h = c->hdrs; h; h = h->next)
        if (h->kind == kind && !strcmp(h->path, path) && h->delim == delim && h->header == header)
            return h;
    ck_datahdr *h = ck_alloc(&c->perm, sizeof *h);
    if (!h)
        return NULL;
    h->kind = kind;
    h->path = ck_strdup(&c->perm, path);
    h->delim = delim;
    h->header = header;
    h->next = c->hdrs;
    c->hdrs = h;
    h->ncols = -1;
    return h;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A path data is never read from (a FIFO, /dev/zero: it may never end):
 * the reason, which says what is not checked; NULL for a regular file. */
static const char *not_regular(nnx_checker *c, const char *path)
{
    const char *what = nnx_file_not_regular(path);
    if (!what)
        return NULL;
    char buf[200];
    snprintf(buf, sizeof buf, "it is %s, not a regular file: nnx check does not read it (nothing in "
             "it is checked) and nnx run refuses it; give a regular file (or a gzip of one)", what);
    return ck_strdup(&c->perm, buf);
}

static void read_idx(nnx_checker *c, ck_datahdr *h)
{
    if ((h->err = not_regular(c, h->path)))
        return;
    errno = 0;
    gzFile f = gzopen(h->path, "rb");
    if (!f) {
        h->err = ck_strdup(&c->perm, errno ? strerror(errno) : "cannot open");
        return;
    }
    unsigned char b[4];
    if (gzread(f, b, 4) != 4 || b[0] || b[1]) {
        h->err = "not an IDX file (bad magic number)";
        goto out;
    }
    if (b[2] != 0x08) {
        h->err = "IDX data type is not unsigned bytes (0x08)";
        goto out;
    }
    h->ndims = b[3];
    if (h->ndims < 1 || h->ndims > 4) {
        h->err = "IDX file with an unsupported number of dimensions";
        goto out;
    }
    for (int i = 0; i < h->ndims; i++) {
        if (gzread(f, b, 4) != 4) {
            h->err = "IDX header is cut short";
            goto out;
        }
        uint32_t d = be32(b);
        if (d > 0x7fffffffu || (i > 0 && d == 0)) {
            h->err = "IDX header has an impossible dimension";
            goto out;
        }
        h->dims[i] = (int)d;
    }
    if (h->ndims == 1) {
        if (h->dims[0] > MAX_LABELS) {
            h->err = "IDX label file is too large";
            goto out;
        }
        unsigned char buf[65536];
        long left = h->dims[0];
        while (left > 0) {
            int want = left > (long)sizeof buf ? (int)sizeof buf : (int)left;
            int got = gzread(f, buf, (unsigned)want);
            if (got <= 0) {
                h->err = "IDX label file is shorter than its header says";
                goto out;
            }
            for (int i = 0; i < got; i++) {
                h->has[buf[i]] = 1;
                if (buf[i] + 1 > h->classes)
                    h->classes = buf[i] + 1;
            }
            left -= got;
        }
    }
out:
    gzclose(f);
}

const ck_datahdr *ck_idx_header(nnx_checker *c, const char *path, const char **err)
{
    ck_datahdr *h = cached(c, HDR_IDX, path, 0, false);
    if (!h) {
        *err = "out of memory";
        return NULL;
    }
    if (!h->ndims && !h->err)
        read_idx(c, h);
    *err = h->err;
    return h->err ? NULL : h;
}

int64_t ck_hdr_count(const ck_datahdr *h) { return h->dims[0]; }
int ck_hdr_ndims(const ck_datahdr *h) { return h->ndims; }
const int *ck_hdr_dims(const ck_datahdr *h) { return h->dims; }
int ck_hdr_classes(const ck_datahdr *h) { return h->classes; }
bool ck_hdr_has_label(const ck_datahdr *h, int label) { return label >= 0 && label < 256 && h->has[label]; }

int ck_hdr_features(const ck_datahdr *h)
{
    long f = 1;
    for (int i = 1; i < h->ndims; i++) {
        f *= h->dims[i];
        if (f > 0x7fffffff)
            return -1;
    }
    return (int)f;
}

/* Split one CSV line into trimmed fields ("quoted" fields, "" for a quote). */
static void split_csv(nnx_checker *c, ck_datahdr *h, const char *line)
{
    size_t cap = 8, n = 0;
    char **cols = ck_alloc(&c->perm, cap * sizeof *cols);
    char *field = ck_alloc(&c->perm, strlen(line) + 1);
    if (!cols || !field) {
        h->err = "out of memory";
        return;
    }
    const char *p = line;
    for (;;) {
        size_t len = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '"') {
            for (p++; *p; p++) {
                if (*p == '"' && p[1] == '"')
                    field[len++] = *p++;
                else if (*p == '"') {
                    p++;
                    break;
                } else
                    field[len++] = *p;
            }
            while (*p && *p != h->delim)
                p++;
        } else {
            while (*p && *p != h->delim)
                field[len++] = *p++;
            while (len && (field[len - 1] == ' ' || field[len - 1] == '\t'))
                len--;
        }
        if (n == cap) {
            char **more = ck_alloc(&c->perm, 2 * cap * sizeof *more);
            if (!more) {
                h->err = "out of memory";
                return;
            }
            memcpy(more, cols, n * sizeof *cols);
            cols = more;
            cap *= 2;
        }
        cols[n++] = ck_strndup(&c->perm, field, len);
        if (*p != h->delim)
            break;
        p++;
    }
    h->cols = cols;
    h->ncols = (int)n;
}

const ck_datahdr *ck_csv_header(nnx_checker *c, const char *path, char delim, bool header,
                                const char **err)
{
    ck_datahdr *h = cached(c, HDR_CSV, path, delim, header);
    if (!h) {
        *err = "out of memory";
        return NULL;
    }
    if (h->ncols < 0 && !h->err && !(h->err = not_regular(c, path))) {
        errno = 0;
        FILE *f = fopen(path, "rb");
        if (!f) {
            h->err = ck_strdup(&c->perm, errno ? strerror(errno) : "cannot open");
        } else {
            /* the first non-empty line, within a bounded prefix of the file */
            char *buf = malloc(MAX_CSV_LINE + 1);
            size_t n = buf ? fread(buf, 1, MAX_CSV_LINE, f) : 0;
            const char *line = NULL;
            for (size_t at = 0; buf && at < n && !line;) {
                char *nl = memchr(buf + at, '\n', n - at);
                size_t end = nl ? (size_t)(nl - buf) : n;
                size_t len = end - at;
                while (len && buf[at + len - 1] == '\r')
                    len--;
                if (len && (nl || feof(f))) {
                    buf[at + len] = 0;
                    line = buf + at;
                    if (strlen(line) != len)
                        h->err = "its first row holds a NUL byte: not a CSV text file";
                } else if (len) {
                    h->err = memchr(buf + at, 0, len)
                                 ? "its first row holds a NUL byte: not a CSV text file"
                                 : "its first row is longer than 1 MiB: its columns are not checked";
                    break;
                }
                at = end + 1;
            }
            if (!buf)
                h->err = "out of memory";
            else if (!line && !h->err)
                h->err = n == MAX_CSV_LINE ? "no row in its first 1 MiB (only empty lines)"
                                           : "the file is empty";
            else if (line && !h->err)
                split_csv(c, h, line);
            free(buf);
            fclose(f);
        }
    }
    *err = h->err;
    return h->err ? NULL : h;
}

int ck_hdr_ncols(const ck_datahdr *h) { return h->ncols; }

const char *ck_hdr_col(const ck_datahdr *h, int i)
{
    return h->header && i >= 0 && i < h->ncols ? h->cols[i] : NULL;
}
