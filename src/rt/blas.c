/* blas.c — the one BLAS setting the runtime exposes: its thread count. */
#include <cblas.h>

#include "nnx/rt/net.h"

void nnx_blas_set_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
}
