/* pb.c — protocol-buffers wire encoding into a growing byte buffer. */
#include <stdlib.h>
#include <string.h>

#include "nnx/util/pb.h"

void nnx_pb_init(nnx_pb *pb)
{
    pb->data = NULL;
    pb->len = pb->cap = 0;
    pb->oom = 0;
}

void nnx_pb_free(nnx_pb *pb)
{
    free(pb->data);
    nnx_pb_init(pb);
}

void nnx_pb_clear(nnx_pb *pb)
{
    pb->len = 0;
    pb->oom = 0;
}

int nnx_pb_ok(const nnx_pb *pb)
{
    return !pb->oom;
}

/* Make room for n more bytes; 0 on success, -1 (and oom set) on failure. */
static int pb_reserve(nnx_pb *pb, size_t n)
{
    if (pb->oom)
        return -1;
    if (n <= pb->cap - pb->len)
        return 0;
    size_t cap = pb->cap ? pb->cap : 64;
    while (cap - pb->len < n) {
        if (cap > SIZE_MAX / 2) {
            pb->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    uint8_t *data = realloc(pb->data, cap);
    if (!data) {
        pb->oom = 1;
        return -1;
    }
    pb->data = data;
    pb->cap = cap;
    return 0;
}

void nnx_pb_raw(nnx_pb *pb, const void *bytes, size_t n)
{
    if (n == 0 || pb_reserve(pb, n) != 0)
        return;
    memcpy(pb->data + pb->len, bytes, n);
    pb->len += n;
}

void nnx_pb_varint(nnx_pb *pb, uint64_t v)
{
    uint8_t buf[10];
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        buf[n++] = v ? (uint8_t)(b | 0x80) : b;
    } while (v);
    nnx_pb_raw(pb, buf, n);
}

void nnx_pb_key(nnx_pb *pb, uint32_t field, int wire)
{
    nnx_pb_varint(pb, ((uint64_t)field << 3) | (uint64_t)wire);
}

void nnx_pb_int64_field(nnx_pb *pb, uint32_t field, int64_t v)
{
    nnx_pb_key(pb, field, NNX_PB_VARINT);
    nnx_pb_varint(pb, (uint64_t)v);
}

/* Little-endian bytes of the low `n` bytes of v, whatever the host order. */
static void pb_le(nnx_pb *pb, uint64_t v, size_t n)
{
    uint8_t buf[8];
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(v >> (8 * i));
    nnx_pb_raw(pb, buf, n);
}

void nnx_pb_double_field(nnx_pb *pb, uint32_t field, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    nnx_pb_key(pb, field, NNX_PB_FIXED64);
    pb_le(pb, bits, 8);
}

void nnx_pb_float_field(nnx_pb *pb, uint32_t field, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    nnx_pb_key(pb, field, NNX_PB_FIXED32);
    pb_le(pb, bits, 4);
}

void nnx_pb_bytes_field(nnx_pb *pb, uint32_t field, const void *bytes,
                        size_t n)
{
    nnx_pb_key(pb, field, NNX_PB_LEN);
    nnx_pb_varint(pb, n);
    nnx_pb_raw(pb, bytes, n);
}

void nnx_pb_string_field(nnx_pb *pb, uint32_t field, const char *s)
{
    nnx_pb_bytes_field(pb, field, s, strlen(s));
}

void nnx_pb_floats_field(nnx_pb *pb, uint32_t field, const float *v, size_t n)
{
    if (n > SIZE_MAX / 4) {
        pb->oom = 1;
        return;
    }
    nnx_pb_key(pb, field, NNX_PB_LEN);
    nnx_pb_varint(pb, 4 * (uint64_t)n);
    if (pb_reserve(pb, 4 * n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        for (int b = 0; b < 4; b++)
            pb->data[pb->len++] = (uint8_t)(bits >> (8 * b));
    }
}

void nnx_pb_message_field(nnx_pb *pb, uint32_t field, const nnx_pb *sub)
{
    if (sub->oom) {
        pb->oom = 1;
        return;
    }
    nnx_pb_bytes_field(pb, field, sub->data, sub->len);
}
