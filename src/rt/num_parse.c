/* num_parse.c — decimal text to double, bit-identical to strtod (see num_parse.h). */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt/num_parse.h"

#if defined(__x86_64__) || defined(__i386__)
#if LDBL_MANT_DIG == 64
#define NNX_X87 1
#endif
#endif

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#ifdef NNX_X87
/* 10^k for k <= 27: 5^27 < 2^64, so each is exact in 64 bits of significand. */
static const long double pow10_ext[28] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
};

/* y (normal, nonzero) lies exactly halfway between two doubles: the 11 bits
 * of its 64-bit significand below the double's 53 are 100 0000 0000. */
static int halfway(long double y)
{
    uint64_t m;
    memcpy(&m, &y, sizeof m);   /* x87 extended: the significand is the low 8 bytes */
    return (m & 0x7ff) == 0x400;
}
#endif

int nnx_num_parse_slow(const char *s, size_t len, double *v)
{
    char small[64];
    char *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    *v = strtod(buf, &end);
    int rc = len > 0 && end == buf + len ? 0 : -1;
    if (buf != small)
        free(buf);
    return rc;
}

const char *nnx_num_scan(const char *s, const char *e, double *v)
{
    const char *p = s;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    /* w wraps past 19 digits (defined for unsigned); the count says so */
    uint64_t w = 0;
    const char *d0 = p;
    while (p < e && *p == '0')
        p++;
    const char *i0 = p;
    while (p < e && (unsigned)(*p - '0') < 10)
        w = w * 10 + (uint64_t)(*p++ - '0');
    ptrdiff_t sig = p - i0, digits = p - d0;
    ptrdiff_t scale = 0;   /* w * 10^scale is the mantissa read so far */
    if (p < e && *p == '.') {
        const char *f0 = ++p;
        if (w == 0)
            while (p < e && *p == '0')
                p++;
        const char *s0 = p;
        while (p < e && (unsigned)(*p - '0') < 10)
            w = w * 10 + (uint64_t)(*p++ - '0');
        sig += p - s0;
        digits += p - f0;
        scale = -(p - f0);
    }
    if (sig > 19)
        return NULL;
    if (digits == 0)
        return NULL;   /* inf, nan, or no number */
    if (p < e && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        int eneg = 0, ex = 0, edig = 0;
        if (q < e && (*q == '-' || *q == '+'))
            eneg = *q++ == '-';
        for (; q < e && (unsigned)(*q - '0') < 10; q++, edig++)
            if (ex < 100000)
                ex = ex * 10 + (*q - '0');
        if (edig == 0)
            return NULL;
        scale += eneg ? -ex : ex;
        p = q;
    }
    if (p < e && (*p == 'x' || *p == 'X' || *p == '.'))
        return NULL;   /* 0x1p3, 1.2.3: let strtod judge the whole */
    if (w == 0) {
        *v = neg ? -0.0 : 0.0;
        return p;
    }
    double d;
    if (w <= (UINT64_C(1) << 53) && scale >= -22 && scale <= 22) {
        d = (double)w;
        d = scale < 0 ? d / pow10_exact[-scale] : d * pow10_exact[scale];
    } else if (w <= (UINT64_C(1) << 53) && scale > 22 && scale <= 22 + 15
               && w <= (UINT64_C(1) << 53) / (uint64_t)pow10_exact[scale - 22]) {
        d = (double)(w * (uint64_t)pow10_exact[scale - 22]) * 1e22;   /* still exact */
    } else {
#ifdef NNX_X87
        if (scale < -27 || scale > 27)
            return NULL;
        long double y = (long double)w;
        y = scale < 0 ? y / pow10_ext[-scale] : y * pow10_ext[scale];
        if (halfway(y))
            return NULL;
        d = (double)y;
#else
        return NULL;
#endif
    }
    *v = neg ? -d : d;
    return p;
}

int nnx_num_parse(const char *s, size_t len, double *v)
{
    if (nnx_num_scan(s, s + len, v) == s + len)
        return 0;
    return nnx_num_parse_slow(s, len, v);
}
