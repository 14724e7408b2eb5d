/* error.h — how library code reports failure: a message, returned, never printed.
 *
 * Every function of the runtime and of the utilities that can fail takes an
 * `nnx_rt_error *` (which may be NULL; the name is the runtime's, where it
 * began) as its last argument and returns 0 on success, -1 on failure after
 * filling the message.  The caller decides where the message goes.
 */
#ifndef NNX_UTIL_ERROR_H
#define NNX_UTIL_ERROR_H

typedef struct nnx_rt_error {
    char msg[512];
} nnx_rt_error;

/* Fill err->msg (when err is not NULL) from a printf format; returns -1 so a
 * failing function can say `return nnx_rt_fail(err, "...", ...);`. */
int nnx_rt_fail(nnx_rt_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
