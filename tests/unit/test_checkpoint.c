/* test_checkpoint.c — save/load round trips bit-exactly; nnx_net_open rebuilds every
 * layer kind and activation from the file alone; a different network,
 * a truncated, corrupt or foreign file is a clear error that leaves the
 * network untouched; saving leaves no temporary file behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnx/rt/checkpoint.h"
#include "nnx/rt/net.h"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/nnx_ckpt_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/w.nnxw", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    remove(f->path);
    remove(tmp);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void ok(int rc, const nnx_rt_error *err)
{
    if (rc)
        fail_msg("%s", err->msg);
}

static void fails_with(int rc, const nnx_rt_error *err, const char *needle)
{
    assert_int_equal(rc, -1);
    if (!strstr(err->msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err->msg, needle);
}

/* conv(4)-bn-swish-maxpool-dense(units)-bn-relu-dense(3) on 1×6×6 */
static nnx_net *build(int units, bool extra, uint64_t seed)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(1, 6, 6, &err);
    ok(nnx_net_add_conv(net, 4, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_add_maxpool(net, 2, 2, &err), &err);
    ok(nnx_net_add_dense(net, units, true, &err), &err);
    ok(nnx_net_add_batchnorm(net, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_RELU, 0, &err), &err);
    if (extra)
        ok(nnx_net_add_dropout(net, 0.5f, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_compile(net, 4, seed, &err), &err);
    return net;
}

static float *copy_all(nnx_net *net)
{
    float *s = malloc(nnx_net_snapshot_size(net) * sizeof *s);
    assert_non_null(s);
    nnx_net_snapshot_take(net, s);
    return s;
}

static void round_trip_is_bit_exact(void **state)
{
    fixture *f = *state;
    nnx_rt_error err;
    nnx_net *a = build(8, false, 1), *b = build(8, false, 2);
    float x[4 * 36];
    for (int i = 0; i < 4 * 36; i++)
        x[i] = sinf((float)i);
    nnx_net_forward(a, x, 4, true);          /* running statistics move */
    nnx_net_params(a)[3] = -0.0f;            /* odd values survive too */
    nnx_net_params(a)[4] = 1e-40f;
    ok(nnx_net_save(a, f->path, &err), &err);
    ok(nnx_net_save(a, f->path, &err), &err);   /* replacing works */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    assert_int_equal(access(tmp, F_OK), -1);     /* no temporary left */
    ok(nnx_net_load(b, f->path, &err), &err);
    size_t n = nnx_net_snapshot_size(a);
    float *sa = copy_all(a), *sb = copy_all(b);
    assert_memory_equal(sa, sb, n * sizeof *sa);
    float ya[12];
    memcpy(ya, nnx_net_forward(a, x, 4, false), sizeof ya);
    assert_memory_equal(ya, nnx_net_forward(b, x, 4, false), sizeof ya);
    free(sa);
    free(sb);
    nnx_net_free(a);
    nnx_net_free(b);
}

static void different_network_is_an_error(void **state)
{
    fixture *f = *state;
    nnx_rt_error err;
    nnx_net *a = build(8, false, 1);
    ok(nnx_net_save(a, f->path, &err), &err);

    nnx_net *wider = build(16, false, 2);
    float *before = copy_all(wider);
    fails_with(nnx_net_load(wider, f->path, &err), &err,
               "layer 5: dense has 8 units in the file, 16 in the network");
    float *after = copy_all(wider);
    assert_memory_equal(before, after, nnx_net_snapshot_size(wider) * sizeof *before);
    free(before);
    free(after);

    nnx_net *longer = build(8, true, 2);
    fails_with(nnx_net_load(longer, f->path, &err), &err, "the file has 8 layers, the network 9");

    nnx_net *other = nnx_net_new(1, 6, 6, &err);
    ok(nnx_net_add_conv(other, 4, 3, 1, 1, true, &err), &err);
    ok(nnx_net_add_batchnorm(other, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(other, NNX_ACT_TANH, 0, &err), &err);
    ok(nnx_net_add_avgpool(other, 2, 2, &err), &err);
    ok(nnx_net_add_dense(other, 8, true, &err), &err);
    ok(nnx_net_add_batchnorm(other, 0.1f, 1e-5f, &err), &err);
    ok(nnx_net_add_act(other, NNX_ACT_RELU, 0, &err), &err);
    ok(nnx_net_add_dense(other, 3, true, &err), &err);
    ok(nnx_net_compile(other, 2, 1, &err), &err);
    fails_with(nnx_net_load(other, f->path, &err), &err, "layer 3 is a different activation");
    nnx_net_free(other);

    other = nnx_net_new(1, 6, 6, &err);
    ok(nnx_net_add_conv(other, 4, 3, 1, 0, true, &err), &err);    /* one layer only */
    ok(nnx_net_compile(other, 2, 1, &err), &err);
    fails_with(nnx_net_load(other, f->path, &err), &err, "the file has 8 layers, the network 1");
    nnx_net_free(other);

    other = nnx_net_new(2, 6, 6, &err);
    ok(nnx_net_add_dense(other, 3, true, &err), &err);
    ok(nnx_net_compile(other, 2, 1, &err), &err);
    fails_with(nnx_net_load(other, f->path, &err), &err,
               "input is 1×6×6 in the file, 2×6×6 in the network");
    nnx_net_free(other);

    nnx_net_free(a);
    nnx_net_free(wider);
    nnx_net_free(longer);
}

static void layer_details_are_compared(void **state)
{
    fixture *f = *state;
    nnx_rt_error err;
    nnx_net *a = nnx_net_new(1, 6, 6, &err);
    ok(nnx_net_add_conv(a, 4, 3, 1, 1, true, &err), &err);
    ok(nnx_net_compile(a, 2, 1, &err), &err);
    ok(nnx_net_save(a, f->path, &err), &err);
    nnx_net *b = nnx_net_new(1, 6, 6, &err);
    ok(nnx_net_add_conv(b, 4, 3, 2, 1, true, &err), &err);
    ok(nnx_net_compile(b, 2, 1, &err), &err);
    fails_with(nnx_net_load(b, f->path, &err), &err,
               "conv has size 3 stride 1 pad 1 in the file, size 3 stride 2 pad 1");
    nnx_net_free(b);
    b = nnx_net_new(1, 6, 6, &err);
    ok(nnx_net_add_conv(b, 4, 3, 1, 1, false, &err), &err);
    ok(nnx_net_compile(b, 2, 1, &err), &err);
    fails_with(nnx_net_load(b, f->path, &err), &err, "has a bias in the file but not");
    nnx_net_free(b);
    nnx_net_free(a);
}

static void write_bytes(const char *path, const unsigned char *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

static void truncated_or_corrupt_file_is_an_error(void **state)
{
    fixture *f = *state;
    nnx_rt_error err;
    nnx_net *a = build(8, false, 1), *b = build(8, false, 2);
    ok(nnx_net_save(a, f->path, &err), &err);
    FILE *fp = fopen(f->path, "rb");
    assert_non_null(fp);
    unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    assert_true(len > 100 && len < sizeof buf);
    float *before = copy_all(b);

    const size_t cuts[] = {len - 1, len / 2, 40, 20, 5, 0};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(f->path, buf, cuts[i]);
        int rc = nnx_net_load(b, f->path, &err);
        assert_int_equal(rc, -1);
        if (!strstr(err.msg, "truncated") && !(cuts[i] < 8 && strstr(err.msg, "not an nnx")))
            fail_msg("cut at %zu: %s", cuts[i], err.msg);
    }
    buf[len - 20] ^= 0x10;                       /* a flipped bit in the state */
    write_bytes(f->path, buf, len);
    fails_with(nnx_net_load(b, f->path, &err), &err, "checksum mismatch");
    buf[len - 20] ^= 0x10;
    buf[8] = 9;                                  /* version */
    write_bytes(f->path, buf, len);
    fails_with(nnx_net_load(b, f->path, &err), &err, "version 9");
    buf[8] = 1;
    buf[0] = 'X';
    write_bytes(f->path, buf, len);
    fails_with(nnx_net_load(b, f->path, &err), &err, "not an nnx checkpoint");
    buf[0] = 'N';
    unsigned char longer[1 << 16];
    memcpy(longer, buf, len);
    longer[len] = 0;
    write_bytes(f->path, longer, len + 1);
    fails_with(nnx_net_load(b, f->path, &err), &err, "trailing data");

    float *after = copy_all(b);
    assert_memory_equal(before, after, nnx_net_snapshot_size(b) * sizeof *before);
    write_bytes(f->path, buf, len);              /* the intact file still loads */
    ok(nnx_net_load(b, f->path, &err), &err);

    char missing[160];
    snprintf(missing, sizeof missing, "%s/none/w.nnxw", f->dir);
    fails_with(nnx_net_load(b, missing, &err), &err, "cannot open");
    fails_with(nnx_net_save(a, missing, &err), &err, "cannot create");
    free(before);
    free(after);
    nnx_net_free(a);
    nnx_net_free(b);
}

/* A residual network (a conv projection, an identity block with layer norm,
 * global pooling) saves, loads bit for bit, and nnx_net_open rebuilds it
 * from the file alone; a file of a net with another projection is refused. */
static nnx_net *build_residual(int width, uint64_t seed)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(2, 6, 6, &err);
    ok(nnx_net_add_conv(net, 4, 3, 1, 1, true, &err), &err);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_conv(net, width, 3, 2, 1, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, &err), &err);
    ok(nnx_net_end_residual(net, true, &err), &err);
    ok(nnx_net_begin_residual(net, &err), &err);
    ok(nnx_net_add_layernorm(net, 1e-4f, &err), &err);
    ok(nnx_net_add_conv(net, width, 3, 1, 1, true, &err), &err);
    ok(nnx_net_end_residual(net, false, &err), &err);
    ok(nnx_net_add_global_avgpool(net, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_compile(net, 4, seed, &err), &err);
    return net;
}

static void residual_round_trip_and_open(void **state)
{
    fixture *f = *state;
    nnx_rt_error err;
    nnx_net *a = build_residual(8, 1), *b = build_residual(8, 2);
    float x[4 * 72];
    for (int i = 0; i < 4 * 72; i++)
        x[i] = sinf(0.3f * (float)i);
    ok(nnx_net_save(a, f->path, &err), &err);
    ok(nnx_net_load(b, f->path, &err), &err);
    float ya[12];
    memcpy(ya, nnx_net_forward(a, x, 4, false), sizeof ya);
    assert_memory_equal(ya, nnx_net_forward(b, x, 4, false), sizeof ya);
    nnx_net *c = nnx_net_open(f->path, 4, &err);
    if (!c)
        fail_msg("%s", err.msg);
    assert_int_equal(nnx_net_nlayers(c), nnx_net_nlayers(a));
    assert_memory_equal(ya, nnx_net_forward(c, x, 4, false), sizeof ya);
    nnx_net *d = build_residual(6, 1);
    fails_with(nnx_net_load(d, f->path, &err), &err, "layer 3: conv has 8 filters in the file, 6");
    nnx_net_free(a);
    nnx_net_free(b);
    nnx_net_free(c);
    nnx_net_free(d);
}

/* Every layer kind and activation, with odd hyper-parameters, on 2×7×7. */
static nnx_net *build_all(uint64_t seed)
{
    nnx_rt_error err;
    nnx_net *net = nnx_net_new(2, 7, 7, &err);
    ok(nnx_net_add_conv(net, 3, 3, 2, 1, true, &err), &err);        /* -> 3×4×4 */
    ok(nnx_net_add_batchnorm(net, 0.2f, 1e-3f, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_LEAKY_RELU, 0.07f, &err), &err);
    ok(nnx_net_add_conv(net, 4, 1, 1, 0, false, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_ELU, 0.8f, &err), &err);
    ok(nnx_net_add_avgpool(net, 2, 1, &err), &err);                 /* -> 4×3×3 */
    ok(nnx_net_add_maxpool(net, 2, 1, &err), &err);                 /* -> 4×2×2 */
    ok(nnx_net_add_flatten(net, &err), &err);
    ok(nnx_net_add_dropout(net, 0.25f, &err), &err);
    ok(nnx_net_add_dense(net, 6, false, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_GELU, 0, &err), &err);
    ok(nnx_net_add_dense(net, 5, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_TANH, 0, &err), &err);
    ok(nnx_net_add_dense(net, 5, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SIGMOID, 0, &err), &err);
    ok(nnx_net_add_dense(net, 4, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_SWISH, 1.7f, &err), &err);
    ok(nnx_net_add_dense(net, 3, true, &err), &err);
    ok(nnx_net_add_act(net, NNX_ACT_RELU, 0, &err), &err);
    ok(nnx_net_compile(net, 5, seed, &err), &err);
    return net;
}

static void open_rebuilds_the_network_from_the_file(void **state)
{
    fixture *f = *state;
    nnx_rt_error err;
    nnx_net *a = build_all(3);
    float x[5 * 98];
    for (int i = 0; i < 5 * 98; i++)
        x[i] = cosf(0.37f * (float)i);
    nnx_net_forward(a, x, 5, true);          /* running statistics move */
    ok(nnx_net_save(a, f->path, &err), &err);
    nnx_net *b = nnx_net_open(f->path, 7, &err);
    if (!b)
        fail_msg("%s", err.msg);
    assert_int_equal(nnx_net_nlayers(b), nnx_net_nlayers(a));
    assert_int_equal(nnx_net_max_batch(b), 7);
    for (int i = 0; i < nnx_net_nlayers(a); i++) {
        nnx_layer_info la, lb;
        nnx_net_layer_info(a, i, &la);
        nnx_net_layer_info(b, i, &lb);
        assert_int_equal(la.kind, lb.kind);
        assert_string_equal(la.name, lb.name);
        assert_true(la.a == lb.a && la.eps == lb.eps && la.bias == lb.bias);
        assert_int_equal(la.out_c * la.out_h * la.out_w, lb.out_c * lb.out_h * lb.out_w);
    }
    float *sa = copy_all(a), *sb = copy_all(b);
    assert_memory_equal(sa, sb, nnx_net_snapshot_size(a) * sizeof *sa);
    float ya[5 * 3];
    memcpy(ya, nnx_net_forward(a, x, 5, false), sizeof ya);
    assert_memory_equal(ya, nnx_net_forward(b, x, 5, false), sizeof ya);
    free(sa);
    free(sb);
    nnx_net_free(b);

    /* a file that is not a whole checkpoint builds nothing */
    FILE *fp = fopen(f->path, "r+b");
    assert_non_null(fp);
    fseek(fp, -9, SEEK_END);
    fputc(0x5a, fp);
    fclose(fp);
    assert_null(nnx_net_open(f->path, 4, &err));
    assert_non_null(strstr(err.msg, "checksum"));
    assert_int_equal(truncate(f->path, 40), 0);
    assert_null(nnx_net_open(f->path, 4, &err));
    assert_non_null(strstr(err.msg, "truncated"));
    fp = fopen(f->path, "wb");
    fputs("not a checkpoint at all, but long enough", fp);
    fclose(fp);
    assert_null(nnx_net_open(f->path, 4, &err));
    assert_non_null(strstr(err.msg, "not an nnx checkpoint"));
    nnx_net_free(a);
}

/* A header can announce, in a few hundred bytes, layers whose activations
 * need gigabytes (the input's height and width, which no parameter count
 * depends on): nnx_net_open refuses it as corrupt before compiling
 * allocates anything; a real network with large activations opens, with a
 * batch lowered until its activations fit 1 GB. */
static void open_bounds_the_activations(void **state)
{
    fixture *f = *state;
    nnx_rt_error err;
    nnx_net *a = nnx_net_new(1, 256, 256, &err);
    assert_non_null(a);
    ok(nnx_net_add_conv(a, 8, 1, 1, 0, true, &err), &err);
    ok(nnx_net_compile(a, 1, 1, &err), &err);
    ok(nnx_net_save(a, f->path, &err), &err);
    nnx_net_free(a);
    /* (1 + 2 * 8) * 65536 floats = 4.5 MB a row: 1000 rows lowered to 240 */
    nnx_net *b = nnx_net_open(f->path, 1000, &err);
    if (!b)
        fail_msg("%s", err.msg);
    assert_int_equal(nnx_net_max_batch(b), (int)((1u << 30) / (17u * 65536 * 4)));
    nnx_net_free(b);
    /* height and width 4096 (bytes 16..23 of the header, little-endian):
     * 1.1 GB a row from a file of a few hundred bytes */
    FILE *fp = fopen(f->path, "r+b");
    assert_non_null(fp);
    const unsigned char side[4] = { 0x00, 0x10, 0x00, 0x00 };
    fseek(fp, 16, SEEK_SET);
    fwrite(side, 1, 4, fp);
    fwrite(side, 1, 4, fp);
    fclose(fp);
    assert_null(nnx_net_open(f->path, 4, &err));
    if (!strstr(err.msg, "corrupt: its 1 layers would need"))
        fail_msg("%s", err.msg);
}

/* Found by fuzzing: a short file listing a huge layer made nnx_net_open
 * allocate and initialise every parameter before finding the file too
 * short.  The size is checked from the layer list, before compiling. */
static void open_checks_the_size_before_building(void **state)
{
    fixture *f = *state;
    nnx_rt_error err;
    nnx_net *a = nnx_net_new(10, 1, 1, &err);
    assert_non_null(a);
    assert_int_equal(nnx_net_add_dense(a, 4, true, &err), 0);
    assert_int_equal(nnx_net_compile(a, 2, 1, &err), 0);
    assert_int_equal(nnx_net_save(a, f->path, &err), 0);
    nnx_net_free(a);
    /* layer 1's units (after the 28-byte head and its kind and activation)
     * become 5 million: 55 million parameters listed in ~100 bytes */
    FILE *fp = fopen(f->path, "r+b");
    assert_non_null(fp);
    const unsigned char units[4] = { 0x40, 0x4b, 0x4c, 0x00 };    /* 5,000,000 LE */
    const unsigned char params[8] = { 0xc0, 0xf5, 0x46, 0x03 };   /* 55,000,000 LE */
    fseek(fp, 28 + 8, SEEK_SET);        /* units */
    fwrite(units, 1, 4, fp);
    fseek(fp, 28 + 36, SEEK_SET);       /* out_c */
    fwrite(units, 1, 4, fp);
    fseek(fp, 28 + 48, SEEK_SET);       /* the layer's nparams */
    fwrite(params, 1, 8, fp);
    fclose(fp);
    assert_null(nnx_net_open(f->path, 2, &err));
    assert_non_null(strstr(err.msg, "truncated"));
    assert_non_null(strstr(err.msg, "a checkpoint of its 1 layers has"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip_is_bit_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(residual_round_trip_and_open, setup, teardown),
        cmocka_unit_test_setup_teardown(different_network_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(layer_details_are_compared, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_or_corrupt_file_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(open_rebuilds_the_network_from_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(open_checks_the_size_before_building, setup, teardown),
        cmocka_unit_test_setup_teardown(open_bounds_the_activations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
