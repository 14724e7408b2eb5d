/* buf.c — a growing text buffer that remembers a failed allocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/util/buf.h"

/* Room for `more` bytes and a NUL; false (and oom) when it cannot be had. */
static bool reserve(nnx_buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

void nnx_buf_put(nnx_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void nnx_buf_puts(nnx_buf *b, const char *s)
{
    nnx_buf_put(b, s, strlen(s));
}

void nnx_buf_vprintf(nnx_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0 && reserve(b, (size_t)n)) {
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
}

void nnx_buf_printf(nnx_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nnx_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void nnx_buf_put_csv_cell(nnx_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        nnx_buf_put(b, s, strlen(s));
        return;
    }
    nnx_buf_put(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            nnx_buf_put(b, "\"", 1);      /* a quote is doubled */
        nnx_buf_put(b, p, 1);
    }
    nnx_buf_put(b, "\"", 1);
}
