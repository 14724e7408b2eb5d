/* utf8.h — the UTF-8 bytes of a code point, for the readers that decode \u escapes (JSON, YAML). */
#ifndef NNX_UTIL_UTF8_H
#define NNX_UTIL_UTF8_H

#include <stddef.h>

/* Write the 1 to 4 UTF-8 bytes of code point cp at out; returns how many. */
size_t nnx_utf8_put(char *out, unsigned long cp);

#endif
