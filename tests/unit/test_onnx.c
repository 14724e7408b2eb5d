/* test_onnx.c — the ONNX writer: packed floats, the model's top-level fields and node list read back, and specs it refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/onnx.h"
#include "nnx/util/pb.h"

static void floats_are_packed_little_endian(void **state)
{
    (void)state;
    nnx_pb pb;
    nnx_pb_init(&pb);
    const float v[2] = { 1.0f, -2.5f };
    nnx_pb_floats_field(&pb, 9, v, 2);
    /* key (9 << 3 | 2) = 0x4a, length 8, then 0x3f800000 and 0xc0200000 LE */
    const uint8_t want[] = { 0x4a, 8, 0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0 };
    assert_true(nnx_pb_ok(&pb));
    assert_int_equal(pb.len, sizeof want);
    assert_memory_equal(pb.data, want, sizeof want);
    nnx_pb_free(&pb);
}

/* --- a minimal wire-format reader, enough to walk the written model ------- */

typedef struct field {
    uint32_t num;
    int wire;
    uint64_t v;              /* varint or fixed value */
    const uint8_t *p;        /* length-delimited: the bytes */
    size_t n;
} field;

static uint64_t varint(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    for (int s = 0; *p < end; s += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80))
            break;
    }
    return v;
}

/* The next field of [*p, end), or 0 at the end. */
static int next(const uint8_t **p, const uint8_t *end, field *f)
{
    if (*p >= end)
        return 0;
    uint64_t key = varint(p, end);
    f->num = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    switch (f->wire) {
    case 0: f->v = varint(p, end); break;
    case 1: *p += 8; break;
    case 5: *p += 4; break;
    case 2:
        f->n = (size_t)varint(p, end);
        f->p = *p;
        *p += f->n;
        break;
    default: fail_msg("wire type %d", f->wire);
    }
    assert_true(*p <= end);
    return 1;
}

/* The op_type of every node of the model's graph, joined with spaces. */
static void graph_ops(const uint8_t *data, size_t len, char *out, size_t cap, int64_t *ir,
                      int64_t *opset)
{
    const uint8_t *p = data, *end = data + len;
    field f, g, n, o;
    out[0] = '\0';
    while (next(&p, end, &f)) {
        if (f.num == 1 && f.wire == 0)
            *ir = (int64_t)f.v;
        if (f.num == 8 && f.wire == 2) {
            const uint8_t *q = f.p;
            while (next(&q, f.p + f.n, &o))
                if (o.num == 2)
                    *opset = (int64_t)o.v;
        }
        if (f.num != 7 || f.wire != 2)
            continue;
        const uint8_t *q = f.p;
        while (next(&q, f.p + f.n, &g)) {
            if (g.num != 1)
                continue;
            const uint8_t *r = g.p;
            while (next(&r, g.p + g.n, &n))
                if (n.num == 4) {
                    size_t l = strlen(out);
                    snprintf(out + l, cap - l, "%s%.*s", l ? " " : "", (int)n.n, n.p);
                }
        }
    }
}

static nnx_net *small_net(int in, int out, enum nnx_act act, float a)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(in, 1, 1, &err);
    assert_non_null(net);
    assert_int_equal(nnx_net_add_dense(net, 4, true, &err), 0);
    assert_int_equal(nnx_net_add_dropout(net, 0.5f, &err), 0);
    assert_int_equal(nnx_net_add_act(net, act, a, &err), 0);
    assert_int_equal(nnx_net_add_dense(net, out, false, &err), 0);
    assert_int_equal(nnx_net_compile(net, 8, 1, &err), 0);
    return net;
}

static void model_reads_back(void **state)
{
    (void)state;
    nnx_net *net = small_net(3, 2, NNX_ACT_SWISH, 1.0f);
    const float shift[3] = { 0, 1, 2 }, scale[3] = { 1, 1, 0.5f };
    nnx_onnx_member m = { net, shift, scale };
    nnx_onnx_spec s = { .members = &m, .nmembers = 1, .head = NNX_ONNX_SOFTMAX };
    unsigned char *data;
    size_t len;
    nnx_rt_error err;
    assert_int_equal(nnx_onnx_encode(&s, &data, &len, &err), 0);
    char ops[256];
    int64_t ir = 0, opset = 0;
    graph_ops(data, len, ops, sizeof ops, &ir, &opset);
    assert_int_equal(ir, 8);
    assert_int_equal(opset, 17);
    /* normalisation, dense, (no dropout), swish as x·sigmoid(x), dense, softmax */
    assert_string_equal(ops, "Sub Mul Gemm Sigmoid Mul Gemm Softmax");
    free(data);

    /* Two members: each its own chain, then Mean; sigmoid head, swish(beta) scales. */
    nnx_net *other = small_net(3, 2, NNX_ACT_SWISH, 2.0f);
    nnx_onnx_member two[2] = { { net, NULL, NULL }, { other, NULL, NULL } };
    s = (nnx_onnx_spec){ .members = two, .nmembers = 2, .head = NNX_ONNX_SIGMOID };
    assert_int_equal(nnx_onnx_encode(&s, &data, &len, &err), 0);
    graph_ops(data, len, ops, sizeof ops, &ir, &opset);
    assert_string_equal(ops, "Gemm Sigmoid Mul Gemm Sigmoid Gemm Mul Sigmoid Mul Gemm Sigmoid Mean");
    free(data);
    nnx_net_free(net);
    nnx_net_free(other);
}

static void bad_specs_are_refused(void **state)
{
    (void)state;
    nnx_rt_error err;
    unsigned char *data = (unsigned char *)"x";
    size_t len = 1;
    nnx_onnx_spec s = { .nmembers = 0 };
    assert_int_equal(nnx_onnx_encode(&s, &data, &len, &err), -1);
    assert_null(data);
    assert_non_null(strstr(err.msg, "no network"));

    nnx_net *a = small_net(3, 2, NNX_ACT_RELU, 0), *b = small_net(4, 2, NNX_ACT_RELU, 0);
    nnx_onnx_member two[2] = { { a, NULL, NULL }, { b, NULL, NULL } };
    s = (nnx_onnx_spec){ .members = two, .nmembers = 2 };
    assert_int_equal(nnx_onnx_encode(&s, &data, &len, &err), -1);
    assert_non_null(strstr(err.msg, "member 2 takes 4×1×1"));

    const float shift[3] = { 0 };
    nnx_onnx_member half = { a, shift, NULL };
    s = (nnx_onnx_spec){ .members = &half, .nmembers = 1 };
    assert_int_equal(nnx_onnx_encode(&s, &data, &len, &err), -1);
    assert_non_null(strstr(err.msg, "half a normalisation"));

    const char *names[2] = { "a", "b" };
    nnx_onnx_member one = { a, NULL, NULL };
    s = (nnx_onnx_spec){ .members = &one, .nmembers = 1, .feature_names = names, .nfeatures = 2 };
    assert_int_equal(nnx_onnx_encode(&s, &data, &len, &err), -1);
    assert_non_null(strstr(err.msg, "2 feature names for 3 features"));

    /* A path that cannot be written is an error, nothing left behind. */
    s.feature_names = NULL;
    assert_int_equal(nnx_onnx_write(&s, "/nonexistent-dir/m.onnx", &err), -1);
    nnx_net_free(a);
    nnx_net_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(floats_are_packed_little_endian),
        cmocka_unit_test(model_reads_back),
        cmocka_unit_test(bad_specs_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
