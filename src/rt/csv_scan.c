/* csv_scan.c — nnx's one CSV reader: blocks of a mapped or gzip file parsed in parallel (see csv_scan.h). */
#define _DEFAULT_SOURCE   /* madvise, MAP_ANONYMOUS */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nnx/util/file.h"
#include "rt/csv_scan.h"
#include "rt/num_parse.h"
#include "rt/team.h"

#define DEFAULT_BLOCK ((size_t)4 << 20)

/* --- the text ------------------------------------------------------------------ */

/* Byte classes. */
enum { C_TEXT = 0, C_QUOTE, C_LF, C_CR, C_BLANK, C_NUL };

/* The text being read: a mapped file, a buffer, or one gzip block. */
typedef struct view {
    const char   *t;
    size_t        len;
    char          delim;
    int           stray_ok;   /* a quote inside an unquoted field is text (one block) */
    unsigned char cls[256];
} view;

static void view_init(view *v, const char *t, size_t len, char delim)
{
    v->t = t;
    v->len = len;
    v->delim = delim;
    v->stray_ok = 0;
    memset(v->cls, C_TEXT, 256);
    v->cls['"'] = C_QUOTE;
    v->cls['\n'] = C_LF;
    v->cls['\r'] = C_CR;
    v->cls[' '] = C_BLANK;
    v->cls['\t'] = C_BLANK;
    v->cls[(unsigned char)delim] = C_TEXT;
    v->cls[0] = C_NUL;
}

static int blank(const view *v, char c)
{
    return v->cls[(unsigned char)c] == C_BLANK;
}

/* A line ends at byte i: a LF, or a CR not followed by a LF. */
static int line_end_at(const view *v, size_t i)
{
    return v->t[i] == '\n' || (v->t[i] == '\r' && (i + 1 >= v->len || v->t[i + 1] != '\n'));
}

/* What can go wrong in a record. */
enum { E_NONE = 0, E_RAGGED, E_UNCLOSED, E_AFTER_QUOTE, E_NOT_NUMBER, E_MISSING, E_EMPTY_LABEL,
       E_NUL, E_STRAY, E_MEMORY };

/* The field at *pp (outside quotes): its content [*f0, *f1) (*esc: holds
 * doubled quotes); *pp moves to the delimiter, line end or end after it and
 * *lines counts the line ends inside quotes.  E_NONE or the error. */
static int field_at(const view *v, size_t *pp, size_t *f0, size_t *f1, int *esc, int *lines)
{
    const char *t = v->t;
    size_t p = *pp, len = v->len;
    while (p < len && blank(v, t[p]))
        p++;
    *esc = 0;
    if (p < len && t[p] == '"') {
        int nl = 0;
        *f0 = ++p;
        for (;;) {
            if (p >= len)
                return E_UNCLOSED;
            char c = t[p];
            if (c == '"') {
                if (p + 1 < len && t[p + 1] == '"') {
                    *esc = 1;
                    p += 2;
                    continue;
                }
                break;
            }
            if (c == '\n')
                nl++;
            else if (c == '\0')
                return E_NUL;
            p++;
        }
        *f1 = p++;
        *lines += nl;
        while (p < len && blank(v, t[p]))
            p++;
        *pp = p;
        if (p < len && t[p] != v->delim && t[p] != '\n' && t[p] != '\r')
            return E_AFTER_QUOTE;
        return E_NONE;
    }
    *f0 = p;
    while (p < len && t[p] != v->delim && t[p] != '\n' && t[p] != '\r') {
        if (t[p] == '"' && !v->stray_ok)
            return E_STRAY;
        if (t[p] == '\0')
            return E_NUL;
        p++;
    }
    size_t e = p;
    while (e > *f0 && blank(v, t[e - 1]))
        e--;
    *f1 = e;
    *pp = p;
    return E_NONE;
}

/* Past the delimiter (1) or the line end (0) at *pp. */
static int field_end(const view *v, size_t *pp, int *lines)
{
    size_t p = *pp;
    if (p < v->len && v->t[p] == v->delim) {
        *pp = p + 1;
        return 1;
    }
    if (p < v->len) {
        if (v->t[p] == '\r' && p + 1 < v->len && v->t[p + 1] == '\n')
            p++;
        p++;
        ++*lines;
    }
    *pp = p;
    return 0;
}

/* From p (outside quotes, at a line's start or a record's end), the start of
 * the next record: past blanks and line ends, counted into *lines. */
static size_t skip_blank_lines(const view *v, size_t p, int *lines)
{
    while (p < v->len) {
        int c = v->cls[(unsigned char)v->t[p]];
        if (c == C_LF || (c == C_CR && line_end_at(v, p)))
            ++*lines;
        else if (c != C_BLANK && c != C_CR)
            break;
        p++;
    }
    return p;
}

/* The content of a field, NUL-terminated, doubled quotes undone, in *buf. */
static const char *field_text(const view *v, size_t f0, size_t f1, int esc, char **buf,
                              size_t *cap)
{
    size_t n = f1 - f0;
    if (n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < n + 1)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return NULL;
        *buf = b;
        *cap = c;
    }
    char *w = *buf;
    for (size_t i = f0; i < f1; i++) {
        *w++ = v->t[i];
        if (esc && v->t[i] == '"')
            i++;
    }
    *w = '\0';
    return *buf;
}

int nnx_csv_is_missing(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '?') || (len == 2 && !strncasecmp(s, "na", 2))
        || (len == 3 && (!strncasecmp(s, "n/a", 3) || !strncasecmp(s, "nan", 3)));
}

int nnx_csv_class_id(double v)
{
    return v == floor(v) && fabs(v) <= 2e9;
}

/* --- the first record ------------------------------------------------------------ */

void nnx_csv_head_free(nnx_csv_head *h)
{
    for (size_t c = 0; h->field && c < h->ncol; c++)
        free(h->field[c]);
    free(h->field);
    memset(h, 0, sizeof *h);
}

const char *nnx_csv_col_name(const nnx_csv_head *h, int header, size_t col, char *buf, size_t len)
{
    if (header)
        snprintf(buf, len, "column %zu (\"%s\")", col + 1, h->field[col]);
    else
        snprintf(buf, len, "column %zu", col + 1);
    return buf;
}

/* The first record of v from p on, into h; h->body past its line end.
 * E_NONE, E_NUL/E_UNCLOSED/E_AFTER_QUOTE (*line where), E_MEMORY, or
 * E_RAGGED when there is no record. */
static int head_parse(const view *v, size_t p, nnx_csv_head *h, int *line)
{
    int lines = 0;
    p = skip_blank_lines(v, p, &lines);
    if (p >= v->len)
        return E_RAGGED;
    h->line = 1 + lines;
    size_t cap = 0;
    for (;;) {
        size_t f0, f1;
        int esc, e;
        *line = 1 + lines;
        if ((e = field_at(v, &p, &f0, &f1, &esc, &lines)) != E_NONE)
            return e;
        if (h->ncol == cap) {
            cap = cap ? cap * 2 : 16;
            char **f = realloc(h->field, cap * sizeof *f);
            if (!f)
                return E_MEMORY;
            h->field = f;
        }
        char *s = NULL;
        size_t sc = 0;
        if (!field_text(v, f0, f1, esc, &s, &sc)) {
            free(s);
            return E_MEMORY;
        }
        h->field[h->ncol++] = s;
        if (!field_end(v, &p, &lines))
            break;
    }
    h->body = p;
    h->body_line = 1 + lines;
    return E_NONE;
}

/* head_parse with a quote inside an unquoted field read as text (as the
 * one-block reader reads it). */
static int head_of(view *v, size_t p, nnx_csv_head *h, int *line)
{
    int e = head_parse(v, p, h, line);
    if (e == E_STRAY) {
        nnx_csv_head_free(h);
        v->stray_ok = 1;
        e = head_parse(v, p, h, line);
        v->stray_ok = 0;
    }
    return e;
}

static int head_error(int e, const char *path, int line, nnx_rt_error *err)
{
    switch (e) {
    case E_RAGGED:
        return nnx_rt_fail(err, "%s: empty file", path);
    case E_UNCLOSED:
        return nnx_rt_fail(err, "%s:%d: quoted field is never closed", path, line);
    case E_AFTER_QUOTE:
        return nnx_rt_fail(err, "%s:%d: text after a closing quote", path, line);
    case E_NUL:
        return nnx_rt_fail(err, "%s: not a text file (contains a NUL byte)", path);
    default:
        return nnx_rt_fail(err, "%s: out of memory", path);
    }
}

/* --- the source: a mapped file or a gzip stream -------------------------------- */

typedef struct source {
    const char *text;    /* mapped: the file; else NULL */
    size_t      len;
    gzFile      gz;      /* gzip: the stream */
    size_t      start;   /* 3 after a UTF-8 byte-order mark */
} source;

static void source_close(source *s)
{
    if (s->text)
        munmap((void *)s->text, s->len);
    if (s->gz)
        gzclose(s->gz);
    memset(s, 0, sizeof *s);
}

static size_t bom(const char *t, size_t len)
{
    const unsigned char *u = (const unsigned char *)t;
    return len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf ? 3 : 0;
}

static int source_open(source *s, const char *path, nnx_rt_error *err)
{
    memset(s, 0, sizeof *s);
    const char *what = nnx_file_not_regular(path);
    if (what)   /* a FIFO or /dev/zero may never end */
        return nnx_rt_fail(err, "%s: not a regular file (%s): data is read only from regular "
                           "files (or a gzip of one)", path, what);
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    unsigned char magic[2] = { 0, 0 };
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return nnx_rt_fail(err, "%s: cannot open: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return nnx_rt_fail(err, "%s: empty file", path);
    }
    if (pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        s->gz = gzdopen(fd, "rb");
        if (!s->gz) {
            close(fd);
            return nnx_rt_fail(err, "%s: out of memory", path);
        }
        gzbuffer(s->gz, 1 << 17);
        return 0;
    }
    void *p = (uintmax_t)st.st_size <= SIZE_MAX
            ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (p == MAP_FAILED)
        return nnx_rt_fail(err, "%s: cannot map: %s", path, strerror(errno));
    s->text = p;
    s->len = (size_t)st.st_size;
    s->start = bom(s->text, s->len);
    return 0;
}

/* Read up to want bytes of a gzip stream into buf: the count, or -1 with err. */
static long gz_fill(gzFile gz, char *buf, size_t want, const char *path, nnx_rt_error *err)
{
    size_t got = 0;
    while (got < want) {
        unsigned chunk = want - got > (1u << 30) ? 1u << 30 : (unsigned)(want - got);
        int r = gzread(gz, buf + got, chunk);
        if (r < 0) {
            int e;
            const char *m = gzerror(gz, &e);
            return nnx_rt_fail(err, "%s: corrupt gzip data: %s", path, m ? m : "read error");
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (long)got;
}

/* The whole inflated text of a gzip stream (the one-block reader's). */
static char *gz_all(gzFile gz, size_t *len, const char *path, nnx_rt_error *err)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            nnx_rt_fail(err, "%s: out of memory", path);
            return NULL;
        }
        long got = gz_fill(gz, buf + n, cap - n, path, err);
        if (got < 0) {
            free(buf);
            return NULL;
        }
        n += (size_t)got;
        if (n < cap)
            break;
        char *more = realloc(buf, cap * 2);
        if (!more)
            free(buf);
        buf = more;
        cap *= 2;
    }
    *len = n;
    return buf;
}

int nnx_csv_head_parse(nnx_csv_head *h, const char *text, size_t len, char delim,
                       const char *path, nnx_rt_error *err)
{
    memset(h, 0, sizeof *h);
    view v;
    view_init(&v, text, len, delim);
    int line = 1, e = head_of(&v, bom(text, len), h, &line);
    if (e != E_NONE) {
        nnx_csv_head_free(h);
        return head_error(e, path, line, err);
    }
    return 0;
}

int nnx_csv_head_read(nnx_csv_head *h, const char *path, char delim, nnx_rt_error *err)
{
    memset(h, 0, sizeof *h);
    source s;
    if (source_open(&s, path, err) < 0)
        return -1;
    view v;
    char *buf = NULL;
    int e = E_MEMORY, line = 1;
    if (s.text) {
        view_init(&v, s.text, s.len, delim);
        e = head_of(&v, s.start, h, &line);
    } else {
        /* inflate until the record is whole: an unclosed quote only at the end */
        size_t cap = 1 << 16, n = 0;
        for (;;) {
            char *more = realloc(buf, cap);
            if (!more)
                break;
            buf = more;
            long got = gz_fill(s.gz, buf + n, cap - n, path, err);
            if (got < 0) {
                free(buf);
                source_close(&s);
                return -1;
            }
            n += (size_t)got;
            size_t st = bom(buf, n);
            view_init(&v, buf, n, delim);
            nnx_csv_head_free(h);
            e = head_of(&v, st, h, &line);
            int whole = e == E_NONE && h->body < n;   /* its line end read */
            if (whole || n < cap || (e != E_NONE && e != E_UNCLOSED && e != E_RAGGED))
                break;
            cap *= 2;
        }
    }
    free(buf);
    source_close(&s);
    if (e != E_NONE) {
        nnx_csv_head_free(h);
        return head_error(e, path, line, err);
    }
    return 0;
}

/* --- blocks ------------------------------------------------------------------------ */

/* The category texts of a block: column, text (in pool), first row and line. */
typedef struct entry {
    uint32_t col, hash;
    size_t   off;
    int64_t  row;
    int      line;
} entry;

typedef struct dict {
    entry    *e;
    size_t    n, cap;
    uint32_t *slot;      /* open addressing: entry index + 1, 0 free */
    size_t    nslot;
    char     *pool;
    size_t    used, pcap;
} dict;

static void dict_free(dict *d)
{
    free(d->e);
    free(d->slot);
    free(d->pool);
    memset(d, 0, sizeof *d);
}

static uint32_t hash_text(const char *s, uint32_t col)
{
    uint32_t h = 2166136261u ^ col;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The block-local code of text s in column col: -1 when out of memory. */
static int32_t dict_code(dict *d, uint32_t col, const char *s, int64_t row, int line)
{
    if (d->n * 2 >= d->nslot) {
        size_t ns = d->nslot ? d->nslot * 2 : 64;
        uint32_t *sl = calloc(ns, sizeof *sl);
        if (!sl)
            return -1;
        for (size_t i = 0; i < d->n; i++) {
            size_t k = d->e[i].hash & (ns - 1);
            while (sl[k])
                k = (k + 1) & (ns - 1);
            sl[k] = (uint32_t)i + 1;
        }
        free(d->slot);
        d->slot = sl;
        d->nslot = ns;
    }
    uint32_t h = hash_text(s, col);
    size_t k = h & (d->nslot - 1);
    while (d->slot[k]) {
        entry *e = &d->e[d->slot[k] - 1];
        if (e->hash == h && e->col == col && !strcmp(d->pool + e->off, s))
            return (int32_t)(d->slot[k] - 1);
        k = (k + 1) & (d->nslot - 1);
    }
    size_t len = strlen(s) + 1;
    if (d->n == d->cap || d->n >= INT32_MAX) {
        size_t c = d->cap ? d->cap * 2 : 64;
        entry *ne = d->n < INT32_MAX ? realloc(d->e, c * sizeof *ne) : NULL;
        if (!ne)
            return -1;
        d->e = ne;
        d->cap = c;
    }
    if (d->used + len > d->pcap) {
        size_t c = d->pcap ? d->pcap : 4096;
        while (c < d->used + len)
            c *= 2;
        char *np = realloc(d->pool, c);
        if (!np)
            return -1;
        d->pool = np;
        d->pcap = c;
    }
    memcpy(d->pool + d->used, s, len);
    d->e[d->n] = (entry){ .col = col, .hash = h, .off = d->used, .row = row, .line = line };
    d->used += len;
    d->slot[k] = (uint32_t)d->n + 1;
    return (int32_t)d->n++;
}

typedef struct block {
    size_t   lo, hi;        /* mapped: its bytes of the file */
    char    *buf;           /* gzip: its own text, [0, hi); owned until parsed */
    size_t   quotes, recs[2];
    int      state;         /* quotes open at lo (mapped) */
    size_t   row0, n;       /* its rows */
    int      lines;         /* line ends from its first record to the next block's */
    float   *x;             /* where its rows go */
    double  *dx;            /* keep_double: the same as doubles */
    double  *val;
    uint32_t *loff;         /* label text offsets in text */
    int      own;           /* x, val, loff are its own chunk (gzip) */
    size_t   xbytes;        /* the chunk's size */
    size_t   idx;           /* its place among the blocks */
    char    *text;
    size_t   used, cap;
    dict     dict;
    uint8_t *has_missing, *has_text;
    int64_t  first_text, first_fraction;   /* local rows, -1: none */
    int      text_line, fraction_line;     /* local lines */
    int      done;          /* parsed (gzip) */
    /* the first error: its kind, line (local), column, fields, cell */
    int      err, err_line;
    size_t   err_col, err_nf;
    char     err_cell[128];
    char    *scratch;
    size_t   scap;
    nnx_csv_cell_err *cerr;  /* per column: its first bad cell (local row, line) */
    int64_t  bad_row;        /* the first row with a bad feature cell (-1: none), */
    size_t   bad_col;        /* and its bad cell of the lowest slot */
} block;

static void block_free(block *b)
{
    free(b->buf);
    if (b->own) {
        if (b->x)
            munmap(b->x, b->xbytes);   /* see chunk_alloc */
        free(b->val);
        free(b->dx);
    }
    free(b->loff);   /* always the block's own */
    free(b->text);
    dict_free(&b->dict);
    free(b->has_missing);
    free(b->has_text);
    free(b->scratch);
    free(b->cerr);
}

typedef struct job {
    nnx_csv_scan *s;
    view          v;          /* mapped: the whole file */
    block       **blk;
    size_t        nblk;
    atomic_long   first_err;  /* the lowest block with an error; LONG_MAX: none */
    atomic_int    stray;      /* a quote inside an unquoted field: read as one block */
    atomic_int    nul;
    int           file;       /* v is a file mapping (its pages may be dropped) */
    /* gzip: the blocks as the inflating thread hands them over */
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    size_t        produced, taken, parsed;
    int           eof;
    size_t        inflight;
    int           fail;       /* the producer failed (err filled) */
    nnx_rt_error *err;
    size_t        body;       /* gzip: offset of the body in the first block */
    source       *src;
} job;

static int keep_label(block *b, const char *f, size_t len, uint32_t *off)
{
    if (b->used + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->used + len + 1)
            cap *= 2;
        char *more = realloc(b->text, cap);
        if (!more)
            return -1;
        b->text = more;
        b->cap = cap;
    }
    if (b->used > UINT32_MAX)
        return -1;
    *off = (uint32_t)b->used;
    memcpy(b->text + b->used, f, len);
    b->text[b->used + len] = '\0';
    b->used += len + 1;
    return 0;
}

static int fail_at(block *b, int e, int line, size_t col, const char *cell, size_t len)
{
    b->err = e;
    b->err_line = line;
    b->err_col = col;
    if (len > sizeof b->err_cell - 1)
        len = sizeof b->err_cell - 1;
    if (cell)
        memcpy(b->err_cell, cell, len);
    b->err_cell[cell ? len : 0] = '\0';
    return -1;
}

/* A bad cell of local row r: kept when it is its column's first, or the
 * first of the block's rows (lowest slot within the row). */
static void bad_cell(const nnx_csv_scan *s, block *b, int kind, int line, size_t col,
                     const char *cell, size_t len, size_t r)
{
    nnx_csv_cell_err *e = &b->cerr[col];
    if (!e->kind) {
        e->kind = kind;
        e->line = line;
        e->row = (int64_t)r;
        if (len > sizeof e->cell - 1)
            len = sizeof e->cell - 1;
        if (cell)
            memcpy(e->cell, cell, len);
        e->cell[cell ? len : 0] = '\0';
    }
    if (s->kind[col] == NNX_COL_LABEL)
        return;
    if (b->bad_row < 0 || (b->bad_row == (int64_t)r && s->slot[col] < s->slot[b->bad_col])) {
        b->bad_row = (int64_t)r;
        b->bad_col = col;
    }
}

/* Parse the record at *pp (outside quotes, at a non-blank byte) into local
 * row r on local line *line; *pp moves past its line end.  0, or -1 with
 * the block's error set. */
static int parse_record(job *j, const view *v, block *b, size_t *pp, size_t r, int *line)
{
    const nnx_csv_scan *s = j->s;
    const char *t = v->t;
    const size_t len = v->len;
    float *row = b->x + r * s->d;
    double *drow = b->dx ? b->dx + r * s->d : NULL;
    size_t p = *pp, col = 0;
    int rline = *line, lines = 0;
    for (;;) {
        int k = col < j->s->head->ncol ? s->kind[col] : NNX_COL_SKIP;
        if (k == NNX_COL_NUM) {
            size_t q0 = p;
            while (q0 < len && blank(v, t[q0]))
                q0++;
            if (q0 < len && t[q0] != '"') {
                /* a number cell: read as far as the number goes, then the
                 * field must end there (else the whole field decides below) */
                double x;
                const char *q = nnx_num_scan(t + q0, t + len, &x);
                if (q) {
                    size_t e = (size_t)(q - t);
                    while (e < len && blank(v, t[e]))
                        e++;
                    if ((e == len || t[e] == v->delim || t[e] == '\n' || t[e] == '\r')
                        && x <= 3.4e38 && x >= -3.4e38) {
                        row[s->slot[col]] = (float)x;
                        if (drow)
                            drow[s->slot[col]] = x;
                        p = e;
                        goto next_field;
                    }
                }
            }
        }
        size_t f0, f1;
        int esc, e = field_at(v, &p, &f0, &f1, &esc, &lines);
        if (e != E_NONE) {
            if (e == E_STRAY)
                atomic_store(&j->stray, 1);
            return fail_at(b, e, e == E_UNCLOSED ? rline + lines : rline + lines, col, NULL, 0);
        }
        if (col >= j->s->head->ncol || k == NNX_COL_SKIP)
            goto next_field;
        const char *cell = esc ? field_text(v, f0, f1, 1, &b->scratch, &b->scap) : t + f0;
        size_t clen = esc ? strlen(cell) : f1 - f0;
        if (!cell)
            return fail_at(b, E_MEMORY, rline, col, NULL, 0);
        if (k == NNX_COL_LABEL) {
            double x;
            if (clen == 0) {
                bad_cell(s, b, NNX_CSV_EMPTY_LABEL, rline, col, NULL, 0, r);
                b->val[r] = NAN;
                b->loff[r] = 0;
                goto next_field;
            }
            int num = nnx_num_parse(cell, clen, &x) == 0 && isfinite(x);
            b->val[r] = num ? x : NAN;
            if (!num && b->first_text < 0) {
                b->first_text = (int64_t)r;
                b->text_line = rline;
            } else if (num && !nnx_csv_class_id(x) && b->first_fraction < 0) {
                b->first_fraction = (int64_t)r;
                b->fraction_line = rline;
            }
            if (keep_label(b, cell, clen, &b->loff[r]) < 0)
                return fail_at(b, E_MEMORY, rline, col, NULL, 0);
            goto next_field;
        }
        if (nnx_csv_is_missing(cell, clen)) {
            if (k == NNX_COL_NUM) {
                row[s->slot[col]] = NAN;
                if (drow)
                    drow[s->slot[col]] = NAN;
            } else {
                int32_t code = -1;
                memcpy(&row[s->slot[col]], &code, sizeof code);
            }
            if (!s->missing_ok)
                bad_cell(s, b, NNX_CSV_MISSING_CELL, rline, col, cell, clen, r);
            else
                b->has_missing[col] = 1;
            goto next_field;
        }
        if (k == NNX_COL_NUM) {
            double x;
            int num = nnx_num_parse(cell, clen, &x) == 0 && isfinite(x);
            if (num && x <= 3.4e38 && x >= -3.4e38) {
                row[s->slot[col]] = (float)x;
                if (drow)
                    drow[s->slot[col]] = x;
            } else if (s->text_ok) {   /* 1: text; 2: a number beyond float (not text) */
                b->has_text[col] |= num ? 2 : 1;
                row[s->slot[col]] = NAN;
                if (drow)
                    drow[s->slot[col]] = NAN;
            } else {
                bad_cell(s, b, NNX_CSV_TEXT_CELL, rline, col, cell, clen, r);
            }
            goto next_field;
        }
        /* a category: its text interned */
        if (!esc) {
            cell = field_text(v, f0, f1, 0, &b->scratch, &b->scap);
            if (!cell)
                return fail_at(b, E_MEMORY, rline, col, NULL, 0);
        }
        int32_t code = dict_code(&b->dict, (uint32_t)col, cell, (int64_t)r, rline);
        if (code < 0)
            return fail_at(b, E_MEMORY, rline, col, NULL, 0);
        memcpy(&row[s->slot[col]], &code, sizeof code);
    next_field:
        col++;
        if (!field_end(v, &p, &lines))
            break;
    }
    if (col != j->s->head->ncol) {
        b->err_nf = col;
        return fail_at(b, E_RAGGED, rline, col, NULL, 0);
    }
    *line += lines;
    *pp = p;
    return 0;
}

/* Walk the record at *pp without keeping it (the one-block count). */
static int skip_record(const view *v, size_t *pp, int *lines)
{
    for (;;) {
        size_t f0, f1;
        int esc, e = field_at(v, pp, &f0, &f1, &esc, lines);
        if (e != E_NONE)
            return e;
        if (!field_end(v, pp, lines))
            return E_NONE;
    }
}

/* Give back the pages of a mapping wholly inside [lo, hi): the file stays
 * in the page cache, but the process no longer counts it. */
static void drop_pages(const view *v, size_t lo, size_t hi)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t a = (lo + page - 1) / page * page, b = hi / page * page;
    if (b > a)
        madvise((char *)v->t + a, b - a, MADV_DONTNEED);
}

/* Map the pages of [lo, hi) at once; advice only. */
static void map_pages(const view *v, size_t lo, size_t hi)
{
#ifdef MADV_POPULATE_READ
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t a = lo / page * page;
    if (hi > a)
        madvise((char *)v->t + a, hi - a, MADV_POPULATE_READ);
#else
    (void)v;
    (void)lo;
    (void)hi;
#endif
}

/* Only blanks lie between the last line end (or body) and lo. */
static int at_line_start(const view *v, size_t body, size_t lo)
{
    size_t i = lo;
    while (i > body && blank(v, v->t[i - 1]))
        i--;
    return i == body || line_end_at(v, i - 1);
}

/* Count the records starting in [lo, hi) for either quote state at lo. */
static void count_records(const view *v, size_t body, size_t lo, size_t hi, block *b,
                          atomic_int *nul)
{
    const char *t = v->t;
    size_t n0 = hi - lo;
    if (!memchr(t + lo, '"', n0) && !memchr(t + lo, '\r', n0) && !memchr(t + lo, '\0', n0)) {
        /* most blocks: lines that hold a non-blank byte, line end by line end */
        size_t recs = 0, p = lo;
        int ls = at_line_start(v, body, lo);
        while (p < hi) {
            if (ls) {
                while (p < hi && blank(v, t[p]))
                    p++;
                if (p >= hi)
                    break;
                if (t[p] != '\n')
                    recs++;
            }
            const char *nl = memchr(t + p, '\n', hi - p);
            if (!nl)
                break;
            p = (size_t)(nl - t) + 1;
            ls = 1;
        }
        b->quotes = 0;
        b->recs[0] = recs;
        b->recs[1] = 0;
        return;
    }
    int ls[2] = { at_line_start(v, body, lo), 0 };
    size_t recs[2] = { 0, 0 }, quotes = 0;
    int q = 0;
    for (size_t i = lo; i < hi; i++) {
        switch (v->cls[(unsigned char)t[i]]) {
        case C_TEXT:
            recs[0] += (size_t)ls[0];
            recs[1] += (size_t)ls[1];
            ls[0] = ls[1] = 0;
            break;
        case C_QUOTE:
            recs[0] += (size_t)ls[0];
            recs[1] += (size_t)ls[1];
            ls[0] = ls[1] = 0;
            q ^= 1;
            quotes++;
            break;
        case C_LF:
            ls[q] = 1;   /* the state that is outside quotes here */
            break;
        case C_CR:
            if (i + 1 >= v->len || t[i + 1] != '\n')
                ls[q] = 1;
            break;
        case C_BLANK:
            break;
        default:
            atomic_store(nul, 1);
            break;
        }
    }
    b->quotes = quotes;
    b->recs[0] = recs[0];
    b->recs[1] = recs[1];
}

static void count_block(void *ctx, int unit, int tid)
{
    (void)tid;
    job *j = ctx;
    block *b = j->blk[unit];
    if (j->file)
        map_pages(&j->v, b->lo, b->hi);
    count_records(&j->v, j->blk[0]->lo, b->lo, b->hi, b, &j->nul);
    if (j->file)
        drop_pages(&j->v, b->lo, b->hi);
}

/* The first record start at or after a mapped block's start, given its state. */
static size_t first_start(const view *v, size_t body, const block *b)
{
    const char *t = v->t;
    int inq = b->state, ls = !inq && at_line_start(v, body, b->lo);
    for (size_t i = b->lo; i < v->len; i++) {
        int c = v->cls[(unsigned char)t[i]];
        if (inq) {
            inq = c != C_QUOTE;
            continue;
        }
        if ((c == C_TEXT || c == C_QUOTE) && ls)
            return i;
        if (c == C_QUOTE)
            inq = 1;
        else if (c == C_TEXT)
            ls = 0;
        else if (c == C_LF || (c == C_CR && line_end_at(v, i)))
            ls = 1;
    }
    return v->len;
}

static int block_scratch(block *b, size_t ncol)
{
    b->first_text = b->first_fraction = -1;
    b->bad_row = -1;
    b->has_missing = calloc(ncol ? ncol : 1, 1);
    b->has_text = calloc(ncol ? ncol : 1, 1);
    b->cerr = calloc(ncol ? ncol : 1, sizeof *b->cerr);
    return b->has_missing && b->has_text && b->cerr ? 0 : -1;
}

/* Parse b's b->n records of v from p (its first record start, or where
 * blank lines before it begin) into its rows. */
static void parse_records(job *j, const view *v, block *b, size_t p, int mapped)
{
    if (block_scratch(b, j->s->head->ncol) < 0) {
        fail_at(b, E_MEMORY, 0, 0, NULL, 0);
        return;
    }
    int line = 0;
    p = skip_blank_lines(v, p, &line);
    for (size_t k = 0; k < b->n; k++) {
        if (atomic_load(&j->first_err) < (long)b->idx)
            return;   /* an earlier block failed: this one does not matter */
        if (p >= v->len) {
            fail_at(b, E_MEMORY, line, 0, NULL, 0);   /* cannot happen: counted */
            return;
        }
        if (parse_record(j, v, b, &p, k, &line) < 0)
            return;
        p = skip_blank_lines(v, p, &line);
        if (mapped && (k & 1023) == 1023)
            drop_pages(v, b->lo, p < b->hi ? p : b->hi);
    }
    b->lines = line;
}

/* Record that block index i failed. */
static void note_error(job *j, size_t i)
{
    long cur = atomic_load(&j->first_err);
    while ((long)i < cur && !atomic_compare_exchange_weak(&j->first_err, &cur, (long)i))
        ;
}

static void parse_block(void *ctx, int unit, int tid)
{
    (void)tid;
    job *j = ctx;
    block *b = j->blk[unit];
    /* block 0 counts the blank lines before the first record, even when
     * none starts in it */
    if ((b->n == 0 && unit != 0) || atomic_load(&j->first_err) < unit || atomic_load(&j->stray))
        return;
    if (j->file)
        map_pages(&j->v, b->lo, b->hi);
    size_t p = unit == 0 ? b->lo : first_start(&j->v, j->blk[0]->lo, b);
    parse_records(j, &j->v, b, p, j->file);
    if (b->err)
        note_error(j, (size_t)unit);
    if (j->file)
        drop_pages(&j->v, b->lo, b->hi);
}

/* --- results ------------------------------------------------------------------------ */

/* No results: what a scan starts from and what freeing leaves. */
static void clear_results(nnx_csv_scan *s)
{
    s->x = NULL;
    s->dx = NULL;
    s->val = NULL;
    s->lab = NULL;
    s->text = NULL;
    s->has_missing = s->has_text = NULL;
    s->cat = NULL;
    s->n = 0;
}

void nnx_csv_scan_free(nnx_csv_scan *s)
{
    free(s->x);
    free(s->dx);
    free(s->val);
    free(s->lab);
    free(s->text);
    free(s->has_missing);
    free(s->has_text);
    free(s->col_err);
    s->col_err = NULL;
    for (size_t c = 0; s->cat && c < s->head->ncol; c++) {
        for (int32_t k = 0; k < s->cat[c].n; k++)
            free(s->cat[c].v[k]);
        free(s->cat[c].v);
        free(s->cat[c].row);
        free(s->cat[c].line);
    }
    free(s->cat);
    clear_results(s);
}

static int online_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* The message of an error of kind e (E_*) on line, column col. */
static int format_error(const nnx_csv_scan *s, int e, int line, size_t col, size_t nf,
                        const char *cell, nnx_rt_error *err)
{
    char where[300] = "";
    const char *path = s->path;
    if (e == E_EMPTY_LABEL || e == E_MISSING || e == E_NOT_NUMBER)
        nnx_csv_col_name(s->head, s->header, col, where, sizeof where);
    switch (e) {
    case E_RAGGED:
        return nnx_rt_fail(err, "%s:%d: ragged row: %zu fields, expected %zu (as on line %d)",
                           path, line, nf, s->head->ncol, s->head->line);
    case E_UNCLOSED:
        return nnx_rt_fail(err, "%s:%d: quoted field is never closed", path, line);
    case E_AFTER_QUOTE:
        return nnx_rt_fail(err, "%s:%d: text after a closing quote", path, line);
    case E_NUL:
        return nnx_rt_fail(err, "%s: not a text file (contains a NUL byte)", path);
    case E_EMPTY_LABEL:
        return nnx_rt_fail(err, "%s:%d: %s: empty label", path, line, where);
    case E_MISSING:
        if (cell[0])
            return nnx_rt_fail(err, "%s:%d: %s: \"%s\" is a missing value; set missing = mean, "
                               "median or zero in csv(...) to fill such cells", path, line, where,
                               cell);
        return nnx_rt_fail(err, "%s:%d: %s: empty cell; set missing = mean, median or zero in "
                           "csv(...) to fill such cells", path, line, where);
    case E_NOT_NUMBER:
        if (s->header)
            return nnx_rt_fail(err, "%s:%d: %s: \"%s\" is not a number; add categorical = "
                               "[\"%s\"] to csv(...) to one-hot encode the column", path, line,
                               where, cell, s->head->field[col]);
        return nnx_rt_fail(err, "%s:%d: %s: \"%s\" is not a number; categorical = auto in "
                           "csv(...) one-hot encodes the text columns", path, line, where, cell);
    default:
        return nnx_rt_fail(err, "%s: out of memory", path);
    }
}

/* The error of block b, whose first line is line0. */
static int block_error(const nnx_csv_scan *s, const block *b, int line0, nnx_rt_error *err)
{
    return format_error(s, b->err, line0 + b->err_line, b->err_col, b->err_nf, b->err_cell, err);
}

int nnx_csv_cell_error(const nnx_csv_scan *s, size_t col, nnx_rt_error *err)
{
    const nnx_csv_cell_err *e = &s->col_err[col];
    int kind = e->kind == NNX_CSV_MISSING_CELL ? E_MISSING
             : e->kind == NNX_CSV_TEXT_CELL    ? E_NOT_NUMBER : E_EMPTY_LABEL;
    return format_error(s, kind, e->line, col, 0, e->cell, err);
}

typedef struct cat_ref {
    const char *s;
    size_t      blk;
    int32_t     local;
    int64_t     row;
    int         line;
} cat_ref;

static int cmp_ref(const void *a, const void *b)
{
    const cat_ref *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    if (c)
        return c;
    return (x->row > y->row) - (x->row < y->row);
}

/* Join the blocks' results: lines, first label rows, column flags, the
 * category dictionaries (block codes turned into sorted indices), the
 * label texts.  The rows of x are in place.  0, or -1 with err. */
static int finish(job *j, const int *line0, nnx_rt_error *err)
{
    nnx_csv_scan *s = j->s;
    size_t ncol = s->head->ncol;
    s->first_text = s->first_fraction = -1;
    s->bad_col = -1;
    s->has_missing = calloc(ncol, 1);
    s->has_text = calloc(ncol, 1);
    s->cat = calloc(ncol, sizeof *s->cat);
    if (!s->has_missing || !s->has_text || !s->cat)
        return nnx_rt_fail(err, "%s: out of memory", s->path);
    for (size_t k = 0; k < j->nblk; k++) {
        block *b = j->blk[k];
        if (b->n == 0)
            continue;
        for (size_t c = 0; c < ncol; c++) {
            s->has_missing[c] |= b->has_missing[c];
            s->has_text[c] |= b->has_text[c];
        }
        if (s->first_text < 0 && b->first_text >= 0) {
            s->first_text = (int64_t)b->row0 + b->first_text;
            s->text_line = line0[k] + b->text_line;
        }
        if (s->first_fraction < 0 && b->first_fraction >= 0) {
            s->first_fraction = (int64_t)b->row0 + b->first_fraction;
            s->fraction_line = line0[k] + b->fraction_line;
        }
        for (size_t c = 0; c < ncol; c++) {
            if (!b->cerr[c].kind)
                continue;
            if (!s->col_err && !(s->col_err = calloc(ncol, sizeof *s->col_err)))
                return nnx_rt_fail(err, "%s: out of memory", s->path);
            if (!s->col_err[c].kind) {
                s->col_err[c] = b->cerr[c];
                s->col_err[c].line += line0[k];
                s->col_err[c].row += (int64_t)b->row0;
            }
        }
        if (s->bad_col < 0 && b->bad_row >= 0)
            s->bad_col = (long)b->bad_col;
    }
    /* categories */
    size_t total = 0;
    for (size_t k = 0; k < j->nblk; k++)
        total += j->blk[k]->dict.n;
    if (total) {
        cat_ref *ref = malloc(total * sizeof *ref);
        int32_t **map = calloc(j->nblk, sizeof *map);
        int rc = ref && map ? 0 : -1;
        for (size_t k = 0; rc == 0 && k < j->nblk; k++)
            if (j->blk[k]->dict.n && !(map[k] = malloc(j->blk[k]->dict.n * sizeof **map)))
                rc = -1;
        for (size_t c = 0; rc == 0 && c < ncol; c++) {
            if (s->kind[c] != NNX_COL_CAT)
                continue;
            size_t m = 0;
            for (size_t k = 0; k < j->nblk; k++) {
                dict *d = &j->blk[k]->dict;
                for (size_t i = 0; i < d->n; i++)
                    if (d->e[i].col == c)
                        ref[m++] = (cat_ref){ d->pool + d->e[i].off, k, (int32_t)i,
                                              (int64_t)j->blk[k]->row0 + d->e[i].row,
                                              line0[k] + d->e[i].line };
            }
            qsort(ref, m, sizeof *ref, cmp_ref);
            nnx_csv_cats *ct = &s->cat[c];
            size_t u = 0;
            for (size_t i = 0; i < m; i++)
                u += i == 0 || strcmp(ref[i].s, ref[i - 1].s) != 0;
            if (u > INT32_MAX / 2)
                return nnx_rt_fail(err, "%s: column %zu has %zu categories", s->path, c + 1, u);
            ct->v = calloc(u ? u : 1, sizeof *ct->v);
            ct->row = malloc((u ? u : 1) * sizeof *ct->row);
            ct->line = malloc((u ? u : 1) * sizeof *ct->line);
            if (!ct->v || !ct->row || !ct->line) {
                rc = -1;
                break;
            }
            int32_t g = -1;
            for (size_t i = 0; i < m && rc == 0; i++) {
                if (i == 0 || strcmp(ref[i].s, ref[i - 1].s) != 0) {
                    g++;
                    if (!(ct->v[g] = strdup(ref[i].s)))
                        rc = -1;
                    ct->row[g] = ref[i].row;
                    ct->line[g] = ref[i].line;
                    ct->n = g + 1;
                }
                map[ref[i].blk][ref[i].local] = g;
            }
        }
        /* block codes → sorted indices */
        for (size_t k = 0; rc == 0 && k < j->nblk; k++) {
            block *b = j->blk[k];
            if (!b->dict.n)
                continue;
            for (size_t r = 0; r < b->n; r++)
                for (size_t c = 0; c < ncol; c++)
                    if (s->kind[c] == NNX_COL_CAT) {
                        float *cell = &b->x[r * s->d + (size_t)s->slot[c]];
                        int32_t code;
                        memcpy(&code, cell, sizeof code);
                        if (code >= 0 && (size_t)code < b->dict.n) {
                            code = map[k][code];
                            memcpy(cell, &code, sizeof code);
                        }
                    }
        }
        for (size_t k = 0; map && k < j->nblk; k++)
            free(map[k]);
        free(map);
        free(ref);
        if (rc < 0)
            return nnx_rt_fail(err, "%s: out of memory for categories", s->path);
    }
    return 0;
}

/* The label texts joined once, in row order. */
static int join_labels(job *j, nnx_rt_error *err)
{
    nnx_csv_scan *s = j->s;
    size_t total = 0;
    for (size_t k = 0; k < j->nblk; k++)
        total += j->blk[k]->used;
    s->text = malloc(total ? total : 1);
    if (!s->text)
        return nnx_rt_fail(err, "%s: out of memory for labels", s->path);
    size_t at = 0;
    for (size_t k = 0; k < j->nblk; k++) {
        block *b = j->blk[k];
        if (b->used)
            memcpy(s->text + at, b->text, b->used);
        for (size_t r = 0; r < b->n; r++)
            s->lab[b->row0 + r] = s->text + at + b->loff[r];
        at += b->used;
        free(b->text);
        b->text = NULL;
    }
    return 0;
}

static int has_label(const nnx_csv_scan *s)
{
    for (size_t c = 0; c < s->head->ncol; c++)
        if (s->kind[c] == NNX_COL_LABEL)
            return 1;
    return 0;
}

/* The line each block's first record starts on, and the first error. */
static int block_lines(job *j, int **line0p, nnx_rt_error *err)
{
    int *line0 = malloc((j->nblk ? j->nblk : 1) * sizeof *line0);
    if (!line0)
        return nnx_rt_fail(err, "%s: out of memory", j->s->path);
    int line = j->s->header ? j->s->head->body_line : 1;
    for (size_t k = 0; k < j->nblk; k++) {
        line0[k] = line;
        if (j->blk[k]->err) {
            int rc = block_error(j->s, j->blk[k], line, err);
            free(line0);
            return rc;
        }
        line += j->blk[k]->lines;
    }
    *line0p = line0;
    return 0;
}

/* Allocate the full outputs for rows rows. */
static int alloc_outputs(nnx_csv_scan *s, size_t rows, int prefault, nnx_rt_error *err)
{
    size_t d = s->d ? s->d : 1;
    if (rows > INT32_MAX || rows > SIZE_MAX / sizeof(float) / d)
        return nnx_rt_fail(err, "%s: too large (%zu rows of %zu features)", s->path, rows, s->d);
    s->x = malloc((rows ? rows : 1) * d * sizeof *s->x);
    if (s->x && prefault)   /* not for a join: the chunks go as its pages come */
        nnx_table_prefault(s->x, rows * d * sizeof *s->x);
    if (s->keep_double && !(s->dx = malloc((rows ? rows : 1) * d * sizeof *s->dx)))
        return nnx_rt_fail(err, "%s: out of memory for %zu rows of %zu features", s->path, rows,
                           s->d);
    if (has_label(s)) {
        s->val = malloc((rows ? rows : 1) * sizeof *s->val);
        s->lab = malloc((rows ? rows : 1) * sizeof *s->lab);
    }
    if (!s->x || (has_label(s) && (!s->val || !s->lab)))
        return nnx_rt_fail(err, "%s: out of memory for %zu rows of %zu features", s->path, rows,
                           s->d);
    s->n = rows;
    return 0;
}

static void free_blocks(job *j)
{
    for (size_t k = 0; k < j->nblk; k++)
        if (j->blk[k]) {
            block_free(j->blk[k]);
            free(j->blk[k]);
        }
    free(j->blk);
    j->blk = NULL;
    j->nblk = 0;
}

/* A mapped text (or one in memory) from body on, in blocks of bs bytes
 * (one block: the tokenizer's own state decides every record). */
static int run_mapped(nnx_csv_scan *s, const char *text, size_t len, size_t body, size_t bs,
                      int one, int file, nnx_rt_error *err)
{
    job j = { .s = s, .file = file };
    atomic_init(&j.first_err, LONG_MAX);
    atomic_init(&j.stray, 0);
    atomic_init(&j.nul, 0);
    view_init(&j.v, text, len, s->delim);
    j.v.stray_ok = one;
    if (body > len)
        body = len;
    size_t nblk = one ? 1 : (len - body + bs - 1) / bs;
    if (nblk == 0)
        nblk = 1;
    if (nblk > INT32_MAX)
        return nnx_rt_fail(err, "%s: too large", s->path);
    int threads = s->threads > 0 ? s->threads : online_threads();
    if ((size_t)threads > nblk)
        threads = (int)nblk;
    j.blk = calloc(nblk, sizeof *j.blk);
    int rc = -1;
    nnx_team *team = NULL;
    int *line0 = NULL;
    if (!j.blk) {
        nnx_rt_fail(err, "%s: out of memory", s->path);
        goto done;
    }
    j.nblk = nblk;
    for (size_t k = 0; k < nblk; k++) {
        if (!(j.blk[k] = calloc(1, sizeof **j.blk))) {
            nnx_rt_fail(err, "%s: out of memory", s->path);
            goto done;
        }
        j.blk[k]->idx = k;
        j.blk[k]->lo = body + k * bs;
        j.blk[k]->hi = one || k + 1 == nblk ? len : body + (k + 1) * bs;
    }
    if (threads > 1 && !(team = nnx_team_new(threads, err)))
        goto done;
    size_t rows = 0;
    if (one) {
        if (memchr(text + body, '\0', len - body)) {
            nnx_rt_fail(err, "%s: not a text file (contains a NUL byte)", s->path);
            goto done;
        }
        /* count the records by walking them */
        int lines = 0;
        size_t p = skip_blank_lines(&j.v, body, &lines);
        while (p < len) {
            rows++;
            if (skip_record(&j.v, &p, &lines) != E_NONE)
                break;
            p = skip_blank_lines(&j.v, p, &lines);
        }
        j.blk[0]->n = rows;
    } else {
        nnx_team_run(team, (int)nblk, count_block, &j);
        if (atomic_load(&j.nul)) {
            nnx_rt_fail(err, "%s: not a text file (contains a NUL byte)", s->path);
            goto done;
        }
        /* Each block's true state is the parity of the quotes before it;
         * its records follow those of the blocks before it. */
        int state = 0;
        for (size_t k = 0; k < nblk; k++) {
            j.blk[k]->state = state;
            j.blk[k]->row0 = rows;
            j.blk[k]->n = j.blk[k]->recs[state];
            rows += j.blk[k]->n;
            state ^= (int)(j.blk[k]->quotes & 1);
        }
    }
    if (alloc_outputs(s, rows, 1, err) < 0)
        goto done;
    for (size_t k = 0; k < nblk; k++) {
        block *b = j.blk[k];
        b->x = s->x + b->row0 * s->d;
        if (s->dx)
            b->dx = s->dx + b->row0 * s->d;
        if (s->val) {
            b->val = s->val + b->row0;
            if (b->n && !(b->loff = malloc(b->n * sizeof *b->loff))) {
                nnx_rt_fail(err, "%s: out of memory", s->path);
                goto done;
            }
        }
    }
    nnx_team_run(team, (int)nblk, parse_block, &j);
    if (atomic_load(&j.stray)) {
        rc = 1;   /* read again as one block */
        goto done;
    }
    if (block_lines(&j, &line0, err) < 0 || finish(&j, line0, err) < 0)
        goto done;
    if (s->val && join_labels(&j, err) < 0)
        goto done;
    rc = 0;
done:
    nnx_team_free(team);
    free(line0);
    free_blocks(&j);
    return rc;
}

/* --- gzip: one thread inflates, the others parse ------------------------------- */

/* A chunk of its own for a block's rows: mapped anonymously so that it goes
 * back to the system the moment it is joined (malloc might keep it). */
static float *chunk_alloc(size_t bytes)
{
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Where the last record of buf[0..n) that quote parity says is whole ends
 * (past its line end), or 0 when none is. */
static size_t last_cut(const view *v, size_t from, size_t n)
{
    const char *t = v->t;
    if (!memchr(t + from, '"', n - from)) {
        for (size_t i = n; i > from; i--) {
            char c = t[i - 1];
            if (c == '\n' || (c == '\r' && i < n && t[i] != '\n'))
                return i;
        }
        return 0;
    }
    size_t cut = 0;
    int q = 0;
    for (size_t i = from; i < n; i++) {
        char c = t[i];
        if (c == '"')
            q ^= 1;
        else if (!q && (c == '\n' || (c == '\r' && i + 1 < n && t[i + 1] != '\n')))
            cut = i + 1;
    }
    return cut;
}

static void gz_parse_one(job *j, block *b, size_t idx)
{
    nnx_csv_scan *s = j->s;
    view v;
    view_init(&v, b->buf, b->hi, s->delim);
    size_t p = idx == 0 ? j->body : 0;
    if (memchr(b->buf, '\0', b->hi)) {
        fail_at(b, E_NUL, 0, 0, NULL, 0);
        return;
    }
    block cnt = { 0 };
    atomic_int nul;
    atomic_init(&nul, 0);
    count_records(&v, p, p, b->hi, &cnt, &nul);
    b->n = cnt.recs[0];
    if (b->n) {
        b->own = 1;
        b->xbytes = b->n * (s->d ? s->d : 1) * sizeof(float);
        b->x = chunk_alloc(b->xbytes);
        if (s->keep_double && !(b->dx = malloc(b->n * (s->d ? s->d : 1) * sizeof *b->dx))) {
            fail_at(b, E_MEMORY, 0, 0, NULL, 0);
            return;
        }
        if (has_label(s)) {
            b->val = malloc(b->n * sizeof *b->val);
            b->loff = malloc(b->n * sizeof *b->loff);
        }
        if (!b->x || (has_label(s) && (!b->val || !b->loff))) {
            fail_at(b, E_MEMORY, 0, 0, NULL, 0);
            return;
        }
    }
    b->lo = 0;
    parse_records(j, &v, b, p, 0);
}

/* A worker: take the next block, parse it, until the producer is done. */
static void gz_worker(void *ctx, int unit, int tid)
{
    (void)unit;
    (void)tid;
    job *j = ctx;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        while (j->taken == j->produced && !j->eof)
            pthread_cond_wait(&j->cv, &j->mu);
        if (j->taken == j->produced) {
            pthread_mutex_unlock(&j->mu);
            return;
        }
        size_t idx = j->taken++;
        block *b = j->blk[idx];
        pthread_mutex_unlock(&j->mu);
        if (!atomic_load(&j->stray) && atomic_load(&j->first_err) > (long)idx)
            gz_parse_one(j, b, idx);
        if (b->err)
            note_error(j, idx);
        free(b->buf);
        b->buf = NULL;
        pthread_mutex_lock(&j->mu);
        b->done = 1;
        j->parsed++;
        j->inflight--;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
}

/* Hand a block to the workers (waiting while too many are in flight). */
static int gz_push(job *j, char *buf, size_t len, size_t limit)
{
    block *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    b->buf = buf;
    b->hi = len;
    pthread_mutex_lock(&j->mu);
    while (j->inflight >= limit)
        pthread_cond_wait(&j->cv, &j->mu);
    block **more = realloc(j->blk, (j->nblk + 1) * sizeof *more);
    if (!more) {
        pthread_mutex_unlock(&j->mu);
        free(b);
        return -1;
    }
    j->blk = more;
    b->idx = j->nblk;
    j->blk[j->nblk++] = b;
    j->produced++;
    j->inflight++;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return 0;
}

typedef struct producer {
    job   *j;
    size_t bs, limit;
    nnx_rt_error err;
    int    rc;
} producer;

/* Inflate the stream into blocks cut after a whole record. */
static void *gz_produce(void *arg)
{
    producer *pr = arg;
    job *j = pr->j;
    nnx_csv_scan *s = j->s;
    char *carry = NULL;
    size_t ncarry = 0, idx = 0;
    pr->rc = 0;
    for (;;) {
        if (atomic_load(&j->stray) || atomic_load(&j->first_err) != LONG_MAX)
            break;
        size_t cap = pr->bs + ncarry;
        char *buf = malloc(cap);
        if (!buf) {
            pr->rc = nnx_rt_fail(&pr->err, "%s: out of memory", s->path);
            break;
        }
        if (ncarry)
            memcpy(buf, carry, ncarry);
        free(carry);
        carry = NULL;
        size_t n = ncarry;
        ncarry = 0;
        long got = gz_fill(j->src->gz, buf + n, cap - n, s->path, &pr->err);
        if (got < 0) {
            free(buf);
            pr->rc = -1;
            break;
        }
        n += (size_t)got;
        int end = n < cap;
        size_t from = 0;
        if (idx == 0) {   /* the first block: the body begins after the header */
            size_t st = bom(buf, n), hb = st;
            if (s->header) {
                view hv;
                view_init(&hv, buf, n, s->delim);
                hv.stray_ok = 1;
                nnx_csv_head h = { 0 };
                int hl, e = head_parse(&hv, st, &h, &hl);
                hb = h.body;
                nnx_csv_head_free(&h);
                if (!end && (e != E_NONE || hb >= n)) {   /* the header goes on: read more */
                    carry = buf;
                    ncarry = n;
                    pr->bs *= 2;
                    continue;
                }
                if (e != E_NONE) {
                    free(buf);
                    pr->rc = nnx_rt_fail(&pr->err, "%s: the header could not be read again",
                                         s->path);
                    break;
                }
            }
            j->body = hb;
            from = hb;
        }
        size_t cut = n;
        if (!end) {
            view cv;
            view_init(&cv, buf, n, s->delim);
            cut = last_cut(&cv, from, n);
            if (cut == 0) {   /* a record longer than the block: read more */
                carry = buf;
                ncarry = n;
                pr->bs *= 2;
                continue;
            }
        }
        if (cut < n) {
            ncarry = n - cut;
            carry = malloc(ncarry);
            if (!carry) {
                free(buf);
                pr->rc = nnx_rt_fail(&pr->err, "%s: out of memory", s->path);
                break;
            }
            memcpy(carry, buf + cut, ncarry);
        }
        if (gz_push(j, buf, cut, pr->limit) < 0) {
            free(buf);
            pr->rc = nnx_rt_fail(&pr->err, "%s: out of memory", s->path);
            break;
        }
        idx++;
        if (end)
            break;
    }
    free(carry);
    pthread_mutex_lock(&j->mu);
    j->eof = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

static int run_gzip(nnx_csv_scan *s, source *src, size_t bs, nnx_rt_error *err)
{
    job j = { .s = s, .src = src };
    atomic_init(&j.first_err, LONG_MAX);
    atomic_init(&j.stray, 0);
    atomic_init(&j.nul, 0);
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    int threads = s->threads > 0 ? s->threads : online_threads();
    producer pr = { .j = &j, .bs = bs, .limit = (size_t)threads * 2 + 1 };
    nnx_team *team = threads > 1 ? nnx_team_new(threads, err) : NULL;
    int rc = -1, *line0 = NULL;
    pthread_t th;
    if (threads > 1 && !team)
        goto done;
    if (pthread_create(&th, NULL, gz_produce, &pr) != 0) {
        nnx_rt_fail(err, "%s: cannot start a thread", s->path);
        goto done;
    }
    nnx_team_run(team, threads, gz_worker, &j);
    pthread_join(th, NULL);
    if (atomic_load(&j.stray)) {
        rc = 1;
        goto done;
    }
    if (block_lines(&j, &line0, err) < 0)
        goto done;
    if (pr.rc < 0) {
        *err = pr.err;
        goto done;
    }
    /* the chunks joined once, each given back as it is copied */
    size_t rows = 0;
    for (size_t k = 0; k < j.nblk; k++) {
        j.blk[k]->row0 = rows;
        rows += j.blk[k]->n;
    }
    if (finish(&j, line0, err) < 0 || alloc_outputs(s, rows, 0, err) < 0)
        goto done;
    for (size_t k = 0; k < j.nblk; k++) {
        block *b = j.blk[k];
        if (!b->n)
            continue;
        memcpy(s->x + b->row0 * s->d, b->x, b->n * s->d * sizeof(float));
        munmap(b->x, b->xbytes);
        b->x = NULL;
        if (s->val)
            memcpy(s->val + b->row0, b->val, b->n * sizeof *s->val);
        if (s->dx) {
            memcpy(s->dx + b->row0 * s->d, b->dx, b->n * s->d * sizeof *s->dx);
            free(b->dx);
            b->dx = NULL;
        }
    }
    if (s->val && join_labels(&j, err) < 0)
        goto done;
    rc = 0;
done:
    nnx_team_free(team);
    free(line0);
    free_blocks(&j);
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
    return rc;
}

int nnx_csv_scan_run(nnx_csv_scan *s, nnx_rt_error *err)
{
    clear_results(s);
    s->gz = 0;
    size_t bs = s->block ? s->block : DEFAULT_BLOCK;
    if (s->mem) {
        size_t body = s->header ? s->head->body : bom(s->mem, s->mem_len);
        int rc = run_mapped(s, s->mem, s->mem_len, body, bs, s->block == SIZE_MAX, 0, err);
        if (rc == 1) {
            nnx_csv_scan_free(s);
            rc = run_mapped(s, s->mem, s->mem_len, body, bs, 1, 0, err);
        }
        if (rc != 0)
            nnx_csv_scan_free(s);
        return rc == 0 ? 0 : -1;
    }
    source src;
    if (source_open(&src, s->path, err) < 0)
        return -1;
    int rc;
    if (src.text) {
        size_t body = s->header ? s->head->body : src.start;
        rc = run_mapped(s, src.text, src.len, body, bs, s->block == SIZE_MAX, 1, err);
        if (rc == 1) {
            nnx_csv_scan_free(s);
            rc = run_mapped(s, src.text, src.len, body, bs, 1, 1, err);
        }
    } else {
        s->gz = 1;
        rc = run_gzip(s, &src, bs < 64 ? 64 : bs, err);
        if (rc == 1) {   /* inflated whole, read as one block */
            nnx_csv_scan_free(s);
            source_close(&src);
            size_t len;
            char *all = source_open(&src, s->path, err) < 0 ? NULL
                                                            : gz_all(src.gz, &len, s->path, err);
            rc = -1;
            if (all) {
                view hv;
                view_init(&hv, all, len, s->delim);
                hv.stray_ok = 1;
                nnx_csv_head h = { 0 };
                int hl;
                size_t st = bom(all, len);
                if (!s->header || head_parse(&hv, st, &h, &hl) == E_NONE)
                    rc = run_mapped(s, all, len, s->header ? h.body : st, len + 1, 1, 0, err);
                else
                    rc = nnx_rt_fail(err, "%s: the header could not be read again", s->path);
                nnx_csv_head_free(&h);
                free(all);
            }
        }
    }
    source_close(&src);
    if (rc != 0) {
        nnx_csv_scan_free(s);
        return -1;
    }
    return 0;
}
