/* test_check_catalog.c — the builtin tables are consistent: unique names, defaults inside their ranges. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check_fixture.h"
#include "lang/check_int.h"

static void names_unique_per_kind(void **state)
{
    (void)state;
    for (size_t i = 0; i < ck_nbuiltins; i++)
        for (size_t j = 0; j < i; j++)
            if (ck_builtins[i].kind == ck_builtins[j].kind)
                assert_string_not_equal(ck_builtins[i].name, ck_builtins[j].name);
    for (size_t i = 0; i < ck_nexp_keys; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(ck_exp_keys[i].name, ck_exp_keys[j].name);
}

static bool default_in_range(const ck_param *p)
{
    if (isnan(p->dnum) || p->ty == CK_T_BOOL || p->ty == CK_T_STR || p->ty == CK_T_SYM || p->required)
        return true;
    double x = p->dnum;
    if ((p->range & CK_R_LO) && ((p->range & CK_R_LO_OPEN) ? !(x > p->lo) : !(x >= p->lo)))
        return false;
    if ((p->range & CK_R_HI) && ((p->range & CK_R_HI_OPEN) ? !(x < p->hi) : !(x <= p->hi)))
        return false;
    return p->ty != CK_T_INT || x == floor(x);
}

static void defaults_in_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < ck_nbuiltins; i++)
        for (size_t k = 0; k < ck_builtins[i].nparams; k++)
            if (!default_in_range(&ck_builtins[i].params[k]))
                fail_msg("%s: default of %s is out of its range", ck_builtins[i].name, ck_builtins[i].params[k].name);
    for (size_t i = 0; i < ck_nexp_keys; i++)
        if (ck_exp_keys[i].kclass == CK_K_SCALAR && !default_in_range(&ck_exp_keys[i].param))
            fail_msg("key %s: default out of range", ck_exp_keys[i].name);
}

static void call_defaults_exist(void **state)
{
    (void)state;
    for (size_t i = 0; i < ck_nexp_keys; i++)
        if (ck_exp_keys[i].kclass == CK_K_CALL && ck_exp_keys[i].deflt)
            assert_non_null(ck_builtin_find(ck_exp_keys[i].deflt, ck_exp_keys[i].bkind));
}

static void metrics_found_by_name(void **state)
{
    (void)state;
    assert_ptr_equal(ck_metric_find("auc"), nnx_metric_named("auc"));
    assert_true(ck_metric_find("auc")->maximize);
    assert_false(ck_metric_find("mae")->maximize);
    assert_ptr_equal(ck_metric_find("loss"), &ck_loss_metric);
    assert_null(ck_metric_find("lua.x"));
    assert_string_equal(ck_metric_suggest("acc"), "accuracy");
    assert_string_equal(ck_metric_suggest("los"), "loss");
}

static void range_text(void **state)
{
    (void)state;
    char buf[64];
    const ck_builtin *drop = ck_builtin_find("dropout", CK_B_LAYER);
    ck_range_text(&drop->params[0], buf, sizeof buf);
    assert_string_equal(buf, "in [0, 1)");
    const ck_builtin *adam = ck_builtin_find("adam", CK_B_OPTIM);
    ck_range_text(&adam->params[0], buf, sizeof buf);
    assert_string_equal(buf, "> 0");
    assert_null(ck_builtin_find("adam", CK_B_LAYER));
    assert_non_null(ck_builtin_find("csv", CK_B_LOGGER));
    assert_non_null(ck_builtin_find("csv", CK_B_SOURCE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_unique_per_kind),
        cmocka_unit_test(defaults_in_range),
        cmocka_unit_test(call_defaults_exist),
        cmocka_unit_test(metrics_found_by_name),
        cmocka_unit_test(range_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
