/* buf.h — a growing text buffer that remembers a failed allocation.
 *
 * Start from {0}; add text; check `oom` once at the end instead of after
 * every addition (an addition after a failed allocation is dropped).
 * Ownership: the buffer owns s; the user frees it (free(b.s)) or takes it.
 */
#ifndef NNX_UTIL_BUF_H
#define NNX_UTIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct nnx_buf {
    char  *s;       /* NUL-terminated once anything was added; NULL before */
    size_t len, cap;
    bool   oom;     /* an allocation failed: s holds what came before */
} nnx_buf;

void nnx_buf_put(nnx_buf *b, const char *s, size_t n);
void nnx_buf_puts(nnx_buf *b, const char *s);
void nnx_buf_printf(nnx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nnx_buf_vprintf(nnx_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* One CSV cell: s as it is, or "quoted" (a quote doubled) when it holds a
 * comma, a quote or a line break. */
void nnx_buf_put_csv_cell(nnx_buf *b, const char *s);

#endif
