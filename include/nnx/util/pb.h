/* pb.h — a small protocol-buffers encoder: wire-format fields into a byte buffer.
 *
 * Writes the four wire types nnx needs: varint (0), fixed64 (1),
 * length-delimited (2) and fixed32 (5), keys as (field << 3) | wire type,
 * multi-byte numbers little-endian.  It is wire-level only: proto3's rule of
 * leaving out fields equal to their default is the caller's to apply.
 *
 * Ownership: an nnx_pb owns `data` (malloc'd), released by nnx_pb_free.
 * Errors: a failed allocation sets `oom` and every later write is ignored;
 * check nnx_pb_ok once after building a message.
 */
#ifndef NNX_UTIL_PB_H
#define NNX_UTIL_PB_H

#include <stddef.h>
#include <stdint.h>

enum {
    NNX_PB_VARINT = 0,
    NNX_PB_FIXED64 = 1,
    NNX_PB_LEN = 2,
    NNX_PB_FIXED32 = 5,
};

typedef struct nnx_pb {
    uint8_t *data;
    size_t len, cap;
    int oom;
} nnx_pb;

void nnx_pb_init(nnx_pb *pb);
void nnx_pb_free(nnx_pb *pb);
/* Empty the buffer (keeps its memory, clears oom). */
void nnx_pb_clear(nnx_pb *pb);
int nnx_pb_ok(const nnx_pb *pb);

void nnx_pb_raw(nnx_pb *pb, const void *bytes, size_t n);
void nnx_pb_varint(nnx_pb *pb, uint64_t v);
void nnx_pb_key(nnx_pb *pb, uint32_t field, int wire);

/* int64/int32/enum/bool fields: a varint of the two's-complement value, so a
 * negative number takes ten bytes, as protobuf does. */
void nnx_pb_int64_field(nnx_pb *pb, uint32_t field, int64_t v);
void nnx_pb_double_field(nnx_pb *pb, uint32_t field, double v);
void nnx_pb_float_field(nnx_pb *pb, uint32_t field, float v);
void nnx_pb_bytes_field(nnx_pb *pb, uint32_t field, const void *bytes,
                        size_t n);
void nnx_pb_string_field(nnx_pb *pb, uint32_t field, const char *s);
/* n floats as one length-delimited field of 4·n little-endian bytes: a
 * packed `repeated float`, or the raw_data of an ONNX float tensor. */
void nnx_pb_floats_field(nnx_pb *pb, uint32_t field, const float *v, size_t n);
/* An embedded message: the bytes of `sub` as a length-delimited field. */
void nnx_pb_message_field(nnx_pb *pb, uint32_t field, const nnx_pb *sub);

#endif
