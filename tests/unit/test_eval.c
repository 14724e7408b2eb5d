/* test_eval.c — expression evaluation: arithmetic, strings, lets, symbols, list helpers, type errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check_fixture.h"
#include "lang/check_int.h"

/* Evaluate `let x = EXPR` (with the lets in `pre`) and return the value's
 * canonical text, or "ERROR: messages". */
static const char *eval_text(const char *pre, const char *expr)
{
    static char out[9000];
    char src[2048];
    snprintf(src, sizeof src, "%s\nlet x = %s\n", pre, expr);
    nnx_diags d = { 0 };
    nnx_program *p = fx_program("e.nnx", src, &d);
    nnx_checker *c = nnx_checker_new(p);
    c->d = &d;
    const nnx_item *it = NULL;
    for (size_t i = 0; i < p->nnames; i++)
        if (!strcmp(p->names[i]->name, "x"))
            it = p->names[i];
    ck_val *v = it ? ck_eval(c, &c->tmp, it->value, NULL) : NULL;
    if (v && !d.nerrors)
        snprintf(out, sizeof out, "%s", ck_val_text(&c->tmp, v));
    else
        snprintf(out, sizeof out, "ERROR: %s", fx_msgs(&d));
    nnx_checker_free(c);
    fx_program_free(p);
    nnx_diags_free(&d);
    return out;
}

static void arithmetic(void **state)
{
    (void)state;
    assert_string_equal(eval_text("", "1 + 2 * 3"), "7");
    assert_string_equal(eval_text("", "(1 + 2) * 3"), "9");
    assert_string_equal(eval_text("", "-2 * 3 - 1"), "-7");
    assert_string_equal(eval_text("", "256 / 2"), "128");
    assert_string_equal(eval_text("", "1 / 4"), "0.25");
    assert_string_equal(eval_text("", "3e-4 * 10"), "0.003");
}

static void strings_and_lists(void **state)
{
    (void)state;
    assert_string_equal(eval_text("let d = \"/data\"", "d + \"/train.gz\""), "\"/data/train.gz\"");
    assert_string_equal(eval_text("", "[1, 2] + [3]"), "[1, 2, 3]");
    assert_string_equal(eval_text("", "\"say \\\"hi\\\"\""), "\"say \\\"hi\\\"\"");
}

static void lets_and_symbols(void **state)
{
    (void)state;
    assert_string_equal(eval_text("let w = 64\nlet h = w / 2", "h + w"), "96");
    assert_string_equal(eval_text("", "standard"), "standard");
    assert_string_equal(eval_text("", "valid.auc"), "valid.auc");
    assert_string_equal(eval_text("", "cosine(min_lr = 1e-5)"), "cosine(min_lr = 1e-05)");
}

static void list_helpers(void **state)
{
    (void)state;
    assert_string_equal(eval_text("", "decades(1e-5, 1e-1)"), "[1e-05, 0.0001, 0.001, 0.01, 0.1]");
    assert_string_equal(eval_text("", "decades(3e-4, 3e-2)"), "[0.0003, 0.003, 0.03]");
    assert_string_equal(eval_text("", "logspace(1e-4, 1e-2, 3)"), "[0.0001, 0.001, 0.01]");
    assert_string_equal(eval_text("", "linspace(0, 1, 5)"), "[0, 0.25, 0.5, 0.75, 1]");
    assert_string_equal(eval_text("", "linspace(0, 0.3, 4)"), "[0, 0.1, 0.2, 0.3]");
    assert_string_equal(eval_text("", "range(0, 10, 3)"), "[0, 3, 6, 9]");
    assert_string_equal(eval_text("", "range(5, 0, -2)"), "[5, 3, 1]");
    assert_string_equal(eval_text("", "range(1, 4)"), "[1, 2, 3]");
}

static void helper_errors(void **state)
{
    (void)state;
    assert_string_equal(eval_text("", "decades(1e-1, 1e-5)"), "ERROR: decades needs from < to, got 0.1 and 1e-05");
    assert_non_null(strstr(eval_text("", "decades(0, 1)"), "decades: from must be > 0, got 0"));
    assert_non_null(strstr(eval_text("", "range(0, 1, 0)"), "step must not be 0"));
    assert_non_null(strstr(eval_text("", "linspace(0, 1)"), "linspace needs argument 'n'"));
    assert_non_null(strstr(eval_text("", "logspace(1, 10, 2.5)"), "logspace: n must be an integer, got 2.5"));
    assert_non_null(strstr(eval_text("", "range(0, 1e9)"), "more than"));
}

static void type_errors(void **state)
{
    (void)state;
    assert_non_null(strstr(eval_text("", "\"a\" + 1"), "'+' joins two strings or adds two numbers"));
    assert_non_null(strstr(eval_text("", "1 / (2 - 2)"), "division by zero"));
    assert_non_null(strstr(eval_text("", "[1] * 2"), "'*' needs numbers, got a list"));
    assert_non_null(strstr(eval_text("", "-\"a\""), "'-' needs a number"));
    assert_non_null(strstr(eval_text("let a = 1", "a.x"), "constant 'a' is a number; it has no field 'x'"));
    assert_non_null(strstr(eval_text("let a = 1", "a(2)"), "'a' is a constant"));
}

static void let_cycle(void **state)
{
    (void)state;
    assert_non_null(strstr(eval_text("let a = b + 1\nlet b = a", "a"), "'a' is defined in terms of itself"));
}

static void env_helper(void **state)
{
    (void)state;
    unsetenv("NNX_TEST_EVAL_VAR");
    assert_string_equal(eval_text("", "env(\"NNX_TEST_EVAL_VAR\", \"/usr/share\")"), "\"/usr/share\"");
    assert_non_null(strstr(eval_text("", "env(\"NNX_TEST_EVAL_VAR\")"), "NNX_TEST_EVAL_VAR is not set"));
    setenv("NNX_TEST_EVAL_VAR", "/here", 1);
    assert_string_equal(eval_text("", "env(\"NNX_TEST_EVAL_VAR\", \"/usr/share\") + \"/x\""), "\"/here/x\"");
    unsetenv("NNX_TEST_EVAL_VAR");
}

static void number_text(void **state)
{
    (void)state;
    /* the canonical text reads back as the same double */
    double xs[] = { 0.1, 1e-5, 3e-4, 1.0 / 3, 123456789.0, 2.5e-300 };
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        ck_buf b = { 0 };
        ck_num_write(&b, xs[i]);
        assert_true(strtod(b.s, NULL) == xs[i]);
        free(b.s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arithmetic),
        cmocka_unit_test(strings_and_lists),
        cmocka_unit_test(lets_and_symbols),
        cmocka_unit_test(list_helpers),
        cmocka_unit_test(helper_errors),
        cmocka_unit_test(type_errors),
        cmocka_unit_test(let_cycle),
        cmocka_unit_test(env_helper),
        cmocka_unit_test(number_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
