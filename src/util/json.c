/* json.c — write JSON with escaping and layout; read JSON into a tree with located errors. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/util/json.h"
#include "nnx/util/file.h"
#include "nnx/util/utf8.h"

/* ---- writer ---------------------------------------------------------- */

static void writer_fail(nnx_json_writer *w, const char *msg)
{
    if (!w->failure[0])
        snprintf(w->failure, sizeof w->failure, "%s", msg);
}

static void emit(nnx_json_writer *w, const char *s, size_t n)
{
    if (w->failure[0])
        return;
    if (w->file) {
        if (fwrite(s, 1, n, w->file) != n)
            writer_fail(w, "write error");
        return;
    }
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (w->len + n + 1 > cap)
            cap *= 2;
        char *buf = realloc(w->buf, cap);
        if (!buf) {
            writer_fail(w, "out of memory");
            return;
        }
        w->buf = buf;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void emits(nnx_json_writer *w, const char *s) { emit(w, s, strlen(s)); }

static void newline_indent(nnx_json_writer *w)
{
    if (!w->indent)
        return;
    emit(w, "\n", 1);
    for (int i = 0; i < w->depth * w->indent; i++)
        emit(w, " ", 1);
}

/* Everything a value needs before it: a comma and indentation inside an
 * array, nothing after a key; misuse is recorded. */
static bool before_value(nnx_json_writer *w)
{
    if (w->done) {
        writer_fail(w, "a second value after the top-level value");
        return false;
    }
    if (w->depth > 0 && w->in_object[w->depth - 1]) {
        if (!w->key_pending) {
            writer_fail(w, "an object member without a key");
            return false;
        }
        w->key_pending = false;
        return true;
    }
    if (w->depth > 0) {
        if (w->has_items[w->depth - 1])
            emit(w, ",", 1);
        w->has_items[w->depth - 1] = true;
        newline_indent(w);
    }
    return true;
}

static void after_value(nnx_json_writer *w)
{
    if (w->depth == 0)
        w->done = true;
}

static void begin(nnx_json_writer *w, bool object)
{
    if (!before_value(w))
        return;
    if (w->depth >= NNX_JSON_MAX_DEPTH) {
        writer_fail(w, "nesting deeper than NNX_JSON_MAX_DEPTH");
        return;
    }
    emit(w, object ? "{" : "[", 1);
    w->in_object[w->depth] = object;
    w->has_items[w->depth] = false;
    w->depth++;
}

static void end(nnx_json_writer *w, bool object)
{
    if (w->depth == 0 || w->in_object[w->depth - 1] != object) {
        writer_fail(w, object ? "end_object without a matching begin_object"
                              : "end_array without a matching begin_array");
        return;
    }
    if (w->key_pending) {
        writer_fail(w, "a key without a value");
        return;
    }
    bool had = w->has_items[w->depth - 1];
    w->depth--;
    if (had)
        newline_indent(w);
    emit(w, object ? "}" : "]", 1);
    after_value(w);
}

void nnx_json_writer_to_file(nnx_json_writer *w, FILE *file, int indent)
{
    memset(w, 0, sizeof *w);
    w->file = file;
    w->indent = indent;
}

void nnx_json_writer_to_buffer(nnx_json_writer *w, int indent)
{
    memset(w, 0, sizeof *w);
    w->indent = indent;
    emit(w, "", 0);   /* an empty document is still a string */
}

void nnx_json_begin_object(nnx_json_writer *w) { begin(w, true); }
void nnx_json_end_object(nnx_json_writer *w)   { end(w, true); }
void nnx_json_begin_array(nnx_json_writer *w)  { begin(w, false); }
void nnx_json_end_array(nnx_json_writer *w)    { end(w, false); }

static void emit_quoted(nnx_json_writer *w, const char *s)
{
    emit(w, "\"", 1);
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = NULL;
        char hex[8];
        switch (*p) {
        case '"':  esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (*p < 0x20) {
                snprintf(hex, sizeof hex, "\\u%04x", *p);
                esc = hex;
            }
        }
        if (esc) {
            emit(w, run, (size_t)((const char *)p - run));
            emits(w, esc);
            run = (const char *)p + 1;
        }
    }
    emits(w, run);
    emit(w, "\"", 1);
}

void nnx_json_key(nnx_json_writer *w, const char *key)
{
    if (w->depth == 0 || !w->in_object[w->depth - 1]) {
        writer_fail(w, "a key outside an object");
        return;
    }
    if (w->key_pending) {
        writer_fail(w, "two keys in a row");
        return;
    }
    if (w->has_items[w->depth - 1])
        emit(w, ",", 1);
    w->has_items[w->depth - 1] = true;
    newline_indent(w);
    emit_quoted(w, key ? key : "");
    emit(w, w->indent ? ": " : ":", w->indent ? 2 : 1);
    w->key_pending = true;
}

void nnx_json_string(nnx_json_writer *w, const char *s)
{
    if (!s) {
        nnx_json_null(w);
        return;
    }
    if (!before_value(w))
        return;
    emit_quoted(w, s);
    after_value(w);
}

void nnx_json_number(nnx_json_writer *w, double v)
{
    if (!isfinite(v)) {
        nnx_json_null(w);
        return;
    }
    if (!before_value(w))
        return;
    char buf[40];
    /* The shortest of %.15g/%.16g/%.17g that reads back as the same double. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    emits(w, buf);
    after_value(w);
}

void nnx_json_int(nnx_json_writer *w, long long v)
{
    if (!before_value(w))
        return;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    emits(w, buf);
    after_value(w);
}

void nnx_json_bool(nnx_json_writer *w, bool v)
{
    if (!before_value(w))
        return;
    emits(w, v ? "true" : "false");
    after_value(w);
}

void nnx_json_null(nnx_json_writer *w)
{
    if (!before_value(w))
        return;
    emits(w, "null");
    after_value(w);
}

void nnx_json_key_string(nnx_json_writer *w, const char *key, const char *s)
{
    nnx_json_key(w, key);
    nnx_json_string(w, s);
}

void nnx_json_key_number(nnx_json_writer *w, const char *key, double v)
{
    nnx_json_key(w, key);
    nnx_json_number(w, v);
}

void nnx_json_key_int(nnx_json_writer *w, const char *key, long long v)
{
    nnx_json_key(w, key);
    nnx_json_int(w, v);
}

void nnx_json_key_bool(nnx_json_writer *w, const char *key, bool v)
{
    nnx_json_key(w, key);
    nnx_json_bool(w, v);
}

int nnx_json_writer_finish(nnx_json_writer *w, nnx_rt_error *err)
{
    if (!w->failure[0] && !w->done)
        writer_fail(w, w->depth ? "unclosed object or array" : "no value written");
    if (!w->failure[0] && w->file) {
        emit(w, "\n", 1);
        if (fflush(w->file) != 0)
            writer_fail(w, "write error");
    }
    if (w->failure[0])
        return nnx_rt_fail(err, "json: %s", w->failure);
    return 0;
}

char *nnx_json_writer_take(nnx_json_writer *w)
{
    char *buf = w->buf;
    w->buf = NULL;
    w->len = w->cap = 0;
    return buf;
}

void nnx_json_writer_free(nnx_json_writer *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

int nnx_json_writer_save(nnx_json_writer *w, const char *path, int flags, nnx_rt_error *err)
{
    int rc = nnx_json_writer_finish(w, err);
    if (rc == 0)
        rc = w->buf ? nnx_file_write(path, w->buf, strlen(w->buf), flags, err)
                    : nnx_rt_fail(err, "out of memory");
    nnx_json_writer_free(w);
    return rc;
}

/* ---- reader ---------------------------------------------------------- */

typedef struct parser {
    const char     *text;
    size_t          len, pos;
    nnx_json_error *err;
    bool            failed;
} parser;

static void parse_fail(parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void parse_fail(parser *p, size_t at, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    if (!p->err)
        return;
    p->err->offset = at;
    p->err->line = 1;
    p->err->col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->text[i] == '\n') {
            p->err->line++;
            p->err->col = 1;
        } else {
            p->err->col++;
        }
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
}

static void skip_space(parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->text[p->pos]) && p->text[p->pos])
        p->pos++;
}

/* What is at pos, for "expected X, found Y" messages. */
static const char *found(const parser *p, char *buf, size_t n)
{
    if (p->pos >= p->len)
        return "end of input";
    unsigned char c = (unsigned char)p->text[p->pos];
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, n, "'%c'", c);
    else
        snprintf(buf, n, "byte 0x%02x", c);
    return buf;
}

static void free_value(nnx_json *v)
{
    free(v->string);
    for (size_t i = 0; i < v->n; i++) {
        free_value(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

static bool parse_value(parser *p, nnx_json *v, int depth);

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(parser *p, unsigned *out)
{
    if (p->pos + 4 > p->len) {
        parse_fail(p, p->pos, "truncated \\u escape");
        return false;
    }
    unsigned u = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p->text[p->pos + (size_t)i]);
        if (d < 0) {
            parse_fail(p, p->pos + (size_t)i, "bad hex digit in \\u escape");
            return false;
        }
        u = u * 16 + (unsigned)d;
    }
    p->pos += 4;
    *out = u;
    return true;
}

/* A string at pos (which is on the opening quote) into a new buffer. */
static char *parse_string(parser *p)
{
    size_t start = p->pos++;
    /* The decoded text is never longer than the source text. */
    size_t end = p->pos;
    while (end < p->len && p->text[end] != '"') {
        if (p->text[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->len) {
        parse_fail(p, start, "unterminated string");
        return NULL;
    }
    char *out = malloc(end - p->pos + 1);
    if (!out) {
        parse_fail(p, start, "out of memory");
        return NULL;
    }
    size_t n = 0;
    while (p->text[p->pos] != '"') {
        unsigned char c = (unsigned char)p->text[p->pos];
        if (c < 0x20) {
            parse_fail(p, p->pos, "control character 0x%02x in a string (escape it)", c);
            free(out);
            return NULL;
        }
        if (c != '\\') {
            out[n++] = (char)c;
            p->pos++;
            continue;
        }
        size_t esc_at = p->pos;
        p->pos++;
        char e = p->text[p->pos++];
        switch (e) {
        case '"':  out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/':  out[n++] = '/'; break;
        case 'b':  out[n++] = '\b'; break;
        case 'f':  out[n++] = '\f'; break;
        case 'n':  out[n++] = '\n'; break;
        case 'r':  out[n++] = '\r'; break;
        case 't':  out[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!read_hex4(p, &cp)) {
                free(out);
                return NULL;
            }
            if (cp >= 0xd800 && cp < 0xdc00) {
                unsigned lo;
                if (p->pos + 2 > p->len || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u') {
                    parse_fail(p, esc_at, "unpaired surrogate in \\u escape");
                    free(out);
                    return NULL;
                }
                p->pos += 2;
                if (!read_hex4(p, &lo)) {
                    free(out);
                    return NULL;
                }
                if (lo < 0xdc00 || lo >= 0xe000) {
                    parse_fail(p, esc_at, "unpaired surrogate in \\u escape");
                    free(out);
                    return NULL;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                parse_fail(p, esc_at, "unpaired surrogate in \\u escape");
                free(out);
                return NULL;
            }
            if (cp == 0) {
                parse_fail(p, esc_at, "\\u0000 in a string is not supported");
                free(out);
                return NULL;
            }
            n += nnx_utf8_put(out + n, cp);
            break;
        }
        default:
            parse_fail(p, esc_at, "unknown escape '\\%c'", e);
            free(out);
            return NULL;
        }
    }
    p->pos++;   /* the closing quote */
    out[n] = '\0';
    return out;
}

static bool parse_number(parser *p, nnx_json *v)
{
    size_t start = p->pos, i = p->pos;
    const char *t = p->text;
    if (i < p->len && t[i] == '-')
        i++;
    if (i < p->len && t[i] == '0') {
        i++;
    } else if (i < p->len && t[i] >= '1' && t[i] <= '9') {
        while (i < p->len && t[i] >= '0' && t[i] <= '9')
            i++;
    } else {
        parse_fail(p, i, "bad number: expected a digit");
        return false;
    }
    if (i < p->len && t[i] == '.') {
        i++;
        if (i >= p->len || t[i] < '0' || t[i] > '9') {
            parse_fail(p, i, "bad number: expected a digit after '.'");
            return false;
        }
        while (i < p->len && t[i] >= '0' && t[i] <= '9')
            i++;
    }
    if (i < p->len && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < p->len && (t[i] == '+' || t[i] == '-'))
            i++;
        if (i >= p->len || t[i] < '0' || t[i] > '9') {
            parse_fail(p, i, "bad number: expected a digit in the exponent");
            return false;
        }
        while (i < p->len && t[i] >= '0' && t[i] <= '9')
            i++;
    }
    char buf[64];
    if (i - start >= sizeof buf) {
        /* Very long literals are legal; strtod on a copy handles them. */
        char *copy = malloc(i - start + 1);
        if (!copy) {
            parse_fail(p, start, "out of memory");
            return false;
        }
        memcpy(copy, t + start, i - start);
        copy[i - start] = '\0';
        v->number = strtod(copy, NULL);
        free(copy);
    } else {
        memcpy(buf, t + start, i - start);
        buf[i - start] = '\0';
        v->number = strtod(buf, NULL);
    }
    v->type = NNX_JSON_NUMBER;
    p->pos = i;
    return true;
}

static bool literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->pos + n <= p->len && !memcmp(p->text + p->pos, word, n)) {
        p->pos += n;
        return true;
    }
    return false;
}

/* Append a zeroed item to v (an array or object under construction). */
static nnx_json *push_item(parser *p, nnx_json *v, size_t *cap, char *key)
{
    if (v->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        nnx_json *items = realloc(v->items, ncap * sizeof *items);
        if (!items) {
            parse_fail(p, p->pos, "out of memory");
            free(key);
            return NULL;
        }
        v->items = items;
        if (v->type == NNX_JSON_OBJECT) {
            char **keys = realloc(v->keys, ncap * sizeof *keys);
            if (!keys) {
                parse_fail(p, p->pos, "out of memory");
                free(key);
                return NULL;
            }
            v->keys = keys;
        }
        *cap = ncap;
    }
    nnx_json *item = &v->items[v->n];
    memset(item, 0, sizeof *item);
    if (v->type == NNX_JSON_OBJECT)
        v->keys[v->n] = key;
    v->n++;
    return item;
}

static bool parse_container(parser *p, nnx_json *v, int depth, bool object)
{
    char what[24];
    size_t open_at = p->pos;
    if (depth >= NNX_JSON_MAX_DEPTH) {
        parse_fail(p, p->pos, "nesting deeper than %d levels", NNX_JSON_MAX_DEPTH);
        return false;
    }
    v->type = object ? NNX_JSON_OBJECT : NNX_JSON_ARRAY;
    p->pos++;
    size_t cap = 0;
    skip_space(p);
    char close = object ? '}' : ']';
    if (p->pos < p->len && p->text[p->pos] == close) {
        p->pos++;
        return true;
    }
    for (;;) {
        char *key = NULL;
        skip_space(p);
        if (object) {
            if (p->pos >= p->len || p->text[p->pos] != '"') {
                parse_fail(p, p->pos, "expected a string key, found %s", found(p, what, sizeof what));
                return false;
            }
            key = parse_string(p);
            if (!key)
                return false;
            skip_space(p);
            if (p->pos >= p->len || p->text[p->pos] != ':') {
                parse_fail(p, p->pos, "expected ':' after the key \"%s\", found %s", key,
                           found(p, what, sizeof what));
                free(key);
                return false;
            }
            p->pos++;
        }
        nnx_json *item = push_item(p, v, &cap, key);
        if (!item || !parse_value(p, item, depth + 1))
            return false;
        skip_space(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == close) {
            p->pos++;
            return true;
        }
        if (p->pos >= p->len)
            parse_fail(p, open_at, "unclosed %s (opened here)", object ? "object" : "array");
        else
            parse_fail(p, p->pos, "expected ',' or '%c', found %s", close, found(p, what, sizeof what));
        return false;
    }
}

static bool parse_value(parser *p, nnx_json *v, int depth)
{
    char what[24];
    skip_space(p);
    if (p->pos >= p->len) {
        parse_fail(p, p->pos, "expected a value, found end of input");
        return false;
    }
    char c = p->text[p->pos];
    if (c == '{' || c == '[')
        return parse_container(p, v, depth, c == '{');
    if (c == '"') {
        v->string = parse_string(p);
        v->type = NNX_JSON_STRING;
        return v->string != NULL;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p, v);
    if (literal(p, "true")) {
        v->type = NNX_JSON_BOOL;
        v->boolean = true;
        return true;
    }
    if (literal(p, "false")) {
        v->type = NNX_JSON_BOOL;
        return true;
    }
    if (literal(p, "null")) {
        v->type = NNX_JSON_NULL;
        return true;
    }
    parse_fail(p, p->pos, "expected a value, found %s", found(p, what, sizeof what));
    return false;
}

nnx_json *nnx_json_parse(const char *text, size_t len, nnx_json_error *err)
{
    parser p = { .text = text, .len = len, .err = err };
    if (err)
        memset(err, 0, sizeof *err);
    nnx_json *root = calloc(1, sizeof *root);
    if (!root) {
        parse_fail(&p, 0, "out of memory");
        return NULL;
    }
    if (parse_value(&p, root, 0)) {
        skip_space(&p);
        if (p.pos < p.len) {
            char what[24];
            parse_fail(&p, p.pos, "unexpected %s after the value", found(&p, what, sizeof what));
        }
    }
    if (p.failed) {
        nnx_json_free(root);
        return NULL;
    }
    return root;
}

void nnx_json_free(nnx_json *root)
{
    if (!root)
        return;
    free_value(root);
    free(root);
}

const nnx_json *nnx_json_get(const nnx_json *v, const char *key)
{
    if (!v || v->type != NNX_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->keys[i], key))
            return &v->items[i];
    return NULL;
}

const nnx_json *nnx_json_at(const nnx_json *v, size_t i)
{
    if (!v || v->type != NNX_JSON_ARRAY || i >= v->n)
        return NULL;
    return &v->items[i];
}

double nnx_json_as_number(const nnx_json *v)
{
    return v && v->type == NNX_JSON_NUMBER ? v->number : NAN;
}

const char *nnx_json_as_string(const nnx_json *v, const char *fallback)
{
    return v && v->type == NNX_JSON_STRING ? v->string : fallback;
}
