/* error.c — filling an nnx_rt_error. */
#include <stdarg.h>
#include <stdio.h>

#include "nnx/util/error.h"

int nnx_rt_fail(nnx_rt_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}
