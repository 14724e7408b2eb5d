/* test_settings_diff.c — nnx diff's settings comparison: paths, layers aligned by LCS; and a run's identity text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/compare.h"
#include "nnx/run.h"

#define P(path, value) { (char *)(path), (char *)(value) }

static const nnx_exp_param base[] = {
    P("data", "toy"), P("model", "net"),
    P("model[1]", "dense(16, bias = true)"), P("model[2]", "swish(beta = 1)"), P("model[3]", "dense(3, bias = true)"),
    P("optimizer", "adam"), P("optimizer.lr", "0.01"), P("epochs", "3"),
};
enum { NBASE = sizeof base / sizeof base[0] };

static void same_is_empty(void **state)
{
    (void)state;
    nnx_setting_change *c;
    size_t n;
    assert_int_equal(nnx_settings_diff(base, NBASE, base, NBASE, &c, &n), 0);
    assert_int_equal(n, 0);
    nnx_setting_changes_free(c, n);
}

/* One layer added in the middle and one lr: exactly two changes, not a change of every later layer. */
static void layer_added_and_lr(void **state)
{
    (void)state;
    const nnx_exp_param b[] = {
        P("data", "toy"), P("model", "net"),
        P("model[1]", "dense(16, bias = true)"), P("model[2]", "swish(beta = 1)"), P("model[3]", "dropout(0.1)"),
        P("model[4]", "dense(3, bias = true)"),
        P("optimizer", "adam"), P("optimizer.lr", "0.03"), P("epochs", "3"),
    };
    nnx_setting_change *c;
    size_t n;
    assert_int_equal(nnx_settings_diff(base, NBASE, b, sizeof b / sizeof b[0], &c, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].path, "model[3]");
    assert_null(c[0].a);
    assert_string_equal(c[0].b, "dropout(0.1)");
    assert_string_equal(c[1].path, "optimizer.lr");
    assert_string_equal(c[1].a, "0.01");
    assert_string_equal(c[1].b, "0.03");
    nnx_setting_changes_free(c, n);
    /* the other way round: the layer is removed, at A's index */
    assert_int_equal(nnx_settings_diff(b, sizeof b / sizeof b[0], base, NBASE, &c, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].path, "model[3]");
    assert_string_equal(c[0].a, "dropout(0.1)");
    assert_null(c[0].b);
    nnx_setting_changes_free(c, n);
}

/* A layer changed in place is one change; a path only one side has is (not set) on the other. */
static void layer_changed_and_path_added(void **state)
{
    (void)state;
    const nnx_exp_param b[] = {
        P("data", "toy"), P("model", "net"),
        P("model[1]", "dense(32, bias = true)"), P("model[2]", "swish(beta = 1)"), P("model[3]", "dense(3, bias = true)"),
        P("optimizer", "adam"), P("optimizer.lr", "0.01"), P("epochs", "3"), P("hooks", "/h.lua"),
    };
    nnx_setting_change *c;
    size_t n;
    assert_int_equal(nnx_settings_diff(base, NBASE, b, sizeof b / sizeof b[0], &c, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].path, "model[1]");
    assert_string_equal(c[0].a, "dense(16, bias = true)");
    assert_string_equal(c[0].b, "dense(32, bias = true)");
    assert_string_equal(c[1].path, "hooks");
    assert_null(c[1].a);
    nnx_setting_changes_free(c, n);
}

static void identity_leaves_out_log_and_logging_hooks(void **state)
{
    (void)state;
    const char *a = "# experiment 'x' from a.nnx\nexperiment x {\n    epochs = 3\n    log = [csv]\n"
                    "    hooks = \"/h.lua\"\n}\n";
    const char *b = "# experiment 'x' from ./a.nnx\nexperiment x {\n    epochs = 3\n    log = [csv, mlflow]\n}\n";
    char *ia = nnx_run_identity_text(a, true), *ib = nnx_run_identity_text(b, true);
    assert_string_equal(ia, ib);
    assert_string_equal(ia, "experiment x {\n    epochs = 3\n}\n");
    free(ia);
    /* hooks that can steer the run stay in */
    ia = nnx_run_identity_text(a, false);
    assert_non_null(strstr(ia, "hooks = "));
    assert_null(strstr(ia, "log = "));
    free(ia);
    free(ib);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_is_empty),
        cmocka_unit_test(layer_added_and_lr),
        cmocka_unit_test(layer_changed_and_path_added),
        cmocka_unit_test(identity_leaves_out_log_and_logging_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
