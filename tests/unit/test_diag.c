/* test_diag.c — messages print exactly as LANGUAGE.md §11 shows; sources read safely; suggestions. */
#define _XOPEN_SOURCE 700       /* open_memstream, mkstemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnx/diag.h"

static char *printed(const nnx_diags *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    nnx_diags_print(d, m, false);
    fclose(m);
    return buf;
}

/* The example of LANGUAGE.md section 11, byte for byte. */
static void prints_the_documented_form(void **state)
{
    (void)state;
    char text[2048] = "";
    for (int i = 1; i < 12; i++)
        strcat(text, "# filler\n");
    strcat(text, "    dense(width)  batchnorm  swsh  dropout(p)\n}\n");
    nnx_source *src = nnx_source_from_string("exp.nnx", text);
    uint32_t at = (uint32_t)(strstr(src->text, "swsh") - src->text);
    nnx_diags d = {0};
    nnx_diag *g = nnx_error(&d, ((nnx_loc){ src, at, at + 4 }), "unknown layer '%s'", "swsh");
    nnx_diag_help(g, "did you mean '%s'?", "swish");
    char *out = printed(&d);
    assert_string_equal(out,
        "exp.nnx:12:30: error: unknown layer 'swsh'\n"
        "   12 |     dense(width)  batchnorm  swsh  dropout(p)\n"
        "      |                              ^~~~\n"
        "      = help: did you mean 'swish'?\n");
    assert_int_equal(d.nerrors, 1);
    free(out);
    nnx_diags_free(&d);
    nnx_source_free(src);
}

static void levels_order_and_places(void **state)
{
    (void)state;
    nnx_source *src = nnx_source_from_string("a.nnx", "let a = 1\nlet bb = [1,\n  2]\n");
    nnx_diags d = {0};
    nnx_error(&d, ((nnx_loc){ src, 19, 30 }), "spans two lines");     /* "[1,\n  2]" */
    nnx_diag_add(&d, NNX_WARNING, ((nnx_loc){ src, 4, 5 }), "a warning");
    nnx_diag_add(&d, NNX_NOTE, ((nnx_loc){ src, (uint32_t)src->len, (uint32_t)src->len }), "at the end");
    nnx_error(&d, ((nnx_loc){ NULL, 0, 0 }), "no place: %d", 7);
    assert_int_equal(d.nerrors, 2);     /* warnings and notes do not count */
    char *out = printed(&d);
    assert_string_equal(out,
        "a.nnx:2:10: error: spans two lines\n"
        "    2 | let bb = [1,\n"
        "      |          ^~~\n"
        "a.nnx:1:5: warning: a warning\n"
        "    1 | let a = 1\n"
        "      |     ^\n"
        "a.nnx:3:5: note: at the end\n"
        "    3 |   2]\n"
        "      |     ^\n"
        "error: no place: 7\n");
    free(out);
    nnx_diags_free(&d);
    nnx_source_free(src);
}

static void carets_follow_tabs_and_utf8(void **state)
{
    (void)state;
    nnx_source *src = nnx_source_from_string("u.nnx", "\tlet é = \"ü\" x\n");
    uint32_t at = (uint32_t)(strstr(src->text, "x") - src->text);
    nnx_diags d = {0};
    nnx_error(&d, ((nnx_loc){ src, at, at + 1 }), "here");
    nnx_error(&d, ((nnx_loc){ src, 10, 14 }), "the string");
    char *out = printed(&d);
    assert_string_equal(out,
        "u.nnx:1:16: error: here\n"
        "    1 | \tlet é = \"ü\" x\n"
        "      | \t            ^\n"
        "u.nnx:1:11: error: the string\n"
        "    1 | \tlet é = \"ü\" x\n"
        "      | \t        ^~~\n");
    free(out);
    nnx_diags_free(&d);
    nnx_source_free(src);
}

static void wide_line_numbers_and_colour(void **state)
{
    (void)state;
    char *text = malloc(200000 * 2 + 10);
    for (int i = 0; i < 200000; i++)
        memcpy(text + 2 * i, "x\n", 2);
    strcpy(text + 400000, "y\n");
    nnx_source *src = nnx_source_from_string("w.nnx", text);
    free(text);
    nnx_diags d = {0};
    nnx_error(&d, ((nnx_loc){ src, 400000, 400001 }), "far");
    char *out = printed(&d);
    assert_string_equal(out, "w.nnx:200001:1: error: far\n200001 | y\n       | ^\n");
    free(out);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    nnx_diags_print(&d, m, true);
    fclose(m);
    assert_non_null(strstr(buf, "\033[1;31merror"));
    free(buf);
    nnx_diags_free(&d);
    nnx_source_free(src);
}

static char *temp_file(const void *bytes, size_t n)
{
    char *path = strdup("/tmp/nnx-diag-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    return path;
}

static void reading_folds_crlf_and_drops_a_bom(void **state)
{
    (void)state;
    const char *crlf = "\xef\xbb\xbflet a = 1\r\nlet b\r = 2\r\n";
    char *path = temp_file(crlf, strlen(crlf));
    nnx_diags d = {0};
    nnx_source *src = nnx_source_read(path, &d);
    assert_non_null(src);
    assert_int_equal(d.nerrors, 0);
    assert_string_equal(src->text, "let a = 1\nlet b\r = 2\n");   /* a lone CR stays */
    assert_int_equal(src->len, 21);
    assert_string_equal(src->path, path);
    nnx_source_free(src);
    unlink(path);
    free(path);
}

static void reading_rejects_bad_bytes_with_their_place(void **state)
{
    (void)state;
    const struct { const char *bytes; size_t n; uint32_t at; const char *msg; } cases[] = {
        { "ab\ncd\x00", 6, 5, "NUL byte in the file" },
        { "ok \xff", 4, 3, "invalid UTF-8 (byte 0xff)" },
        { "\xc0\xaf", 2, 0, "invalid UTF-8 (byte 0xc0)" },             /* overlong '/' */
        { "x \xed\xa0\x80", 5, 2, "invalid UTF-8 (byte 0xed)" },       /* a surrogate */
        { "x\xe2\x82", 3, 1, "invalid UTF-8 (byte 0xe2)" },            /* cut short */
        { "\xf4\x90\x80\x80", 4, 0, "invalid UTF-8 (byte 0xf4)" },     /* > U+10FFFF */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = temp_file(cases[i].bytes, cases[i].n);
        nnx_diags d = {0};
        assert_null(nnx_source_read(path, &d));
        assert_int_equal(d.nerrors, 1);
        assert_string_equal(d.head->msg, cases[i].msg);
        assert_int_equal(d.head->loc.begin, cases[i].at);
        assert_non_null(d.head->loc.src);       /* kept, so the line can be shown */
        char *out = printed(&d);
        assert_non_null(strstr(out, "^"));
        free(out);
        nnx_diags_free(&d);
        unlink(path);
        free(path);
    }
    /* Valid multibyte text of every length reads fine. */
    char *path = temp_file("a \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n", 13);
    nnx_diags d = {0};
    nnx_source *src = nnx_source_read(path, &d);
    assert_non_null(src);
    assert_int_equal(d.nerrors, 0);
    nnx_source_free(src);
    unlink(path);
    free(path);
}

static void missing_file_is_an_error_without_place(void **state)
{
    (void)state;
    nnx_diags d = {0};
    assert_null(nnx_source_read("/nonexistent/dir/x.nnx", &d));
    assert_int_equal(d.nerrors, 1);
    assert_null(d.head->loc.src);
    assert_string_equal(d.head->msg, "cannot read '/nonexistent/dir/x.nnx': No such file or directory");
    nnx_diags_free(&d);
    assert_null(nnx_source_read("/tmp", &d));   /* a directory */
    assert_int_equal(d.nerrors, 1);
    nnx_diags_free(&d);
    assert_null(nnx_source_read("/dev/zero", &d));  /* endless: refused at 64 MB */
    assert_int_equal(d.nerrors, 1);
    assert_string_equal(d.head->msg, "cannot read '/dev/zero': larger than 64 MB, too large for an .nnx file");
    nnx_diags_free(&d);
}

static void suggestions(void **state)
{
    (void)state;
    const char *layers[] = { "dense", "conv", "maxpool", "avgpool", "flatten", "dropout",
                             "batchnorm", "relu", "swish", "sigmoid", "tanh" };
    size_t n = sizeof layers / sizeof layers[0];
    assert_string_equal(nnx_suggest("swsh", layers, n), "swish");
    assert_string_equal(nnx_suggest("dense", layers, n), "dense");
    assert_string_equal(nnx_suggest("desne", layers, n), "dense");      /* a swap */
    assert_string_equal(nnx_suggest("batchnrom", layers, n), "batchnorm");
    assert_string_equal(nnx_suggest("Relu", layers, n), "relu");
    assert_string_equal(nnx_suggest("maxpol", layers, n), "maxpool");
    assert_null(nnx_suggest("lstm", layers, n));
    assert_null(nnx_suggest("x", layers, n));
    assert_null(nnx_suggest("completely_unrelated", layers, n));
    assert_null(nnx_suggest("swsh", layers, 0));
    assert_int_equal(nnx_edit_distance("", ""), 0);
    assert_int_equal(nnx_edit_distance("abc", ""), 3);
    assert_int_equal(nnx_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(nnx_edit_distance("ab", "ba"), 1);
}

static void spans_and_linecol(void **state)
{
    (void)state;
    nnx_source *src = nnx_source_from_string("s.nnx", "ab\ncd\n");
    int line, col;
    nnx_loc_linecol(src, 0, &line, &col);
    assert_true(line == 1 && col == 1);
    nnx_loc_linecol(src, 4, &line, &col);
    assert_true(line == 2 && col == 2);
    nnx_loc_linecol(src, 100, &line, &col);     /* past the end: clamped */
    assert_true(line == 3 && col == 1);
    nnx_loc a = { src, 1, 2 }, b = { src, 3, 5 }, none = { NULL, 0, 0 };
    nnx_loc s = nnx_loc_span(b, a);
    assert_true(s.begin == 1 && s.end == 5 && s.src == src);
    s = nnx_loc_span(none, a);
    assert_true(s.begin == 1 && s.end == 2);
    nnx_source_free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prints_the_documented_form),
        cmocka_unit_test(levels_order_and_places),
        cmocka_unit_test(carets_follow_tabs_and_utf8),
        cmocka_unit_test(wide_line_numbers_and_colour),
        cmocka_unit_test(reading_folds_crlf_and_drops_a_bom),
        cmocka_unit_test(reading_rejects_bad_bytes_with_their_place),
        cmocka_unit_test(missing_file_is_an_error_without_place),
        cmocka_unit_test(suggestions),
        cmocka_unit_test(spans_and_linecol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
