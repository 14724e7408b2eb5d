/* test_buf.c — the growing text buffer: text lands in order, NUL-terminated, across growths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/util/buf.h"

static void text_lands_in_order(void **state)
{
    (void)state;
    nnx_buf b = { 0 };
    nnx_buf_puts(&b, "");
    assert_non_null(b.s);
    assert_string_equal(b.s, "");
    nnx_buf_put(&b, "abcdef", 3);
    nnx_buf_puts(&b, ", ");
    nnx_buf_printf(&b, "%d-%s", 42, "x");
    assert_string_equal(b.s, "abc, 42-x");
    assert_int_equal(b.len, 9);
    assert_false(b.oom);
    free(b.s);
}

static void grows_past_its_first_block(void **state)
{
    (void)state;
    nnx_buf b = { 0 };
    char want[5000];
    size_t n = 0;
    for (int i = 0; i < 400; i++) {
        nnx_buf_printf(&b, "%d,", i);
        n += (size_t)snprintf(want + n, sizeof want - n, "%d,", i);
    }
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    nnx_buf_printf(&b, "%s", big);          /* one addition larger than the block */
    n += (size_t)snprintf(want + n, sizeof want - n, "%s", big);
    assert_int_equal(b.len, n);
    assert_string_equal(b.s, want);
    assert_true(b.cap > b.len);
    free(b.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_lands_in_order),
        cmocka_unit_test(grows_past_its_first_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
