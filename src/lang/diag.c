/* diag.c — reading source files, collecting located messages, printing them. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/diag.h"
#include "nnx/util/file.h"

/* --- sources -------------------------------------------------------------- */

enum { MAX_SOURCE = 64u << 20 };    /* bytes: no real .nnx file comes near */

static nnx_source *source_new(const char *path, char *text, size_t len)
{
    nnx_source *src = malloc(sizeof *src);
    char *p = strdup(path);
    if (!src || !p) {
        free(src);
        free(p);
        free(text);
        return NULL;
    }
    src->path = p;
    src->text = text;
    src->len = len;
    return src;
}

/* Fold CRLF to LF and drop a UTF-8 byte-order mark, in place; the new length. */
static size_t fold_text(char *text, size_t len)
{
    size_t w = 0, r = 0;
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        r = 3;
    for (; r < len; r++) {
        if (text[r] == '\r' && r + 1 < len && text[r + 1] == '\n')
            continue;
        text[w++] = text[r];
    }
    text[w] = '\0';
    return w;
}

nnx_source *nnx_source_from_string(const char *path, const char *text)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, text, len + 1);
    return source_new(path, copy, fold_text(copy, len));
}

void nnx_source_free(nnx_source *src)
{
    if (!src)
        return;
    free(src->path);
    free(src->text);
    free(src);
}

/* Length of the UTF-8 sequence starting at s (at most `n` bytes), or 0 when
 * it is not well-formed (overlong forms, surrogates and > U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)      len = 2;
    else if (c == 0xe0)              { len = 3; lo = 0xa0; }
    else if (c >= 0xe1 && c <= 0xec) len = 3;
    else if (c == 0xed)              { len = 3; hi = 0x9f; }
    else if (c >= 0xee && c <= 0xef) len = 3;
    else if (c == 0xf0)              { len = 4; lo = 0x90; }
    else if (c >= 0xf1 && c <= 0xf3) len = 4;
    else if (c == 0xf4)              { len = 4; hi = 0x8f; }
    else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static bool keep_source(nnx_diags *d, nnx_source *src)
{
    size_t n = d->nkept;
    nnx_source **grown = realloc(d->kept, (n + 1) * sizeof *grown);
    if (!grown)
        return false;
    grown[n] = src;
    d->kept = grown;
    d->nkept = n + 1;
    return true;
}

nnx_source *nnx_source_read(const char *path, nnx_diags *diags)
{
    nnx_loc nowhere = { NULL, 0, 0 };
    size_t len;
    char *text = nnx_file_read(path, MAX_SOURCE, &len, NULL);
    if (!text) {
        const char *why = errno == EFBIG ? "larger than 64 MB, too large for an .nnx file"
                        : errno == ENOMEM ? "out of memory" : strerror(errno);
        nnx_error(diags, nowhere, "cannot read '%s': %s", path, why);
        return NULL;
    }
    len = fold_text(text, len);
    nnx_source *src = source_new(path, text, len);
    if (!src) {
        nnx_error(diags, nowhere, "out of memory reading '%s'", path);
        return NULL;
    }
    for (size_t i = 0; i < len;) {
        const unsigned char *s = (const unsigned char *)text + i;
        size_t n = s[0] ? utf8_len(s, len - i) : 0;
        if (n == 0) {
            nnx_loc at = { src, (uint32_t)i, (uint32_t)i + 1 };
            nnx_diag *d = s[0]
                ? nnx_error(diags, at, "invalid UTF-8 (byte 0x%02x)", s[0])
                : nnx_error(diags, at, "NUL byte in the file");
            nnx_diag_help(d, "an .nnx file is UTF-8 text; is this a binary file?");
            if (!keep_source(diags, src)) {  /* the message then goes without its line */
                for (nnx_diag *e = diags->head; e; e = e->next)
                    if (e->loc.src == src)
                        e->loc.src = NULL;
                nnx_source_free(src);
            }
            return NULL;
        }
        i += n;
    }
    return src;
}

/* --- locations ------------------------------------------------------------ */

nnx_loc nnx_loc_span(nnx_loc a, nnx_loc b)
{
    if (!a.src)
        return b;
    if (!b.src)
        return a;
    return (nnx_loc){ a.src, a.begin < b.begin ? a.begin : b.begin,
                      a.end > b.end ? a.end : b.end };
}

void nnx_loc_linecol(const nnx_source *src, uint32_t off, int *line, int *col)
{
    int l = 1;
    uint32_t start = 0;
    if (off > src->len)
        off = (uint32_t)src->len;
    for (uint32_t i = 0; i < off; i++)
        if (src->text[i] == '\n') {
            l++;
            start = i + 1;
        }
    *line = l;
    *col = (int)(off - start) + 1;
}

/* --- collecting ----------------------------------------------------------- */

nnx_diag *nnx_diag_add(nnx_diags *d, nnx_level level, nnx_loc loc, const char *fmt, ...)
{
    nnx_diag *diag = calloc(1, sizeof *diag);
    if (!diag)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    diag->msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!diag->msg) {
        free(diag);
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(diag->msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    diag->level = level;
    diag->loc = loc;
    if (d->tail)
        d->tail->next = diag;
    else
        d->head = diag;
    d->tail = diag;
    if (level == NNX_ERROR)
        d->nerrors++;
    return diag;
}

void nnx_diag_help(nnx_diag *diag, const char *fmt, ...)
{
    if (!diag)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *help = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!help)
        return;
    va_start(ap, fmt);
    vsnprintf(help, (size_t)n + 1, fmt, ap);
    va_end(ap);
    free(diag->help);
    diag->help = help;
}

static bool same_diag(const nnx_diag *a, const nnx_diag *b)
{
    const char *pa = a->loc.src ? a->loc.src->path : "", *pb = b->loc.src ? b->loc.src->path : "";
    return a->level == b->level && a->loc.begin == b->loc.begin && a->loc.end == b->loc.end &&
           !strcmp(pa, pb) && !strcmp(a->msg, b->msg) &&
           !strcmp(a->help ? a->help : "", b->help ? b->help : "");
}

void nnx_diags_drop_repeats(nnx_diags *d, nnx_diag *after)
{
    nnx_diag *prev = after;
    nnx_diag *g = after ? after->next : d->head;
    while (g) {
        bool seen = false;
        for (const nnx_diag *h = d->head; h && h != g && !seen; h = h->next)
            seen = same_diag(h, g);
        nnx_diag *next = g->next;
        if (seen) {
            if (prev)
                prev->next = next;
            else
                d->head = next;
            if (d->tail == g)
                d->tail = prev;
            d->nerrors -= g->level == NNX_ERROR;
            free(g->msg);
            free(g->help);
            free(g);
        } else
            prev = g;
        g = next;
    }
}

void nnx_diags_free(nnx_diags *d)
{
    for (nnx_diag *diag = d->head, *next; diag; diag = next) {
        next = diag->next;
        free(diag->msg);
        free(diag->help);
        free(diag);
    }
    for (size_t i = 0; i < d->nkept; i++)
        nnx_source_free(d->kept[i]);
    free(d->kept);
    *d = (nnx_diags){0};
}

/* --- printing ------------------------------------------------------------- */

static const char *level_name(nnx_level level)
{
    return level == NNX_ERROR ? "error" : level == NNX_WARNING ? "warning" : "note";
}

static const char *level_color(nnx_level level)
{
    return level == NNX_ERROR ? "\033[1;31m" : level == NNX_WARNING ? "\033[1;33m" : "\033[1;36m";
}

/* Print text[from, to) of one line: tabs kept, bytes that are not valid UTF-8
 * or are control characters shown as U+FFFD.  Returns the display width. */
static size_t print_line_text(FILE *out, const char *text, size_t from, size_t to)
{
    size_t width = 0;
    for (size_t i = from; i < to;) {
        const unsigned char *s = (const unsigned char *)text + i;
        size_t n = utf8_len(s, to - i);
        if (n == 0 || (n == 1 && s[0] < 0x20 && s[0] != '\t') || s[0] == 0x7f) {
            fputs("\xef\xbf\xbd", out);
            n = n ? n : 1;
        } else {
            fwrite(s, 1, n, out);
        }
        i += n;
        width++;
    }
    return width;
}

/* The caret line's lead-in: a tab where the source has one, else spaces, one
 * per displayed character. */
static void print_pad(FILE *out, const char *text, size_t from, size_t to)
{
    for (size_t i = from; i < to;) {
        const unsigned char *s = (const unsigned char *)text + i;
        size_t n = utf8_len(s, to - i);
        fputc(s[0] == '\t' ? '\t' : ' ', out);
        i += n ? n : 1;
    }
}

static size_t display_width(const char *text, size_t from, size_t to)
{
    size_t w = 0;
    for (size_t i = from; i < to; w++) {
        size_t n = utf8_len((const unsigned char *)text + i, to - i);
        i += n ? n : 1;
    }
    return w;
}

static void print_one(const nnx_diag *dg, FILE *out, bool color)
{
    const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
    const char *lc = color ? level_color(dg->level) : "";
    const char *blue = color ? "\033[1;34m" : "";
    const nnx_source *src = dg->loc.src;
    if (!src) {
        fprintf(out, "%s%s%s:%s %s%s\n", lc, level_name(dg->level), reset, bold, dg->msg, reset);
        if (dg->help)
            fprintf(out, "  %s=%s help: %s\n", blue, reset, dg->help);
        return;
    }
    uint32_t begin = dg->loc.begin, end = dg->loc.end;
    if (begin > src->len)
        begin = (uint32_t)src->len;
    if (end < begin)
        end = begin;
    /* The end of a file that ends in a newline is shown at the end of its
     * last line, not on an empty line after it. */
    if (begin == src->len && begin > 0 && src->text[begin - 1] == '\n')
        begin = end = begin - 1;
    int line, col;
    nnx_loc_linecol(src, begin, &line, &col);
    fprintf(out, "%s%s:%d:%d: %s%s%s:%s %s%s\n", bold, src->path, line, col, reset,
            lc, level_name(dg->level), reset, bold, dg->msg);
    if (color)
        fputs(reset, out);

    size_t ls = begin - ((size_t)col - 1), le = begin;
    while (le < src->len && src->text[le] != '\n')
        le++;
    char num[16];
    int nw = snprintf(num, sizeof num, "%d", line);
    int gutter = nw > 5 ? nw : 5;
    fprintf(out, "%s%*s |%s ", blue, gutter, num, reset);
    print_line_text(out, src->text, ls, le);
    fputc('\n', out);

    size_t span_end = end < le ? end : le;
    size_t w = span_end > begin ? display_width(src->text, begin, span_end) : 1;
    fprintf(out, "%s%*s |%s ", blue, gutter, "", reset);
    print_pad(out, src->text, ls, begin);
    fprintf(out, "%s^", lc);
    for (size_t i = 1; i < w; i++)
        fputc('~', out);
    fprintf(out, "%s\n", reset);
    if (dg->help)
        fprintf(out, "%*s %s=%s help: %s\n", gutter, "", blue, reset, dg->help);
}

void nnx_diags_print(const nnx_diags *d, FILE *out, bool color)
{
    for (const nnx_diag *dg = d->head; dg; dg = dg->next)
        print_one(dg, out, color);
}

/* --- suggestions ---------------------------------------------------------- */

size_t nnx_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64)       /* names are short; long strings are no typo */
        return n > m ? n : m;
    size_t d[65][65];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
                && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

/* Equal but for ASCII case. */
static bool same_but_case(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

const char *nnx_suggest(const char *name, const char *const *candidates, size_t n)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (candidates[i] && same_but_case(name, candidates[i]))
            return candidates[i];
    const char *prefixed = NULL;        /* a name cut short: the shortest it begins */
    for (size_t i = 0; len >= 3 && i < n; i++)
        if (candidates[i] && strlen(candidates[i]) > len && !strncmp(candidates[i], name, len) &&
            (!prefixed || strlen(candidates[i]) < strlen(prefixed)))
            prefixed = candidates[i];
    if (prefixed)
        return prefixed;
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i])
            continue;
        size_t dist = nnx_edit_distance(name, candidates[i]);
        if (dist < best_d && dist < len && dist < strlen(candidates[i])) {
            best = candidates[i];
            best_d = dist;
        }
    }
    return best;
}
