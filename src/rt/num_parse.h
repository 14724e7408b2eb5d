/* num_parse.h — decimal text to double, bit-identical to strtod, fast on the
 * numbers data files hold (internal to the runtime: csv.c, the tests).
 *
 * nnx_num_parse(s, len, &v) reads the whole of s[0..len) (no NUL needed) as
 * strtod would in the C locale and stores strtod's exact result: 0 when
 * strtod consumes every byte, -1 when it would stop early or find no number
 * (v then unspecified).  inf, nan and hex floats are accepted as strtod
 * accepts them; the caller decides whether it wants them.
 *
 * How: [+-]digits[.digits][(e|E)[+-]digits] with at most 19 significant
 * digits is read into an integer w and a power of ten e.  Clinger's fast
 * path: when w <= 2^53 and |e| <= 22 both are exact doubles and one IEEE
 * multiply or divide rounds correctly.  With x87 extended precision (64-bit
 * significand) every w < 2^64 and 10^|e| for |e| <= 27 are exact, so one
 * extended multiply or divide gives w*10^e rounded once; rounding that to
 * double equals rounding the exact value unless the extended result lies
 * exactly halfway between two doubles, which is checked.  Everything else
 * (more digits, larger exponents, halfway results, other spellings) goes to
 * strtod itself. */
#ifndef NNX_RT_NUM_PARSE_H
#define NNX_RT_NUM_PARSE_H

#include <stddef.h>

int nnx_num_parse(const char *s, size_t len, double *v);

/* The fast paths alone on the number at the start of s[0..e): the end of
 * [+-]digits[.digits][(e|E)[+-]digits] with v set to strtod's value of it,
 * or NULL when the fast paths cannot tell (too many digits, a halfway
 * result, another spelling): then only nnx_num_parse on the whole field
 * decides.  A field is a number when the end returned is the field's end. */
const char *nnx_num_scan(const char *s, const char *e, double *v);

/* The same with the fast paths off: strtod on a NUL-terminated copy (tests
 * compare the two). */
int nnx_num_parse_slow(const char *s, size_t len, double *v);

#endif
