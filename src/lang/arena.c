/* arena.c — the checker's bump allocator, and ck_buf: its name for the runtime's text buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"

struct ck_arena_block {
    ck_arena_block *next;
    size_t used, size;
    max_align_t data[];
};

enum { BLOCK_MIN = 16384 };

void *ck_alloc(ck_arena *a, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    ck_arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > BLOCK_MIN ? size : BLOCK_MIN;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->size = cap;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *ck_strndup(ck_arena *a, const char *s, size_t n)
{
    char *p = ck_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

char *ck_strdup(ck_arena *a, const char *s)
{
    return s ? ck_strndup(a, s, strlen(s)) : NULL;
}

char *ck_sprintf(ck_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = ck_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

ck_arena_mark ck_arena_save(const ck_arena *a)
{
    ck_arena_mark m = { a->head, a->head ? a->head->used : 0 };
    return m;
}

void ck_arena_restore(ck_arena *a, ck_arena_mark m)
{
    while (a->head && a->head != m.block) {
        ck_arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
    if (a->head)
        a->head->used = m.used;
}

char *ck_mstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void ck_arena_free(ck_arena *a)
{
    for (ck_arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
}

void ck_buf_puts(ck_buf *b, const char *s)
{
    nnx_buf_puts(b, s);
}

void ck_buf_printf(ck_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nnx_buf_vprintf(b, fmt, ap);
    va_end(ap);
}
