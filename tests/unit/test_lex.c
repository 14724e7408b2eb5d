/* test_lex.c — tokens, their byte ranges and values; lexical errors; any input is survived. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lang/syntax.h"
#include "nnx.tab.h"
#include "lex.yy.h"

enum { MAX_TOKENS = 64 };

typedef struct token {
    int      kind;
    nnx_span span;
    char    *text;      /* IDENT, NUMBER, STRING: the value */
} token;

typedef struct lexed {
    nnx_diags  diags;
    nnx_file  *file;    /* holds the source and the comments */
    token      toks[MAX_TOKENS];
    int        n;
} lexed;

/* Every token of `text` up to the end. */
static lexed *lex(const char *text)
{
    lexed *lx = calloc(1, sizeof *lx);
    assert_non_null(lx);
    lx->file = calloc(1, sizeof *lx->file);
    lx->file->src = nnx_source_from_string("lex.nnx", text);
    nnx_pctx pc = { .src = lx->file->src, .diags = &lx->diags, .file = lx->file, .stash_tok = -1 };
    yyscan_t scanner;
    assert_int_equal(yylex_init_extra(&pc, &scanner), 0);
    YY_BUFFER_STATE buf = yy_scan_bytes(pc.src->text, (int)pc.src->len, scanner);
    for (;;) {
        YYSTYPE val = {0};
        YYLTYPE loc;
        int kind = nnx_scan(&val, &loc, scanner);
        if (kind == 0)
            break;
        assert_true(lx->n < MAX_TOKENS);
        bool has_text = kind == IDENT || kind == NUMBER || kind == STRING;
        lx->toks[lx->n++] = (token){ kind, loc, has_text ? val.str : NULL };
    }
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    free(pc.sbuf);
    free(pc.opens);
    return lx;
}

static void lexed_free(lexed *lx)
{
    for (int i = 0; i < lx->n; i++)
        free(lx->toks[i].text);
    nnx_file_free(lx->file);
    nnx_diags_free(&lx->diags);
    free(lx);
}

static void assert_span(const lexed *lx, int i, const char *want)
{
    const token *t = &lx->toks[i];
    size_t n = t->span.end - t->span.begin;
    assert_int_equal(n, strlen(want));
    assert_memory_equal(lx->file->src->text + t->span.begin, want, n);
}

static void keywords_and_names(void **state)
{
    (void)state;
    lexed *lx = lex("import let data network experiment extends search ensemble repeat in true false\n"
                    "input data_dir _x Repeat x9");
    const int want[] = { IMPORT, LET, DATA, NETWORK, EXPERIMENT, EXTENDS, SEARCH, ENSEMBLE,
                         REPEAT, IN, TRUE, FALSE, IDENT, IDENT, IDENT, IDENT, IDENT };
    assert_int_equal(lx->n, 17);
    for (int i = 0; i < 17; i++)
        assert_int_equal(lx->toks[i].kind, want[i]);
    assert_string_equal(lx->toks[12].text, "input");
    assert_string_equal(lx->toks[13].text, "data_dir");
    assert_string_equal(lx->toks[15].text, "Repeat");
    assert_span(lx, 16, "x9");
    assert_int_equal(lx->diags.nerrors, 0);
    lexed_free(lx);
}

static void numbers_keep_their_text(void **state)
{
    (void)state;
    lexed *lx = lex("3 0.5 1e-3 2.5E+4 007 10e2");
    assert_int_equal(lx->n, 6);
    const char *want[] = { "3", "0.5", "1e-3", "2.5E+4", "007", "10e2" };
    for (int i = 0; i < 6; i++) {
        assert_int_equal(lx->toks[i].kind, NUMBER);
        assert_string_equal(lx->toks[i].text, want[i]);
        assert_span(lx, i, want[i]);
    }
    assert_int_equal(lx->diags.nerrors, 0);
    lexed_free(lx);
}

static void malformed_numbers(void **state)
{
    (void)state;
    const char *bad[] = { "1e", "1e+", "2.", "3x", "1.2.3", "4E-x", "1e999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lexed *lx = lex(bad[i]);
        assert_int_equal(lx->n, 1);                 /* one token, so parsing goes on */
        assert_int_equal(lx->toks[0].kind, NUMBER);
        assert_int_equal(lx->diags.nerrors, 1);
        assert_int_equal(lx->diags.head->loc.begin, 0);
        assert_int_equal(lx->diags.head->loc.end, strlen(bad[i]));
        lexed_free(lx);
    }
}

static void strings_and_escapes(void **state)
{
    (void)state;
    lexed *lx = lex("\"a\\\"b\\\\c\\nd\\te\" \"\" \"é ü\"");
    assert_int_equal(lx->n, 3);
    assert_string_equal(lx->toks[0].text, "a\"b\\c\nd\te");
    assert_span(lx, 0, "\"a\\\"b\\\\c\\nd\\te\"");
    assert_string_equal(lx->toks[1].text, "");
    assert_string_equal(lx->toks[2].text, "é ü");
    assert_int_equal(lx->diags.nerrors, 0);
    lexed_free(lx);

    lx = lex("\"a\\qb\" x");
    assert_int_equal(lx->n, 2);
    assert_string_equal(lx->toks[0].text, "aqb");
    assert_int_equal(lx->diags.nerrors, 1);
    assert_string_equal(lx->diags.head->msg, "unknown escape '\\q' in a string");
    assert_int_equal(lx->diags.head->loc.begin, 2);
    assert_int_equal(lx->diags.head->loc.end, 4);
    lexed_free(lx);
}

static void unterminated_strings(void **state)
{
    (void)state;
    lexed *lx = lex("let s = \"abc\nlet t = 1");
    /* The string ends at the line's end; the next line lexes normally. */
    assert_int_equal(lx->n, 8);
    assert_int_equal(lx->toks[3].kind, STRING);
    assert_string_equal(lx->toks[3].text, "abc");
    assert_int_equal(lx->toks[4].kind, LET);
    assert_int_equal(lx->diags.nerrors, 1);
    assert_string_equal(lx->diags.head->msg, "unterminated string");
    assert_int_equal(lx->diags.head->loc.begin, 8);
    lexed_free(lx);

    lx = lex("\"abc\\");
    assert_int_equal(lx->n, 1);
    assert_int_equal(lx->diags.nerrors, 1);
    lexed_free(lx);
}

static void punctuation_and_comments(void **state)
{
    (void)state;
    lexed *lx = lex("a += [b, c]; # note\n(-x * y / z) . { } = # end");
    const int want[] = { IDENT, PLUSEQ, '[', IDENT, ',', IDENT, ']', ';',
                         '(', '-', IDENT, '*', IDENT, '/', IDENT, ')', '.', '{', '}', '=' };
    assert_int_equal(lx->n, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(lx->toks[i].kind, want[i]);
    assert_int_equal(lx->file->ncomments, 2);
    nnx_loc c = lx->file->comments[0].loc;
    assert_memory_equal(lx->file->src->text + c.begin, "# note", c.end - c.begin);
    assert_int_equal(c.end - c.begin, 6);
    lexed_free(lx);
}

static void bad_characters(void **state)
{
    (void)state;
    lexed *lx = lex("a @ b $ é \x01");
    int undef = 0;
    for (int i = 0; i < lx->n; i++)
        undef += lx->toks[i].kind == YYUNDEF;
    assert_int_equal(undef, 4);
    assert_int_equal(lx->diags.nerrors, 4);
    assert_string_equal(lx->diags.head->msg, "unexpected character '@'");
    assert_string_equal(lx->diags.tail->msg, "unexpected character '\\x01'");
    lexed_free(lx);
}

static void crlf_and_locations(void **state)
{
    (void)state;
    lexed *lx = lex("a\r\n  bb\r\n");
    assert_int_equal(lx->n, 2);
    assert_int_equal(lx->toks[1].span.begin, 4);    /* "a\n  bb": CR gone */
    int line, col;
    nnx_loc_linecol(lx->file->src, lx->toks[1].span.begin, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 3);
    lexed_free(lx);
}

/* --- survival: nothing crashes, hangs or leaks, whatever the input -------- */

static const char example[] =
    "import \"std/nets.nnx\"\nlet classes = 10\n"
    "data d { train = idx(\"a\" + \"/b\", classes = [0, 6]) valid = split(train, 0.2) }\n"
    "network mlp(width = 256, p = 0.2) {\n    dense(width)  batchnorm  swish  dropout(p)\n"
    "    repeat(2) { dense(width / 2) }\n    dense(classes)\n}\n"
    "experiment e extends base {  # c\n    optimizer.lr = 3e-3\n    metrics += [lua.f1]\n"
    "    schedule { warmup = 1 decay = cosine(min_lr = 1e-5) }\n"
    "    search random(trials = 20, seed = 3) { model.p in uniform(0, -0.5) }\n"
    "    ensemble { seeds = 5 }\n}\n";

static void parse_and_free(const char *text)
{
    nnx_diags d = {0};
    nnx_file *f = nnx_parse(nnx_source_from_string("fuzz.nnx", text), &d);
    assert_non_null(f);
    assert_true(d.nerrors <= NNX_MAX_SYNTAX_ERRORS);
    nnx_file_free(f);
    nnx_diags_free(&d);
}

static void every_truncation_is_survived(void **state)
{
    (void)state;
    size_t n = strlen(example);
    char *buf = malloc(n + 1);
    for (size_t cut = 0; cut <= n; cut++) {
        memcpy(buf, example, cut);
        buf[cut] = '\0';
        parse_and_free(buf);
    }
    /* The whole example is valid. */
    nnx_diags d = {0};
    nnx_file *f = nnx_parse(nnx_source_from_string("ok.nnx", example), &d);
    assert_int_equal(d.nerrors, 0);
    assert_int_equal(f->nitems, 5);
    nnx_file_free(f);
    nnx_diags_free(&d);
    free(buf);
}

/* A deterministic generator, so a failure can be replayed. */
static unsigned long next_rand(unsigned long *s)
{
    *s = *s * 6364136223846793005UL + 1442695040888963407UL;
    return *s >> 33;
}

static void random_input_is_survived(void **state)
{
    (void)state;
    static const char *pieces[] = { "let ", "data ", "network ", "experiment ", "search ", "in ",
                                    "repeat", "x", "y.z", "=", "+=", "{", "}", "(", ")", "[", "]",
                                    ",", ";", "1", "2.5e-3", "\"s\"", "\"", "\\", "#c\n", "\n",
                                    " ", "-", "*", "/", "+", "@", "1e", "\xc3\xa9", "extends " };
    unsigned long seed = 12345;
    char buf[512];
    for (int round = 0; round < 3000; round++) {
        size_t len = 0;
        size_t count = next_rand(&seed) % 60;
        for (size_t i = 0; i < count; i++) {
            const char *p = pieces[next_rand(&seed) % (sizeof pieces / sizeof pieces[0])];
            size_t k = strlen(p);
            if (len + k >= sizeof buf)
                break;
            memcpy(buf + len, p, k);
            len += k;
        }
        buf[len] = '\0';
        parse_and_free(buf);
    }
    /* Raw bytes too (without NUL, which a C string cannot hold). */
    for (int round = 0; round < 1000; round++) {
        size_t len = next_rand(&seed) % 300;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)(next_rand(&seed) % 255 + 1);
        buf[len] = '\0';
        parse_and_free(buf);
    }
}

static char *repeated(const char *head, const char *unit, size_t times, const char *tail)
{
    size_t h = strlen(head), u = strlen(unit), t = strlen(tail);
    char *s = malloc(h + u * times + t + 1);
    memcpy(s, head, h);
    for (size_t i = 0; i < times; i++)
        memcpy(s + h + i * u, unit, u);
    memcpy(s + h + u * times, tail, t + 1);
    return s;
}

static void deep_nesting_is_an_error_not_a_crash(void **state)
{
    (void)state;
    const char *cases[][3] = {
        { "let x = ", "(", "1" },
        { "let x = ", "[", "1" },
        { "let x = ", "-", "1" },
        { "let x = 1", " + 1", "" },
        { "network n { ", "repeat(2) { ", "dense(1)" },
        { "experiment e { ", "a { ", "b = 1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = repeated(cases[i][0], cases[i][1], 100000, cases[i][2]);
        nnx_diags d = {0};
        nnx_file *f = nnx_parse(nnx_source_from_string("deep.nnx", text), &d);
        assert_non_null(f);
        assert_true(d.nerrors >= 1);
        nnx_file_free(f);
        nnx_diags_free(&d);
        free(text);
    }
}

static void too_many_errors_stop_the_parse(void **state)
{
    (void)state;
    char *text = repeated("", "let a = \"\\q\"\nlet b = (1\n", 10000, "");
    nnx_diags d = {0};
    nnx_file *f = nnx_parse(nnx_source_from_string("many.nnx", text), &d);
    assert_int_equal(d.nerrors, NNX_MAX_SYNTAX_ERRORS);
    assert_int_equal(d.tail->level, NNX_NOTE);     /* "too many errors" */
    nnx_file_free(f);
    nnx_diags_free(&d);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keywords_and_names),
        cmocka_unit_test(numbers_keep_their_text),
        cmocka_unit_test(malformed_numbers),
        cmocka_unit_test(strings_and_escapes),
        cmocka_unit_test(unterminated_strings),
        cmocka_unit_test(punctuation_and_comments),
        cmocka_unit_test(bad_characters),
        cmocka_unit_test(crlf_and_locations),
        cmocka_unit_test(every_truncation_is_survived),
        cmocka_unit_test(random_input_is_survived),
        cmocka_unit_test(deep_nesting_is_an_error_not_a_crash),
        cmocka_unit_test(too_many_errors_stop_the_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
