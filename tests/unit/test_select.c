/* test_select.c — ties of a select metric: to the printed precision, broken by the valid loss, the same for epochs and trials. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "nnx/search.h"
#include "nnx/select.h"

static void ties_are_the_printed_precision(void **state)
{
    (void)state;
    assert_true(nnx_select_ties(1.0, 1.0));
    assert_true(nnx_select_ties(0.9966666666666667, 0.99666666));   /* both print 0.996667 */
    assert_false(nnx_select_ties(0.996667, 0.996668));
    assert_false(nnx_select_ties(NAN, NAN));
    assert_int_equal(nnx_select_compare(0.9, 0.8, true), 1);
    assert_int_equal(nnx_select_compare(0.9, 0.8, false), -1);
    assert_int_equal(nnx_select_compare(1.0, 1.0 - 1e-9, true), 0);
}

static void best_epoch_among_ties_has_the_lowest_valid_loss(void **state)
{
    (void)state;
    const double auc[6] = { 0.9, 1.0, 0.99, 1.0, 1.0, NAN };
    const double loss[6] = { 0.5, 0.30, 0.2, 0.10, 0.12, 0.01 };
    assert_int_equal(nnx_select_best(auc, loss, 6, true), 3);
    assert_int_equal(nnx_select_best(auc, NULL, 6, true), 1);      /* no losses: the first */
    assert_int_equal(nnx_select_best(loss, NULL, 6, false), 5);
    const double none[2] = { NAN, NAN };
    assert_int_equal(nnx_select_best(none, loss, 2, true), -1);
}

static void leaderboard_ranks_ties_by_valid_loss(void **state)
{
    (void)state;
    char *names[1] = { "valid.loss" };
    double losses[3] = { 0.3, 0.1, 0.2 };
    nnx_search_row rows[3];
    memset(rows, 0, sizeof rows);
    const char *trial[3] = { "a", "b", "c" };
    for (int i = 0; i < 3; i++) {
        rows[i].name = (char *)trial[i];
        rows[i].index = (size_t)i;
        strcpy(rows[i].status, "completed");
        rows[i].epoch = 1;
        rows[i].value = i == 2 ? 0.98 : 1.0;    /* a and b tie at 1 */
        rows[i].metric_names = names;
        rows[i].metric_values = &losses[i];
        rows[i].nmetrics = 1;
    }
    nnx_search_rank(rows, 3, true);
    assert_string_equal(rows[0].name, "b");   /* tied with a, lower valid loss */
    assert_string_equal(rows[1].name, "a");
    assert_string_equal(rows[2].name, "c");   /* lower value, whatever its loss */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ties_are_the_printed_precision),
        cmocka_unit_test(best_epoch_among_ties_has_the_lowest_valid_loss),
        cmocka_unit_test(leaderboard_ranks_ties_by_valid_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
