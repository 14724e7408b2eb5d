/* test_tfevents.c — CRC-32C, the protobuf encoder, TFRecord framing, and event files read back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nnx/tfevents.h"
#include "nnx/util/crc32c.h"
#include "nnx/util/pb.h"
#include "tmpdir.h"

/* --- CRC-32C ------------------------------------------------------------ */

static void crc32c_check_vectors(void **state)
{
    (void)state;
    /* The standard check value of CRC-32C. */
    assert_int_equal(nnx_crc32c_update(0, "123456789", 9), 0xE3069283u);
    /* RFC 3720 (iSCSI) appendix B.4: 32 bytes of 0x00, of 0xFF, ascending,
     * descending. */
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    assert_int_equal(nnx_crc32c_update(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(nnx_crc32c_update(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(nnx_crc32c_update(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(nnx_crc32c_update(0, buf, 32), 0x113FDB5Cu);
    assert_int_equal(nnx_crc32c_update(0, "", 0), 0);
}

static void crc32c_continues_and_masks(void **state)
{
    (void)state;
    uint32_t part = nnx_crc32c_update(0, "1234", 4);
    assert_int_equal(nnx_crc32c_update(part, "56789", 5), 0xE3069283u);
    /* ((0xE3069283 >> 15) | (0xE3069283 << 17)) + 0xa282ead8 mod 2^32 */
    assert_int_equal(nnx_crc32c_masked("123456789", 9), 0xC78AB0E5u);
    /* The length header of a 24-byte record, as TensorFlow writes it. */
    const uint8_t len24[8] = {24, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(nnx_crc32c_masked(len24, 8), 0x224B7FA3u);
}

/* --- protobuf encoder ----------------------------------------------------- */

static void assert_pb_bytes(const nnx_pb *pb, const uint8_t *want, size_t n)
{
    assert_true(nnx_pb_ok(pb));
    assert_int_equal(pb->len, n);
    assert_memory_equal(pb->data, want, n);
}

static void pb_varints(void **state)
{
    (void)state;
    nnx_pb pb;
    nnx_pb_init(&pb);
    static const struct {
        uint64_t v;
        uint8_t n, bytes[10];
    } cases[] = {
        {0, 1, {0x00}},
        {1, 1, {0x01}},
        {127, 1, {0x7f}},
        {128, 2, {0x80, 0x01}},
        {300, 2, {0xac, 0x02}},
        {16384, 3, {0x80, 0x80, 0x01}},
        {UINT64_MAX, 10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nnx_pb_clear(&pb);
        nnx_pb_varint(&pb, cases[i].v);
        assert_pb_bytes(&pb, cases[i].bytes, cases[i].n);
    }
    /* int64 -1: ten bytes of two's complement. */
    nnx_pb_clear(&pb);
    nnx_pb_int64_field(&pb, 2, -1);
    const uint8_t minus1[] = {0x10, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0x01};
    assert_pb_bytes(&pb, minus1, sizeof minus1);
    /* Keys: (field << 3) | wire. */
    nnx_pb_clear(&pb);
    nnx_pb_key(&pb, 1, NNX_PB_LEN);
    nnx_pb_key(&pb, 16, NNX_PB_VARINT);
    nnx_pb_key(&pb, 5, NNX_PB_FIXED32);
    const uint8_t keys[] = {0x0a, 0x80, 0x01, 0x2d};
    assert_pb_bytes(&pb, keys, sizeof keys);
    nnx_pb_free(&pb);
}

static void pb_fixed_and_length_delimited(void **state)
{
    (void)state;
    nnx_pb pb, sub;
    nnx_pb_init(&pb);
    nnx_pb_init(&sub);
    nnx_pb_double_field(&pb, 1, 1.0);
    const uint8_t d1[] = {0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    assert_pb_bytes(&pb, d1, sizeof d1);

    nnx_pb_clear(&pb);
    nnx_pb_double_field(&pb, 1, 1700000000.5);
    const uint8_t d2[] = {0x09, 0x00, 0x00, 0x20, 0x40, 0xfc, 0x54, 0xd9, 0x41};
    assert_pb_bytes(&pb, d2, sizeof d2);

    nnx_pb_clear(&pb);
    nnx_pb_float_field(&pb, 2, 0.25f);
    nnx_pb_float_field(&pb, 2, -2.0f);
    const uint8_t f[] = {0x15, 0x00, 0x00, 0x80, 0x3e, 0x15, 0x00, 0x00, 0x00, 0xc0};
    assert_pb_bytes(&pb, f, sizeof f);

    nnx_pb_clear(&pb);
    nnx_pb_string_field(&pb, 3, "hi");
    nnx_pb_bytes_field(&pb, 4, "", 0);
    const uint8_t s[] = {0x1a, 0x02, 'h', 'i', 0x22, 0x00};
    assert_pb_bytes(&pb, s, sizeof s);

    /* Summary{value: [Value{tag: "lr", simple_value: 0.25}]} as field 5. */
    nnx_pb_clear(&pb);
    nnx_pb_string_field(&sub, 1, "lr");
    nnx_pb_float_field(&sub, 2, 0.25f);
    nnx_pb_message_field(&pb, 5, &sub);
    const uint8_t m[] = {0x2a, 0x09, 0x0a, 0x02, 'l', 'r', 0x15, 0x00, 0x00, 0x80, 0x3e};
    assert_pb_bytes(&pb, m, sizeof m);

    /* A long string needs a two-byte length. */
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    nnx_pb_clear(&pb);
    nnx_pb_string_field(&pb, 1, big);
    assert_int_equal(pb.len, 1 + 2 + 199);
    assert_int_equal(pb.data[1], 0xc7);
    assert_int_equal(pb.data[2], 0x01);
    nnx_pb_free(&pb);
    nnx_pb_free(&sub);
}

/* --- a reader, as TensorBoard reads: framing, both CRCs, Event fields ----- */

typedef struct pb_field {
    uint32_t num;
    int wire;
    uint64_t v;           /* varint, fixed64 or fixed32 value */
    const uint8_t *p;     /* length-delimited bytes */
    size_t n;
} pb_field;

static int read_varint(const uint8_t **cur, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*cur >= end)
            return -1;
        uint8_t b = *(*cur)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

static uint64_t read_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* 1 = a field was read, 0 = end of message, -1 = malformed. */
static int pb_next(const uint8_t **cur, const uint8_t *end, pb_field *f)
{
    if (*cur == end)
        return 0;
    uint64_t key;
    if (read_varint(cur, end, &key))
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    switch (f->wire) {
    case NNX_PB_VARINT:
        return read_varint(cur, end, &f->v) ? -1 : 1;
    case NNX_PB_FIXED64:
        if (end - *cur < 8)
            return -1;
        f->v = read_le(*cur, 8);
        *cur += 8;
        return 1;
    case NNX_PB_FIXED32:
        if (end - *cur < 4)
            return -1;
        f->v = read_le(*cur, 4);
        *cur += 4;
        return 1;
    case NNX_PB_LEN:
        if (read_varint(cur, end, &f->v) || f->v > (uint64_t)(end - *cur))
            return -1;
        f->p = *cur;
        f->n = (size_t)f->v;
        *cur += f->n;
        return 1;
    default:
        return -1;
    }
}

typedef struct tf_event {
    double wall_time;
    int64_t step;
    char file_version[32];
    int nvalues;              /* Summary.Value count */
    char tag[64];
    int has_simple;
    float simple;
    char plugin[16];
    int has_tensor, has_shape, ndims;
    int64_t dtype;
    const uint8_t *text;      /* the first string_val, into the file buffer */
    size_t text_len;
} tf_event;

static void copy_str(char *dst, size_t cap, const pb_field *f)
{
    size_t n = f->n < cap - 1 ? f->n : cap - 1;
    memcpy(dst, f->p, n);
    dst[n] = '\0';
}

static int decode_tensor(const uint8_t *p, const uint8_t *end, tf_event *e)
{
    pb_field f;
    int r;
    e->has_tensor = 1;
    while ((r = pb_next(&p, end, &f)) == 1) {
        if (f.num == 1 && f.wire == NNX_PB_VARINT)
            e->dtype = (int64_t)f.v;
        else if (f.num == 2 && f.wire == NNX_PB_LEN) {
            e->has_shape = 1;
            const uint8_t *q = f.p;
            pb_field d;
            while ((r = pb_next(&q, f.p + f.n, &d)) == 1)
                e->ndims += d.num == 2;
            if (r < 0)
                return -1;
        } else if (f.num == 8 && f.wire == NNX_PB_LEN && !e->text) {
            e->text = f.p;
            e->text_len = f.n;
        }
    }
    return r;
}

static int decode_metadata(const uint8_t *p, const uint8_t *end, tf_event *e)
{
    pb_field f, g;
    int r;
    while ((r = pb_next(&p, end, &f)) == 1) {
        if (f.num != 1 || f.wire != NNX_PB_LEN)
            continue;
        const uint8_t *q = f.p;
        while ((r = pb_next(&q, f.p + f.n, &g)) == 1)
            if (g.num == 1 && g.wire == NNX_PB_LEN)
                copy_str(e->plugin, sizeof e->plugin, &g);
        if (r < 0)
            return -1;
    }
    return r;
}

static int decode_value(const uint8_t *p, const uint8_t *end, tf_event *e)
{
    pb_field f;
    int r;
    while ((r = pb_next(&p, end, &f)) == 1) {
        if (f.num == 1 && f.wire == NNX_PB_LEN)
            copy_str(e->tag, sizeof e->tag, &f);
        else if (f.num == 2 && f.wire == NNX_PB_FIXED32) {
            uint32_t bits = (uint32_t)f.v;
            memcpy(&e->simple, &bits, 4);
            e->has_simple = 1;
        } else if (f.num == 8 && f.wire == NNX_PB_LEN) {
            if (decode_tensor(f.p, f.p + f.n, e) < 0)
                return -1;
        } else if (f.num == 9 && f.wire == NNX_PB_LEN) {
            if (decode_metadata(f.p, f.p + f.n, e) < 0)
                return -1;
        }
    }
    return r;
}

static int decode_event(const uint8_t *p, size_t n, tf_event *e)
{
    const uint8_t *end = p + n;
    pb_field f, g;
    int r;
    memset(e, 0, sizeof *e);
    while ((r = pb_next(&p, end, &f)) == 1) {
        if (f.num == 1 && f.wire == NNX_PB_FIXED64)
            memcpy(&e->wall_time, &f.v, 8);
        else if (f.num == 2 && f.wire == NNX_PB_VARINT)
            e->step = (int64_t)f.v;
        else if (f.num == 3 && f.wire == NNX_PB_LEN)
            copy_str(e->file_version, sizeof e->file_version, &f);
        else if (f.num == 5 && f.wire == NNX_PB_LEN) {
            const uint8_t *q = f.p;
            while ((r = pb_next(&q, f.p + f.n, &g)) == 1) {
                if (g.num != 1 || g.wire != NNX_PB_LEN)
                    continue;
                e->nvalues++;
                if (decode_value(g.p, g.p + g.n, e) < 0)
                    return -1;
            }
            if (r < 0)
                return -1;
        } else {
            return -1;  /* nnx writes no other Event field */
        }
    }
    return r;
}

/* Parse a whole event file into ev[max]: the number of events, or -1 (with
 * `why`) on a truncated record, a bad CRC or a malformed Event. */
static int read_events(const uint8_t *buf, size_t n, tf_event *ev, int max,
                       const char **why)
{
    size_t at = 0;
    int count = 0;
    while (at < n) {
        if (n - at < 12) {
            *why = "truncated header";
            return -1;
        }
        uint64_t len = read_le(buf + at, 8);
        if ((uint32_t)read_le(buf + at + 8, 4) != nnx_crc32c_masked(buf + at, 8)) {
            *why = "length CRC";
            return -1;
        }
        if (len > n - at - 12 || n - at - 12 - len < 4) {
            *why = "truncated record";
            return -1;
        }
        const uint8_t *data = buf + at + 12;
        if ((uint32_t)read_le(data + len, 4) != nnx_crc32c_masked(data, len)) {
            *why = "data CRC";
            return -1;
        }
        if (count == max) {
            *why = "too many events";
            return -1;
        }
        if (decode_event(data, len, &ev[count]) < 0) {
            *why = "malformed Event";
            return -1;
        }
        count++;
        at += 12 + len + 4;
    }
    return count;
}

/* --- the writer ------------------------------------------------------------ */

typedef struct fixture {
    char *dir;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->dir = tmpdir_make("tb");
    *state = fx;
    return fx->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tmpdir_remove(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static void first_record_bytes(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    nnx_tb *tb = nnx_tb_open(fx->dir, 1700000000.5, "testhost", &err);
    assert_non_null(tb);
    char want_path[512];
    snprintf(want_path, sizeof want_path,
             "%s/events.out.tfevents.1700000000.testhost", fx->dir);
    assert_string_equal(nnx_tb_path(tb), want_path);
    /* Hand-computed: u64 24, masked CRC of it, Event{wall_time: 1700000000.5,
     * file_version: "brain.Event:2"}, masked CRC of those 24 bytes. */
    static const uint8_t want[] = {
        0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa3, 0x7f, 0x4b, 0x22,
        0x09, 0x00, 0x00, 0x20, 0x40, 0xfc, 0x54, 0xd9, 0x41, 0x1a, 0x0d, 'b',
        'r', 'a', 'i', 'n', '.', 'E', 'v', 'e', 'n', 't', ':', '2',
        0x2b, 0x35, 0x31, 0x10};
    size_t n;
    char *got = tmpdir_slurp(want_path, &n);  /* already flushed by open */
    assert_non_null(got);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(got, want, sizeof want);
    free(got);
    assert_int_equal(nnx_tb_close(tb, &err), 0);
}

static void scalar_record_bytes(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    nnx_tb *tb = nnx_tb_open(fx->dir, 1700000000.5, "h", &err);
    assert_non_null(tb);
    assert_int_equal(nnx_tb_scalar(tb, "lr", 3, 0.25, 1700000001.0, &err), 0);
    assert_int_equal(nnx_tb_close(tb, &err), 0);
    size_t n;
    char path[512];
    snprintf(path, sizeof path, "%s/events.out.tfevents.1700000000.h", fx->dir);
    char *got = tmpdir_slurp(path, &n);
    assert_non_null(got);
    /* Second record's payload: Event{wall_time: 1700000001, step: 3,
     * summary: {value: [{tag: "lr", simple_value: 0.25}]}}. */
    static const uint8_t payload[] = {
        0x09, 0x00, 0x00, 0x40, 0x40, 0xfc, 0x54, 0xd9, 0x41,
        0x10, 0x03,
        0x2a, 0x0b, 0x0a, 0x09, 0x0a, 0x02, 'l', 'r', 0x15, 0x00, 0x00, 0x80, 0x3e};
    size_t first = 12 + 24 + 4;
    assert_int_equal(n, first + 12 + sizeof payload + 4);
    assert_int_equal(read_le((const uint8_t *)got + first, 8), sizeof payload);
    assert_memory_equal(got + first + 12, payload, sizeof payload);
    free(got);
}

static void file_reads_back(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    nnx_tb *tb = nnx_tb_open(fx->dir, 1700000000.0, "host", &err);
    assert_non_null(tb);
    static const char *tags[] = {"train/loss", "valid/auc", "lr"};
    double value[3][3];
    for (int epoch = 1; epoch <= 3; epoch++) {
        value[epoch - 1][0] = 2.0 / epoch;
        value[epoch - 1][1] = 0.5 + 0.1 * epoch;
        value[epoch - 1][2] = 1e-3 * epoch;
        for (int t = 0; t < 3; t++)
            assert_int_equal(nnx_tb_scalar(tb, tags[t], epoch, value[epoch - 1][t],
                                           1700000000.0 + epoch, &err), 0);
        assert_int_equal(nnx_tb_flush(tb, &err), 0);
    }
    const char *keys[] = {"optimizer.lr", "model", "odd|key"};
    const char *vals[] = {"0.003", "mlp(width = 512)", "a\nb"};
    assert_int_equal(nnx_tb_params(tb, keys, vals, 3, 0, 1700000004.0, &err), 0);
    assert_int_equal(nnx_tb_text(tb, "note", 2, "", 1700000005.0, &err), 0);
    char path[512];
    snprintf(path, sizeof path, "%s", nnx_tb_path(tb));
    assert_int_equal(nnx_tb_close(tb, &err), 0);

    size_t n;
    uint8_t *buf = (uint8_t *)tmpdir_slurp(path, &n);
    assert_non_null(buf);
    tf_event ev[16];
    const char *why = "";
    int count = read_events(buf, n, ev, 16, &why);
    if (count < 0)
        fail_msg("reader: %s", why);
    assert_int_equal(count, 1 + 9 + 2);

    assert_string_equal(ev[0].file_version, "brain.Event:2");
    assert_true(ev[0].wall_time == 1700000000.0);
    assert_int_equal(ev[0].nvalues, 0);
    for (int epoch = 1; epoch <= 3; epoch++)
        for (int t = 0; t < 3; t++) {
            const tf_event *e = &ev[1 + 3 * (epoch - 1) + t];
            assert_int_equal(e->nvalues, 1);
            assert_string_equal(e->tag, tags[t]);
            assert_int_equal(e->step, epoch);
            assert_true(e->wall_time == 1700000000.0 + epoch);
            assert_true(e->has_simple);
            assert_true(e->simple == (float)value[epoch - 1][t]);
            assert_false(e->has_tensor);
            assert_string_equal(e->file_version, "");
        }
    const tf_event *p = &ev[10];
    assert_string_equal(p->tag, "params");
    assert_int_equal(p->step, 0);
    assert_string_equal(p->plugin, "text");
    assert_true(p->has_tensor && p->has_shape);
    assert_int_equal(p->ndims, 0);
    assert_int_equal(p->dtype, 7);
    assert_false(p->has_simple);
    const char *md = "| parameter | value |\n|---|---|\n"
                     "| optimizer.lr | 0.003 |\n"
                     "| model | mlp(width = 512) |\n"
                     "| odd\\|key | a b |\n";
    assert_int_equal(p->text_len, strlen(md));
    assert_memory_equal(p->text, md, strlen(md));
    assert_string_equal(ev[11].tag, "note");
    assert_int_equal(ev[11].step, 2);
    assert_non_null(ev[11].text);  /* an empty string_val is still there */
    assert_int_equal(ev[11].text_len, 0);

    /* The reader can fail: a flipped bit in a payload breaks its CRC, one in
     * a length breaks the length CRC, and a cut file is truncated. */
    buf[12 + 24 + 4 + 12 + 5] ^= 0x01;
    assert_int_equal(read_events(buf, n, ev, 16, &why), -1);
    assert_string_equal(why, "data CRC");
    buf[12 + 24 + 4 + 12 + 5] ^= 0x01;
    buf[12 + 24 + 4] ^= 0x40;
    assert_int_equal(read_events(buf, n, ev, 16, &why), -1);
    assert_string_equal(why, "length CRC");
    buf[12 + 24 + 4] ^= 0x40;
    assert_int_equal(read_events(buf, n - 3, ev, 16, &why), -1);
    assert_string_equal(why, "truncated record");
    assert_int_equal(read_events(buf, n, ev, 16, &why), count);
    free(buf);
}

static void flushed_epochs_survive(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    nnx_tb *tb = nnx_tb_open(fx->dir, 1700000000.0, "host", &err);
    assert_non_null(tb);
    tf_event ev[8];
    const char *why = "";
    for (int epoch = 1; epoch <= 3; epoch++) {
        assert_int_equal(nnx_tb_scalar(tb, "train/loss", epoch, 1.0 / epoch,
                                       1700000000.0 + epoch, &err), 0);
        assert_int_equal(nnx_tb_flush(tb, &err), 0);
        /* While still open, the file already holds every epoch so far. */
        size_t n;
        uint8_t *buf = (uint8_t *)tmpdir_slurp(nnx_tb_path(tb), &n);
        assert_non_null(buf);
        assert_int_equal(read_events(buf, n, ev, 8, &why), 1 + epoch);
        assert_true(ev[epoch].simple == (float)(1.0 / epoch));
        free(buf);
    }
    assert_int_equal(nnx_tb_close(tb, &err), 0);
}

static void names_never_clash(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    nnx_tb *a = nnx_tb_open(fx->dir, 1.0, "h", &err);
    nnx_tb *b = nnx_tb_open(fx->dir, 1.9, "h", &err);
    nnx_tb *c = nnx_tb_open(fx->dir, 1.0, "a/b", &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    char want[512];
    snprintf(want, sizeof want, "%s/events.out.tfevents.0000000001.h", fx->dir);
    assert_string_equal(nnx_tb_path(a), want);
    snprintf(want, sizeof want, "%s/events.out.tfevents.0000000001.h.1", fx->dir);
    assert_string_equal(nnx_tb_path(b), want);
    snprintf(want, sizeof want, "%s/events.out.tfevents.0000000001.a_b", fx->dir);
    assert_string_equal(nnx_tb_path(c), want);
    assert_int_equal(nnx_tb_close(a, &err), 0);
    assert_int_equal(nnx_tb_close(b, &err), 0);
    assert_int_equal(nnx_tb_close(c, &err), 0);
    assert_int_equal(nnx_tb_close(NULL, &err), 0);
    /* host NULL: the machine's name, still one file. */
    nnx_tb *d = nnx_tb_open(fx->dir, 2.0, NULL, &err);
    assert_non_null(d);
    assert_non_null(strstr(nnx_tb_path(d), "events.out.tfevents.0000000002."));
    assert_int_equal(nnx_tb_close(d, &err), 0);
}

static void bad_input_is_an_error(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    char path[512];

    /* The run directory is created, but not its missing parents. */
    snprintf(path, sizeof path, "%s/missing/run", fx->dir);
    assert_null(nnx_tb_open(path, 1.0, "h", &err));
    assert_non_null(strstr(err.msg, "cannot create directory"));

    /* A file where the directory should be (refused even for root). */
    snprintf(path, sizeof path, "%s/file", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    err.msg[0] = '\0';
    assert_null(nnx_tb_open(path, 1.0, "h", &err));
    assert_non_null(strstr(err.msg, "not a directory"));
    snprintf(path, sizeof path, "%s/file/sub", fx->dir);
    assert_null(nnx_tb_open(path, 1.0, "h", &err));
    assert_non_null(strstr(err.msg, path));

    assert_null(nnx_tb_open("", 1.0, "h", &err));
    assert_null(nnx_tb_open(fx->dir, -5.0, "h", &err));
    assert_null(nnx_tb_open(fx->dir, NAN, "h", NULL));

    nnx_tb *tb = nnx_tb_open(fx->dir, 1.0, "h", &err);
    assert_non_null(tb);
    assert_int_equal(nnx_tb_scalar(tb, "", 1, 1.0, 2.0, &err), -1);
    assert_non_null(strstr(err.msg, "tag"));
    assert_int_equal(nnx_tb_scalar(tb, NULL, 1, 1.0, 2.0, NULL), -1);
    assert_int_equal(nnx_tb_text(tb, "", 1, "x", 2.0, &err), -1);
    assert_int_equal(nnx_tb_params(tb, NULL, NULL, 1, 0, 2.0, &err), -1);
    assert_int_equal(nnx_tb_close(tb, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_check_vectors),
        cmocka_unit_test(crc32c_continues_and_masks),
        cmocka_unit_test(pb_varints),
        cmocka_unit_test(pb_fixed_and_length_delimited),
        cmocka_unit_test_setup_teardown(first_record_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(scalar_record_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(file_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(flushed_epochs_survive, setup, teardown),
        cmocka_unit_test_setup_teardown(names_never_clash, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_input_is_an_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
