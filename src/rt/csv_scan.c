/* csv_scan.c — the parallel reader of a numeric table (see csv_scan.h). */
#define _DEFAULT_SOURCE   /* madvise */
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/rt/data.h"
#include "rt/csv_scan.h"
#include "rt/num_parse.h"
#include "rt/team.h"

#define DEFAULT_BLOCK ((size_t)4 << 20)

int nnx_csv_map_open(nnx_csv_map *m, const char *path)
{
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY | O_NONBLOCK);   /* a FIFO must not block the open */
    if (fd < 0)
        return NNX_SCAN_GENERAL;
    struct stat st;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0
        && (uintmax_t)st.st_size <= SIZE_MAX)
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return NNX_SCAN_GENERAL;
    m->text = p;
    m->len = (size_t)st.st_size;
    const unsigned char *u = p;
    if (m->len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
        m->start = 3;
    return 0;
}

void nnx_csv_unmap(nnx_csv_map *m)
{
    if (m->text)
        munmap((void *)m->text, m->len);
    memset(m, 0, sizeof *m);
}

/* Give back the pages wholly inside [lo, hi): the file stays in the page
 * cache, but the process no longer counts it (a table of 10 GB is read
 * through a window, not held). */
static void drop_pages(const nnx_csv_map *m, size_t lo, size_t hi)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t a = (lo + page - 1) / page * page, b = hi / page * page;
    if (b > a)
        madvise((char *)m->text + a, b - a, MADV_DONTNEED);
}

/* Map the pages of [lo, hi) at once (one system call, not a fault per few
 * pages); advice only. */
static void map_pages(const nnx_csv_map *m, size_t lo, size_t hi)
{
#ifdef MADV_POPULATE_READ
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t a = lo / page * page;
    if (hi > a)
        madvise((char *)m->text + a, hi - a, MADV_POPULATE_READ);
#else
    (void)m;
    (void)lo;
    (void)hi;
#endif
}

/* Byte classes of the boundary scan. */
enum { C_TEXT = 0, C_QUOTE, C_LF, C_CR, C_BLANK, C_NUL };

static void classes(unsigned char cls[256], char delim)
{
    memset(cls, C_TEXT, 256);
    cls['"'] = C_QUOTE;
    cls['\n'] = C_LF;
    cls['\r'] = C_CR;
    cls[' '] = C_BLANK;
    cls['\t'] = C_BLANK;
    cls[(unsigned char)delim] = C_TEXT;
    cls[0] = C_NUL;
}

/* A line ends at byte i: a LF, or a CR not followed by a LF. */
static int line_end_at(const nnx_csv_map *m, size_t i)
{
    return m->text[i] == '\n' || (m->text[i] == '\r' && (i + 1 >= m->len || m->text[i + 1] != '\n'));
}

int nnx_csv_first_record(const nnx_csv_map *m, char delim, size_t *end)
{
    unsigned char cls[256];
    classes(cls, delim);
    int inq = 0, started = 0;
    for (size_t i = m->start; i < m->len; i++) {
        int c = cls[(unsigned char)m->text[i]];
        if (c == C_NUL)
            return NNX_SCAN_GENERAL;
        if (c == C_QUOTE)
            inq ^= 1;
        if (c == C_TEXT || c == C_QUOTE)
            started = 1;
        else if (!inq && started && (c == C_LF || c == C_CR) && line_end_at(m, i)) {
            *end = i + 1;
            return 0;
        }
    }
    if (!started || inq)
        return NNX_SCAN_GENERAL;
    *end = m->len;
    return 0;
}

/* What the first pass learns of a block, for either state at its start
 * (0: outside quotes, 1: inside). */
typedef struct block {
    size_t lo, hi;
    size_t quotes;       /* quote bytes in the block */
    size_t recs[2];      /* records starting in the block */
    int    state;        /* the true state at lo (after the first pass) */
    size_t row0;         /* its first record's row */
    /* second pass: the label texts of its rows */
    char    *text;
    size_t   used, cap;
    int      general;    /* the block holds something only the general reader takes */
} block;

typedef struct scan_job {
    nnx_csv_scan      *s;
    const nnx_csv_map *m;
    block             *blk;
    unsigned char      cls[256];
    uint32_t          *loff;   /* offset of row r's label text in its block's text */
    atomic_int         general;
} scan_job;

static int is_blank_byte(const scan_job *j, char c)
{
    return j->cls[(unsigned char)c] == C_BLANK;
}

/* Only blanks lie between the last line end (or the body's start) and lo:
 * outside quotes, a record would start at the next other byte. */
static int at_line_start(const scan_job *j, size_t lo)
{
    size_t i = lo;
    while (i > j->s->body && j->cls[(unsigned char)j->m->text[i - 1]] == C_BLANK)
        i--;
    return i == j->s->body || line_end_at(j->m, i - 1);
}

/* count_block for a block without quotes, CRs or NULs (most blocks of most
 * tables): the lines that hold a non-blank byte, found line end by line end.
 * Inside quotes (state 1) no record can start: the quote never closes. */
static void count_plain_block(scan_job *j, block *b)
{
    const char *t = j->m->text;
    size_t recs = 0, p = b->lo;
    int ls = at_line_start(j, b->lo);
    while (p < b->hi) {
        if (ls) {
            while (p < b->hi && is_blank_byte(j, t[p]))
                p++;
            if (p >= b->hi)
                break;
            if (t[p] != '\n')
                recs++;
        }
        const char *nl = memchr(t + p, '\n', b->hi - p);
        if (!nl)
            break;
        p = (size_t)(nl - t) + 1;
        ls = 1;
    }
    b->quotes = 0;
    b->recs[0] = recs;
    b->recs[1] = 0;
}

/* First pass: count quotes and record starts under both states. */
static void count_block(void *ctx, int unit, int tid)
{
    (void)tid;
    scan_job *j = ctx;
    block *b = &j->blk[unit];
    map_pages(j->m, b->lo, b->hi);
    const char *t0 = j->m->text + b->lo;
    size_t n0 = b->hi - b->lo;
    if (!memchr(t0, '"', n0) && !memchr(t0, '\r', n0) && !memchr(t0, '\0', n0)) {
        count_plain_block(j, b);
        drop_pages(j->m, b->lo, b->hi);
        return;
    }
    const char *t = j->m->text;
    const unsigned char *cls = j->cls;
    int ls[2] = { at_line_start(j, b->lo), 0 };
    size_t recs[2] = { 0, 0 }, quotes = 0;
    int q = 0;
    for (size_t i = b->lo; i < b->hi; i++) {
        switch (cls[(unsigned char)t[i]]) {
        case C_TEXT:
            if (ls[0] | ls[1]) {
                recs[0] += (size_t)ls[0];
                recs[1] += (size_t)ls[1];
                ls[0] = ls[1] = 0;
            }
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
            if (i + 1 >= j->m->len || t[i + 1] != '\n')
                ls[q] = 1;
            break;
        case C_BLANK:
            break;
        default:
            b->general = 1;   /* a NUL byte */
            atomic_store(&j->general, 1);
            break;
        }
    }
    b->quotes = quotes;
    b->recs[0] = recs[0];
    b->recs[1] = recs[1];
    drop_pages(j->m, b->lo, b->hi);
}

static int is_blank(const unsigned char *cls, char c)
{
    return cls[(unsigned char)c] == C_BLANK;
}

/* Append a label text to the block's text; -1 when out of memory. */
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

/* Parse the record starting at *pp (outside quotes, at a non-blank byte)
 * into row r; *pp moves past its line end.  0, or -1 for the general reader. */
static int parse_record(scan_job *j, block *b, size_t *pp, size_t r)
{
    const nnx_csv_scan *s = j->s;
    const char *t = j->m->text;
    const size_t len = j->m->len;
    const char delim = s->delim;
    float *row = s->x + r * s->d;
    size_t p = *pp, col = 0;
    for (;;) {
        while (p < len && is_blank(j->cls, t[p]))
            p++;
        size_t f0, f1;
        if (col < s->ncol && s->feature_of[col] >= 0 && p < len && t[p] != '"') {
            /* a number cell: read as far as the number goes, then the
             * field must end there (else the whole field decides below) */
            double v;
            const char *q = nnx_num_scan(t + p, t + len, &v);
            if (q) {
                size_t e = (size_t)(q - t);
                while (e < len && is_blank(j->cls, t[e]))
                    e++;
                if ((e == len || t[e] == delim || t[e] == '\n' || t[e] == '\r')
                    && v <= 3.4e38 && v >= -3.4e38) {
                    row[s->feature_of[col]] = (float)v;
                    p = e;
                    goto next_field;
                }
            }
        }
        if (p < len && t[p] == '"') {
            f0 = ++p;
            while (p < len && t[p] != '"' && t[p] != '\0')
                p++;
            if (p >= len || t[p] == '\0' || (p + 1 < len && t[p + 1] == '"'))
                return -1;   /* unclosed, a NUL, or an escaped quote */
            f1 = p++;
            while (p < len && is_blank(j->cls, t[p]))
                p++;
            if (p < len && t[p] != delim && t[p] != '\n' && t[p] != '\r')
                return -1;   /* text after the closing quote */
        } else {
            f0 = p;
            while (p < len && t[p] != delim && t[p] != '\n' && t[p] != '\r') {
                if (t[p] == '"' || t[p] == '\0')
                    return -1;
                p++;
            }
            f1 = p;
            while (f1 > f0 && is_blank(j->cls, t[f1 - 1]))
                f1--;
        }
        if (col >= s->ncol)
            return -1;   /* ragged */
        int32_t fo = s->feature_of[col];
        double v;
        if (fo >= 0) {
            if (nnx_num_parse(t + f0, f1 - f0, &v) < 0 || !isfinite(v) || v > 3.4e38
                || v < -3.4e38)
                return -1;   /* missing, text or out of range: the general reader says */
            row[fo] = (float)v;
        } else if (fo == NNX_SCAN_LABEL) {
            if (f1 == f0)
                return -1;   /* an empty label */
            s->val[r] = nnx_num_parse(t + f0, f1 - f0, &v) == 0 && isfinite(v) ? v : NAN;
            if (keep_label(b, t + f0, f1 - f0, &j->loff[r]) < 0)
                return -1;
        }
    next_field:
        col++;
        if (p < len && t[p] == delim) {
            p++;
            continue;
        }
        if (p < len && t[p] == '\r' && ++p < len && t[p] == '\n')
            p++;
        else if (p < len && t[p] == '\n')
            p++;
        break;
    }
    if (col != s->ncol)
        return -1;
    *pp = p;
    return 0;
}

/* From p (outside quotes, at the start of a line or of the block), the
 * start of the next record: past blanks and line ends.  len when none. */
static size_t next_record(const scan_job *j, size_t p)
{
    const char *t = j->m->text;
    while (p < j->m->len) {
        int c = j->cls[(unsigned char)t[p]];
        if (c != C_BLANK && c != C_LF && c != C_CR)
            break;
        p++;
    }
    return p;
}

/* The first record start at or after the block's start, given its state. */
static size_t first_start(const scan_job *j, const block *b)
{
    const char *t = j->m->text;
    int inq = b->state, ls = !inq && at_line_start(j, b->lo);
    for (size_t i = b->lo; i < j->m->len; i++) {
        int c = j->cls[(unsigned char)t[i]];
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
        else if (c == C_LF || (c == C_CR && line_end_at(j->m, i)))
            ls = 1;
    }
    return j->m->len;
}

/* Second pass: parse the block's records into their rows. */
static void parse_block(void *ctx, int unit, int tid)
{
    (void)tid;
    scan_job *j = ctx;
    block *b = &j->blk[unit];
    size_t n = b->recs[b->state];
    if (n == 0 || atomic_load(&j->general))
        return;
    map_pages(j->m, b->lo, b->hi);
    size_t p = first_start(j, b);
    for (size_t k = 0; k < n; k++) {
        if (p >= b->hi || parse_record(j, b, &p, b->row0 + k) < 0) {
            b->general = 1;
            atomic_store(&j->general, 1);
            return;
        }
        p = next_record(j, p);
        if ((k & 1023) == 1023)
            drop_pages(j->m, b->lo, p < b->hi ? p : b->hi);
    }
    if (p < b->hi) {   /* a record the first pass did not count */
        b->general = 1;
        atomic_store(&j->general, 1);
    }
    drop_pages(j->m, b->lo, b->hi);
}

void nnx_csv_scan_free(nnx_csv_scan *s)
{
    free(s->x);
    free(s->val);
    free(s->lab);
    free(s->text);
    s->x = NULL;
    s->val = NULL;
    s->lab = NULL;
    s->text = NULL;
    s->n = 0;
}

static int online_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

int nnx_csv_scan_run(nnx_csv_scan *s, const nnx_csv_map *m, const char *path, nnx_rt_error *err)
{
    s->n = 0;
    s->x = NULL;
    s->val = NULL;
    s->lab = NULL;
    s->text = NULL;
    size_t bs = s->block ? s->block : DEFAULT_BLOCK;
    size_t body = s->body < m->len ? s->body : m->len;
    size_t nblk = (m->len - body + bs - 1) / bs;
    if (nblk == 0)
        return NNX_SCAN_GENERAL;   /* a header and nothing else */
    if (nblk > INT32_MAX)
        return NNX_SCAN_GENERAL;
    scan_job j = { .s = s, .m = m };
    atomic_init(&j.general, 0);
    classes(j.cls, s->delim);
    j.blk = calloc(nblk, sizeof *j.blk);
    if (!j.blk)
        return nnx_rt_fail(err, "%s: out of memory", path);
    for (size_t b = 0; b < nblk; b++) {
        j.blk[b].lo = body + b * bs;
        j.blk[b].hi = b + 1 < nblk ? body + (b + 1) * bs : m->len;
    }
    int threads = s->threads > 0 ? s->threads : online_threads();
    if ((size_t)threads > nblk)
        threads = (int)nblk;
    nnx_team *team = threads > 1 ? nnx_team_new(threads, err) : NULL;
    int rc = -1;
    if (threads > 1 && !team)
        goto done;
    nnx_team_run(team, (int)nblk, count_block, &j);
    rc = NNX_SCAN_GENERAL;
    if (atomic_load(&j.general))
        goto done;
    /* Each block's true state is the parity of the quotes before it; its
     * records then follow those of the blocks before it. */
    size_t rows = 0;
    int state = 0;
    for (size_t b = 0; b < nblk; b++) {
        j.blk[b].state = state;
        j.blk[b].row0 = rows;
        rows += j.blk[b].recs[state];
        state ^= (int)(j.blk[b].quotes & 1);
    }
    if (state || rows == 0 || rows > INT32_MAX || (s->d && rows > SIZE_MAX / sizeof(float) / s->d))
        goto done;   /* an unclosed quote, no rows, or too many: the general reader says */
    s->x = malloc(rows * (s->d ? s->d : 1) * sizeof *s->x);
    if (s->x)
        nnx_table_prefault(s->x, rows * (s->d ? s->d : 1) * sizeof *s->x);
    if (s->has_label) {
        s->val = malloc(rows * sizeof *s->val);
        s->lab = malloc(rows * sizeof *s->lab);
        j.loff = malloc(rows * sizeof *j.loff);
    }
    if (!s->x || (s->has_label && (!s->val || !s->lab || !j.loff))) {
        rc = nnx_rt_fail(err, "%s: out of memory for %zu rows of %zu features", path, rows, s->d);
        goto done;
    }
    s->n = rows;
    nnx_team_run(team, (int)nblk, parse_block, &j);
    if (atomic_load(&j.general))
        goto done;
    if (s->has_label) {
        /* the label texts joined once, in row order */
        size_t total = 0;
        for (size_t b = 0; b < nblk; b++)
            total += j.blk[b].used;
        s->text = malloc(total ? total : 1);
        if (!s->text) {
            rc = nnx_rt_fail(err, "%s: out of memory for labels", path);
            goto done;
        }
        size_t at = 0;
        for (size_t b = 0; b < nblk; b++) {
            block *k = &j.blk[b];
            if (k->used)
                memcpy(s->text + at, k->text, k->used);
            for (size_t r = k->row0; r < k->row0 + k->recs[k->state]; r++)
                s->lab[r] = s->text + at + j.loff[r];
            at += k->used;
        }
    }
    rc = NNX_SCAN_DONE;
done:
    nnx_team_free(team);
    for (size_t b = 0; b < nblk; b++)
        free(j.blk[b].text);
    free(j.blk);
    free(j.loff);
    if (rc != NNX_SCAN_DONE)
        nnx_csv_scan_free(s);
    return rc;
}
