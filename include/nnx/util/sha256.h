/* sha256.h — SHA-256 (FIPS 180-4) of a buffer or a file, for summary.json's source_sha256. */
#ifndef NNX_UTIL_SHA256_H
#define NNX_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "nnx/util/error.h"

/* The SHA-256 of a file as 64 lowercase hex digits. */
int nnx_sha256_file(const char *path, char hex[65], nnx_rt_error *err);
/* The SHA-256 of a buffer, as raw bytes. */
void nnx_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
