/* select.c — comparing values of a `select` metric: ties to the printed precision, broken by the valid loss. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nnx/select.h"

long nnx_select_best(const double *values, const double *valid_loss, size_t n, bool max)
{
    long best = -1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(values[i]))
            continue;
        if (best < 0) {
            best = (long)i;
            continue;
        }
        int cmp = nnx_select_compare(values[i], values[best], max);
        if (cmp > 0 || (cmp == 0 && valid_loss && isfinite(valid_loss[i]) &&
                        !(valid_loss[i] >= valid_loss[best])))
            best = (long)i;
    }
    return best;
}

int nnx_select_compare(double a, double b, bool max)
{
    if (nnx_select_ties(a, b))
        return 0;
    return (max ? a > b : a < b) ? 1 : -1;
}

bool nnx_select_ties(double a, double b)
{
    if (a == b)
        return true;
    if (!isfinite(a) || !isfinite(b))
        return false;
    char x[32], y[32];
    snprintf(x, sizeof x, "%.6g", a);
    snprintf(y, sizeof y, "%.6g", b);
    return strcmp(x, y) == 0;
}
