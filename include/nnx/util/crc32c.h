/* crc32c.h — CRC-32C (Castagnoli) and the masked form TFRecord stores. */
#ifndef NNX_UTIL_CRC32C_H
#define NNX_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC-32C over n bytes; start with crc = 0.  Reflected polynomial
 * 0x82F63B78, initial value and final xor 0xFFFFFFFF ("123456789" gives
 * 0xE3069283). */
uint32_t nnx_crc32c_update(uint32_t crc, const void *data, size_t n);

/* crc32c(data) rotated right by 15 bits plus 0xa282ead8, mod 2^32, as
 * TensorFlow's record writer stores it. */
uint32_t nnx_crc32c_masked(const void *data, size_t n);

#endif
