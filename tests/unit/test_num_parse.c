/* test_num_parse.c — nnx_num_parse gives strtod's exact bits: hard cases by hand
 * (halfway, subnormal, 17+ digits, exponents, inf/nan, signs, zeros) and a
 * few hundred thousand generated strings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/num_parse.h"

/* nnx_num_parse(s) agrees with strtod in acceptance and in every bit, and
 * so does the float it rounds to (what a CSV cell becomes). */
static void same_as_strtod(const char *s)
{
    char *end;
    double want = strtod(s, &end);
    int want_ok = *s && *end == '\0';
    double got = 12345;
    int ok = nnx_num_parse(s, strlen(s), &got) == 0;
    if (ok != want_ok)
        fail_msg("\"%s\": parsed %s, strtod %s", s, ok ? "yes" : "no", want_ok ? "yes" : "no");
    if (!ok)
        return;
    if (memcmp(&got, &want, sizeof got) != 0 && !(isnan(got) && isnan(want)))
        fail_msg("\"%s\": %.17g, strtod %.17g", s, got, want);
    float gf = (float)got, wf = (float)want;
    if (memcmp(&gf, &wf, sizeof gf) != 0 && !(isnan(gf) && isnan(wf)))
        fail_msg("\"%s\": float %.9g, strtod's %.9g", s, (double)gf, (double)wf);
}

static void hard_cases(void **state)
{
    (void)state;
    static const char *cases[] = {
        /* plain, signs, zeros */
        "0", "-0", "+0", "0.0", "-0.0", "00000", "0000.0000e5", "1", "-1", "+1", "007", "-007.50",
        ".5", "5.", "-.5", "+5.", "1e0", "1E0", "1e+0", "1e-0", "12345678", "3.14159",
        /* not numbers */
        "", "-", "+", ".", "-.", "e5", "1e", "1e+", "1e-", "1.2.3", "1,5", "--1", "+-1", "1 ",
        " 1", "\t1", "\n1", "1x", "0x", "abc", "1e5x", "1..2", "1_000", "١",
        /* inf, nan and hex as strtod spells them */
        "inf", "-inf", "+INF", "Infinity", "-infinity", "infinit", "nan", "NaN", "-nan",
        "nan(123)", "nan(", "0x1p3", "0X1.8P-1", "-0x10", "0x",
        /* Clinger's boundaries: 2^53, 10^22, 10^23 */
        "9007199254740992", "9007199254740993", "9007199254740994", "9007199254740995",
        "18014398509481985", "18014398509481986", "18014398509481987",
        "1e22", "1e23", "9007199254740993e0", "4503599627370497.5", "1e-22", "1e-23",
        "123456789e15", "123456789e30", "1.7976931348623157e308", "1.7976931348623159e308",
        "2e308", "-1e400", "1e-400", "-1e-400",
        /* 17, 18, 19, 20 and more significant digits */
        "0.10000000000000001", "0.1000000000000000055511151231257827",
        "1.2345678901234567", "1.23456789012345678", "1.234567890123456789",
        "1.2345678901234567890", "9.999999999999999999", "99999999999999999999",
        "18446744073709551615", "18446744073709551616", "9223372036854775807",
        "9223372036854775808", "1.000000000000000000000000000001",
        /* savetxt's %.18e */
        "1.234567890123456789e-01", "-9.876543210987654321e+00", "5.000000000000000000e-01",
        "3.333333333333333148e-01", "1.000000000000000000e+27", "1.000000000000000000e-27",
        "1.000000000000000000e+28", "7.450580596923828125e-09",
        /* halfway between doubles (exact midpoints, and one digit either side) */
        "9007199254740993", "9007199254740992.5", "9007199254740993.000000001",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "2.22507385850720138309e-308", "2.2250738585072011e-308", "2.2250738585072012e-308",
        /* subnormal doubles and floats */
        "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
        "5e-324", "3e-324", "1e-320", "1.401298464324817e-45", "7.006492321624085e-46",
        "7.006492321624086e-46", "1.1754943508222875e-38", "1.1754942e-38",
        /* float halfway cases: (float)strtod rounds twice */
        "1.00000005960464477539", "1.000000059604644775390625", "16777217", "3.4028235e38",
        "3.4028236e38", "3.40282357e38", "3.402823567e38", "3.4028235677973366e38",
        /* long exponents and many digits */
        "1e0000000000000000000000005", "0.0000000000000000000000000001e28",
        "100000000000000000000000000000000000000000000e-44", "1e-99999999999", "1e99999999999",
        "0.000000000000000000000000000000000000000000000000000000000000000000000000001",
        "123456789012345678901234567890123456789012345678901234567890e-50",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        same_as_strtod(cases[i]);
}

/* xorshift64*: a fixed stream, so a failure reproduces. */
static uint64_t next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* A random decimal string: sign, 1..22 digits, maybe a point, maybe an exponent. */
static void random_decimal(uint64_t *r, char *buf, size_t len)
{
    size_t n = 0;
    uint64_t u = next(r);
    if (u & 1)
        buf[n++] = u & 2 ? '-' : '+';
    int digits = 1 + (int)(next(r) % 22), point = (int)(next(r) % (uint64_t)(digits + 2)) - 1;
    int zeros = next(r) % 4 == 0 ? (int)(next(r) % 5) : 0;
    for (int i = 0; i < zeros; i++)
        buf[n++] = '0';
    for (int i = 0; i < digits; i++) {
        if (i == point)
            buf[n++] = '.';
        buf[n++] = (char)('0' + next(r) % 10);
    }
    if (next(r) % 3 == 0)
        n += (size_t)snprintf(buf + n, len - n, "%c%+d", next(r) % 2 ? 'e' : 'E',
                              (int)(next(r) % 81) - 40);
    buf[n] = '\0';
}

static void random_strings(void **state)
{
    (void)state;
    uint64_t r = UINT64_C(0x9e3779b97f4a7c15);
    char buf[128];
    for (int i = 0; i < 100000; i++) {
        random_decimal(&r, buf, sizeof buf);
        same_as_strtod(buf);
    }
    /* doubles and floats printed as savetxt and printf print them, all ranges */
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = next(&r);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        snprintf(buf, sizeof buf, i % 3 == 0 ? "%.18e" : i % 3 == 1 ? "%.17g" : "%.9g", d);
        same_as_strtod(buf);
        float f;
        uint32_t fb = (uint32_t)next(&r);
        memcpy(&f, &fb, sizeof f);
        if (!isfinite(f))
            continue;
        snprintf(buf, sizeof buf, i % 2 ? "%.18e" : "%.9g", (double)f);
        same_as_strtod(buf);
    }
    /* numbers near 1 (the table's range) in savetxt's format */
    for (int i = 0; i < 50000; i++) {
        double d = ((double)(next(&r) >> 11) / 9007199254740992.0 - 0.5) * 8;
        snprintf(buf, sizeof buf, "%.18e", d);
        same_as_strtod(buf);
    }
    /* integers exactly halfway between doubles (53 bits, a 1, then zeros),
     * and the same scaled by a power of ten */
    for (int i = 0; i < 50000; i++) {
        uint64_t m = (next(&r) >> 11) | (UINT64_C(1) << 52);
        int s = 1 + (int)(next(&r) % 10);
        uint64_t w = m << s | UINT64_C(1) << (s - 1);
        snprintf(buf, sizeof buf, "%" PRIu64, w);
        same_as_strtod(buf);
        snprintf(buf, sizeof buf, "%" PRIu64 "e%d", w, (int)(next(&r) % 9) - 4);
        same_as_strtod(buf);
        w += next(&r) % 3 - 1;
        snprintf(buf, sizeof buf, "-%" PRIu64, w);
        same_as_strtod(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hard_cases),
        cmocka_unit_test(random_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
