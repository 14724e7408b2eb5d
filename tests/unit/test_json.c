/* test_json.c — the JSON writer's layout and escaping, the reader's tree and its errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/util/json.h"
#include "nnx/rt/rng.h"

static char *write_sample(int indent)
{
    nnx_json_writer w;
    nnx_json_writer_to_buffer(&w, indent);
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "name", "a \"quoted\"\\path\n\ttab\x01");
    nnx_json_key_number(&w, "lr", 0.001);
    nnx_json_key_number(&w, "nan", NAN);
    nnx_json_key_number(&w, "inf", -INFINITY);
    nnx_json_key_int(&w, "epochs", 12);
    nnx_json_key_bool(&w, "ok", true);
    nnx_json_key(&w, "list");
    nnx_json_begin_array(&w);
    nnx_json_number(&w, 1);
    nnx_json_number(&w, 0.1);
    nnx_json_null(&w);
    nnx_json_begin_object(&w);
    nnx_json_end_object(&w);
    nnx_json_end_array(&w);
    nnx_json_key(&w, "empty");
    nnx_json_begin_array(&w);
    nnx_json_end_array(&w);
    nnx_json_end_object(&w);
    nnx_rt_error err = {{0}};
    assert_int_equal(nnx_json_writer_finish(&w, &err), 0);
    return nnx_json_writer_take(&w);
}

static void writer_compact_exact(void **state)
{
    (void)state;
    char *s = write_sample(0);
    assert_string_equal(s,
        "{\"name\":\"a \\\"quoted\\\"\\\\path\\n\\ttab\\u0001\",\"lr\":0.001,"
        "\"nan\":null,\"inf\":null,\"epochs\":12,\"ok\":true,"
        "\"list\":[1,0.1,null,{}],\"empty\":[]}");
    free(s);
}

static void writer_indented_exact(void **state)
{
    (void)state;
    nnx_json_writer w;
    nnx_json_writer_to_buffer(&w, 2);
    nnx_json_begin_object(&w);
    nnx_json_key_int(&w, "a", 1);
    nnx_json_key(&w, "b");
    nnx_json_begin_array(&w);
    nnx_json_number(&w, 2.5);
    nnx_json_string(&w, "x");
    nnx_json_end_array(&w);
    nnx_json_end_object(&w);
    assert_int_equal(nnx_json_writer_finish(&w, NULL), 0);
    char *s = nnx_json_writer_take(&w);
    assert_string_equal(s, "{\n  \"a\": 1,\n  \"b\": [\n    2.5,\n    \"x\"\n  ]\n}");
    free(s);
}

static void numbers_round_trip(void **state)
{
    (void)state;
    const double vals[] = { 0.1, 1.0 / 3, 1e-300, 6.02214076e23, -2.5, 0, 123456789.125, 5e-324 };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        nnx_json_writer w;
        nnx_json_writer_to_buffer(&w, 0);
        nnx_json_number(&w, vals[i]);
        assert_int_equal(nnx_json_writer_finish(&w, NULL), 0);
        nnx_json *v = nnx_json_parse(w.buf, w.len, NULL);
        assert_non_null(v);
        assert_int_equal(v->type, NNX_JSON_NUMBER);
        assert_true(v->number == vals[i]);
        nnx_json_free(v);
        nnx_json_writer_free(&w);
    }
}

static void writer_misuse_is_reported(void **state)
{
    (void)state;
    nnx_rt_error err = {{0}};
    nnx_json_writer w;

    nnx_json_writer_to_buffer(&w, 0);
    nnx_json_begin_object(&w);
    nnx_json_number(&w, 1);              /* no key */
    nnx_json_end_object(&w);
    assert_int_equal(nnx_json_writer_finish(&w, &err), -1);
    assert_non_null(strstr(err.msg, "without a key"));
    nnx_json_writer_free(&w);

    nnx_json_writer_to_buffer(&w, 0);
    nnx_json_begin_array(&w);
    assert_int_equal(nnx_json_writer_finish(&w, &err), -1);
    assert_non_null(strstr(err.msg, "unclosed"));
    nnx_json_writer_free(&w);

    nnx_json_writer_to_buffer(&w, 0);
    nnx_json_begin_array(&w);
    nnx_json_end_object(&w);
    assert_int_equal(nnx_json_writer_finish(&w, &err), -1);
    assert_non_null(strstr(err.msg, "end_object"));
    nnx_json_writer_free(&w);

    nnx_json_writer_to_buffer(&w, 0);
    nnx_json_null(&w);
    nnx_json_null(&w);
    assert_int_equal(nnx_json_writer_finish(&w, &err), -1);
    assert_non_null(strstr(err.msg, "second value"));
    nnx_json_writer_free(&w);
}

static void writer_to_file(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    nnx_json_writer w;
    nnx_json_writer_to_file(&w, f, 0);
    nnx_json_begin_array(&w);
    nnx_json_string(&w, "é");
    nnx_json_end_array(&w);
    assert_int_equal(nnx_json_writer_finish(&w, NULL), 0);
    rewind(f);
    char buf[64] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    assert_int_equal(n, strlen("[\"é\"]\n"));
    assert_string_equal(buf, "[\"é\"]\n");
}

static void reader_reads_what_writer_wrote(void **state)
{
    (void)state;
    char *s = write_sample(4);
    nnx_json_error err;
    nnx_json *v = nnx_json_parse(s, strlen(s), &err);
    assert_non_null(v);
    assert_int_equal(v->type, NNX_JSON_OBJECT);
    assert_int_equal(v->n, 8);
    assert_string_equal(nnx_json_as_string(nnx_json_get(v, "name"), NULL),
                        "a \"quoted\"\\path\n\ttab\x01");
    assert_true(nnx_json_as_number(nnx_json_get(v, "lr")) == 0.001);
    assert_true(isnan(nnx_json_as_number(nnx_json_get(v, "nan"))));
    assert_int_equal(nnx_json_get(v, "inf")->type, NNX_JSON_NULL);
    assert_true(nnx_json_as_number(nnx_json_get(v, "epochs")) == 12);
    assert_true(nnx_json_get(v, "ok")->boolean);
    const nnx_json *list = nnx_json_get(v, "list");
    assert_int_equal(list->n, 4);
    assert_true(nnx_json_as_number(nnx_json_at(list, 1)) == 0.1);
    assert_int_equal(nnx_json_at(list, 3)->type, NNX_JSON_OBJECT);
    assert_null(nnx_json_at(list, 4));
    assert_null(nnx_json_get(v, "missing"));
    assert_null(nnx_json_get(list, "name"));
    assert_int_equal(nnx_json_get(v, "empty")->n, 0);
    nnx_json_free(v);
    free(s);
}

static void reader_unicode_escapes(void **state)
{
    (void)state;
    const char *t = "[\"\\u00e9\\u20ac\\ud83d\\ude00\\/\", false, -0.5e+2]";
    nnx_json *v = nnx_json_parse(t, strlen(t), NULL);
    assert_non_null(v);
    assert_string_equal(v->items[0].string, "é€😀/");
    assert_false(v->items[1].boolean);
    assert_true(v->items[2].number == -50);
    nnx_json_free(v);
}

/* Each malformed text fails at the given line:col with a message containing `want`. */
static void expect_error(const char *text, int line, int col, const char *want)
{
    nnx_json_error err;
    nnx_json *v = nnx_json_parse(text, strlen(text), &err);
    if (v) {
        nnx_json_free(v);
        fail_msg("parsed malformed input: %s", text);
    }
    if (err.line != line || err.col != col || !strstr(err.msg, want))
        fail_msg("input %s: got %d:%d %s, want %d:%d ...%s...", text, err.line, err.col,
                 err.msg, line, col, want);
}

static void reader_rejects_malformed(void **state)
{
    (void)state;
    expect_error("", 1, 1, "found end of input");
    expect_error("   ", 1, 4, "found end of input");
    expect_error("{\"a\": 1,}", 1, 9, "expected a string key");
    expect_error("{\"a\" 1}", 1, 6, "expected ':'");
    expect_error("[1 2]", 1, 4, "expected ',' or ']'");
    expect_error("[1,\n  2,\n  ", 3, 3, "found end of input");
    expect_error("[1,\n  2  ", 1, 1, "unclosed array");
    expect_error("{\"a\": \"abc", 1, 7, "unterminated string");
    expect_error("\"a\nb\"", 1, 3, "control character");
    expect_error("\"\\x\"", 1, 2, "unknown escape");
    expect_error("\"\\u12g4\"", 1, 6, "bad hex digit");
    expect_error("\"\\ud800x\"", 1, 2, "unpaired surrogate");
    expect_error("01", 1, 2, "unexpected '1'");
    expect_error("1.", 1, 3, "after '.'");
    expect_error("1e+", 1, 4, "exponent");
    expect_error("-", 1, 2, "expected a digit");
    expect_error("tru", 1, 1, "expected a value");
    expect_error("nan", 1, 1, "expected a value");
    expect_error("{} {}", 1, 4, "after the value");
    expect_error("[\n\n  @]", 3, 3, "found '@'");
}

static void reader_limits_depth(void **state)
{
    (void)state;
    char deep[NNX_JSON_MAX_DEPTH * 2 + 8];
    size_t n = 0;
    for (int i = 0; i < NNX_JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < NNX_JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    nnx_json *v = nnx_json_parse(deep, n, NULL);
    assert_non_null(v);     /* exactly the limit is fine */
    nnx_json_free(v);

    char *deeper = malloc(100001);
    memset(deeper, '[', 100000);
    nnx_json_error err;
    assert_null(nnx_json_parse(deeper, 100000, &err));
    assert_non_null(strstr(err.msg, "nesting deeper"));
    assert_int_equal(err.offset, NNX_JSON_MAX_DEPTH);
    free(deeper);
}

/* Mutated documents never crash the reader: each parses or fails inside the text. */
static void reader_survives_mutations(void **state)
{
    (void)state;
    const char *seed = "{\"a\": [1, -2.5e3, \"x\\u00e9\\n\", true, null, {\"b\": false}], \"c\": \"\"}";
    size_t n = strlen(seed);
    char buf[128];
    nnx_rng g;
    nnx_rng_seed(&g, 11, NNX_STREAM_USER);
    int parsed = 0;
    for (int i = 0; i < 5000; i++) {
        memcpy(buf, seed, n);
        size_t len = n;
        int edits = 1 + (int)(nnx_rng_next(&g) % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)(nnx_rng_next(&g) % len);
            switch (nnx_rng_next(&g) % 3) {
            case 0: buf[at] = (char)(nnx_rng_next(&g) % 256); break;   /* replace */
            case 1: memmove(buf + at, buf + at + 1, len - at - 1); len--; break; /* delete */
            default: len = at + 1; break;                               /* truncate */
            }
            if (len == 0)
                len = 1;
        }
        nnx_json_error err;
        nnx_json *v = nnx_json_parse(buf, len, &err);
        if (v) {
            parsed++;
            nnx_json_free(v);
        } else {
            assert_true(err.offset <= len);
            assert_true(err.line >= 1 && err.col >= 1);
            assert_true(err.msg[0] != '\0');
        }
    }
    assert_true(parsed > 0 && parsed < 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_compact_exact),
        cmocka_unit_test(writer_indented_exact),
        cmocka_unit_test(numbers_round_trip),
        cmocka_unit_test(writer_misuse_is_reported),
        cmocka_unit_test(writer_to_file),
        cmocka_unit_test(reader_reads_what_writer_wrote),
        cmocka_unit_test(reader_unicode_escapes),
        cmocka_unit_test(reader_rejects_malformed),
        cmocka_unit_test(reader_limits_depth),
        cmocka_unit_test(reader_survives_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
