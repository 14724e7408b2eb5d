/* nnx_bench.c — the sgemm-bound time of the benchmark work: the seconds per
 * epoch that bench/bench.nnx's MLP and CNN would take if every product they
 * make ran at plain cblas_sgemm's speed at the same shapes and nothing else
 * cost anything.  It is the floor nnx's `nnx run` times are measured against.
 *
 * usage: nnx_bench [mlp|cnn|all] [train_rows] [valid_rows]
 *   (defaults 54000 and 6000: Fashion-MNIST's 60000 training rows, 10% held out)
 *
 * The shapes: one training batch of 128 makes, per dense or conv layer, the
 * forward product, the weight gradient and (but for the first layer) the
 * input gradient, with the shapes src/rt/dense.c and src/rt/conv.c pass to
 * cblas_sgemm for a whole batch (conv: im2col, filters x (batch*out_h*out_w)
 * x (in_c*k*k)); an epoch is ceil(train/128) such batches plus the forward
 * products over the validation rows.  Each shape is timed on one BLAS
 * thread, the fastest of repeated calls over about 0.2 s; the bound on T
 * threads is the one-thread time over T (perfect scaling), or the BLAS's own
 * T threads where they are faster.  That is stricter than the sgemm rate on
 * T cores: a product cut in T parts runs each part slower than the whole on
 * one thread (each part packs the shared operand again), and OpenBLAS's own
 * T threads scale imperfectly too.  So each line also gives the time of the
 * products made by the BLAS's own T threads at each shape (blas_s_per_epoch:
 * the sgemm rate these shapes get on T cores, the measure the goals of
 * README.md's benchmark were set in).
 *
 * Both take each shape's fastest call with its operands hot in cache, and
 * nnx's epoch is a median over whole epochs; on a shared VM the two differ
 * by more than the runtime's own costs (the MLP's products alone, made by
 * OpenBLAS one after another as an epoch makes them, took 0.40 s an epoch
 * against 0.33 s by the fastest calls, in the same minute).  So the
 * two-thread line also gives the products in sequence (seq_s_per_epoch):
 * every batch's products in a step's order, on arrays laid out as a net's
 * layers hold them, at the BLAS's own two threads and each conv product's
 * best chunk, timed as whole epochs (a warm-up epoch, then the median and
 * the minimum of the others) — the same statistic as nnx's, of the
 * products alone.
 * Printed: the CPU model, OpenBLAS's kernels, and one "key=value ..." line
 * per model for bench/run.sh.  With NNX_BENCH_VERBOSE set, stderr also gets
 * each shape's GFLOP/s and each product's mean time a batch in sequence
 * (to set beside `nnx run --profile`'s layers).
 *
 * The bound counts every conv layer's products as im2col's; nnx computes
 * the forward and input gradient of a 3×3 stride-1 conv of 8+ channels each
 * way (the CNN's second) by Winograd F(2×2, 3×3), with fewer multiply-adds
 * (src/rt/conv.c), so on that layer it can go below this bound.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnx/rt.h"

enum { BATCH = 128 };

typedef struct gemm {
    CBLAS_TRANSPOSE ta, tb;
    int m, n, k;
} gemm;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *alloc(size_t floats)
{
    float *p = malloc(floats * sizeof *p);
    if (!p) {
        fprintf(stderr, "nnx_bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < floats; i++)
        p[i] = (float)(i % 7) * 0.01f;
    return p;
}

/* Seconds of the fastest of repeated calls of one product (about 0.2 s in all). */
static double time_gemm(const gemm *g)
{
    size_t a = (size_t)g->m * g->k, b = (size_t)g->k * g->n, c = (size_t)g->m * g->n;
    float *A = alloc(a), *B = alloc(b), *C = alloc(c);
    int lda = g->ta == CblasNoTrans ? g->k : g->m, ldb = g->tb == CblasNoTrans ? g->n : g->k;
    double best = 1e30, t0 = now();
    for (int r = 0; r < 3 || (now() - t0 < 0.2 && r < 10000); r++) {
        double s = now();
        cblas_sgemm(CblasRowMajor, g->ta, g->tb, g->m, g->n, g->k, 1.0f, A, lda, B, ldb, 0.0f,
                    C, g->n);
        s = now() - s;
        if (s < best)
            best = s;
    }
    free(A);
    free(B);
    free(C);
    return best;
}

/* The products of one layer for a batch of n: forward, weight gradient,
 * input gradient (when `dx`).  Dense: y(n,u) = x(n,in)·Wᵀ; conv: y(f, n·ohw)
 * = W(f,ckk)·col(ckk, n·ohw). */
static int layer_gemms(gemm *out, int conv, int n, int units, int in, int ohw, int dx)
{
    int k = 0;
    if (!conv) {
        out[k++] = (gemm){CblasNoTrans, CblasTrans, n, units, in};
        out[k++] = (gemm){CblasTrans, CblasNoTrans, units, in, n};
        if (dx)
            out[k++] = (gemm){CblasNoTrans, CblasNoTrans, n, in, units};
    } else {
        int cols = n * ohw;
        out[k++] = (gemm){CblasNoTrans, CblasNoTrans, units, cols, in};
        out[k++] = (gemm){CblasNoTrans, CblasTrans, units, in, cols};
        if (dx)
            out[k++] = (gemm){CblasTrans, CblasNoTrans, in, cols, units};
    }
    return k;
}

/* Seconds of the fastest way to make product `i` of a layer for a whole
 * batch on one thread or on the BLAS's `threads`: a dense layer's in one
 * call, a conv layer's as calls over chunks of c samples (c a power of two,
 * as conv.c cuts a batch to keep its column matrix in cache), whichever c
 * is fastest per sample (into *chunk). */
static double best_time(int conv, int units, int in, int ohw, int dx, int i, int threads,
                        int *chunk)
{
    double best = 1e30;
    for (int c = conv ? 1 : BATCH; c <= BATCH; c *= 2) {
        gemm g[3];
        layer_gemms(g, conv, c, units, in, ohw, dx);
        nnx_blas_set_threads(threads);
        double t = time_gemm(&g[i]) * BATCH / c;
        if (t < best) {
            best = t;
            *chunk = c;
        }
    }
    nnx_blas_set_threads(1);
    if (getenv("NNX_BENCH_VERBOSE"))
        fprintf(stderr, "nnx_bench: %s product %d (units %d, in %d): %.1f GFLOP/s on %d thread%s\n",
                conv ? "conv" : "dense", i, units, in,
                2.0 * BATCH * ohw * units * (double)in / best / 1e9, threads, threads > 1 ? "s" : "");
    return best;
}

/* A layer of the two networks: conv?, needs dx?, units, in (in_c*k*k), out
 * pixels. */
typedef struct net_layer {
    int conv, dx, units, in, ohw;
} net_layer;

static const net_layer MLP[] = {{0, 0, 256, 784, 1}, {0, 1, 128, 256, 1}, {0, 1, 10, 128, 1}};
static const net_layer CNN[] = {{1, 0, 32, 9, 784}, {1, 1, 64, 32 * 9, 196},
                                {0, 1, 128, 3136, 1}, {0, 1, 10, 128, 1}};
enum { MAX_LAYERS = 4 };

/* Seconds of one epoch's products on `threads` threads: the bound, and in
 * *blas the time with the BLAS's own threads at every shape, whose best
 * chunk of samples for product i of layer l goes to chunk[l][i]. */
static double bound(const net_layer *d, int nl, int train_rows, int valid_rows, int threads,
                    double *gflop, double *blas, int chunk[][3])
{
    int batches = (train_rows + BATCH - 1) / BATCH;
    double valid_batches = (double)valid_rows / BATCH;
    double one = 0, many = 0, flop = 0;
    for (int l = 0; l < nl; l++)
        for (int i = 0; i < (d[l].dx ? 3 : 2); i++) {
            double per_epoch = batches + (i == 0 ? valid_batches : 0);
            one += best_time(d[l].conv, d[l].units, d[l].in, d[l].ohw, d[l].dx, i, 1,
                             &chunk[l][i]) * per_epoch;
            if (threads > 1)
                many += best_time(d[l].conv, d[l].units, d[l].in, d[l].ohw, d[l].dx, i,
                                  threads, &chunk[l][i]) * per_epoch;
            flop += 2.0 * BATCH * d[l].ohw * d[l].units * (double)d[l].in * per_epoch;
        }
    *gflop = flop / 1e9;
    *blas = threads > 1 ? many : one;
    double s = one / threads;
    return threads > 1 && many < s ? many : s;
}

/* A layer's arrays, as a net holds them while it trains: weights and their
 * gradient; the input (a conv layer's: a column matrix of a chunk of
 * samples, made again for every chunk) and its gradient; the output and its
 * gradient for the whole batch.  A dense layer after a dense layer reads the
 * output before it and writes the gradient before it. */
typedef struct seq_layer {
    net_layer d;
    const int *chunk;
    float *w, *dw, *x, *dx, *y, *dy;
    int borrows;                /* x and dx are the layer before's y and dy */
    double spent[3];            /* seconds in each product, training batches */
    long batches;
} seq_layer;

/* The products of a batch of n rows, as a training step (or, not `train`, a
 * validation batch) makes them: forward layer by layer, then backward from
 * the last layer, each layer's weight gradient before its input gradient. */
static void seq_batch(seq_layer *L, int nl, int n, int train)
{
    for (int l = 0; l < nl; l++) {
        const net_layer *d = &L[l].d;
        double t = now();
        if (!d->conv)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, d->units, d->in, 1.0f,
                        L[l].x, d->in, L[l].w, d->in, 0.0f, L[l].y, d->units);
        for (int s = 0, c = L[l].chunk[0]; d->conv && s < n; s += c) {
            int cols = (n - s < c ? n - s : c) * d->ohw;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->units, cols, d->in, 1.0f,
                        L[l].w, d->in, L[l].x, cols, 0.0f, L[l].y + (size_t)s * d->ohw * d->units,
                        cols);
        }
        if (train) {
            L[l].spent[0] += now() - t;
            L[l].batches++;
        }
    }
    for (int l = nl - 1; train && l >= 0; l--) {
        const net_layer *d = &L[l].d;
        double t = now();
        if (!d->conv)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->units, d->in, n, 1.0f,
                        L[l].dy, d->units, L[l].x, d->in, 0.0f, L[l].dw, d->in);
        for (int s = 0, c = L[l].chunk[1]; d->conv && s < n; s += c) {
            int cols = (n - s < c ? n - s : c) * d->ohw;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->units, d->in, cols, 1.0f,
                        L[l].dy + (size_t)s * d->ohw * d->units, cols, L[l].x, cols,
                        s ? 1.0f : 0.0f, L[l].dw, d->in);
        }
        double u = now();
        L[l].spent[1] += u - t;
        if (d->dx && !d->conv)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d->in, d->units, 1.0f,
                        L[l].dy, d->units, L[l].w, d->in, 0.0f, L[l].dx, d->in);
        for (int s = 0, c = L[l].chunk[2]; d->dx && d->conv && s < n; s += c) {
            int cols = (n - s < c ? n - s : c) * d->ohw;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->in, cols, d->units, 1.0f,
                        L[l].w, d->in, L[l].dy + (size_t)s * d->ohw * d->units, cols, 0.0f,
                        L[l].dx, cols);
        }
        L[l].spent[2] += now() - u;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Seconds per epoch of the products in sequence: every batch's products
 * one after another, in a step's order, on the layers' own arrays, at the
 * BLAS's own `threads` and each conv product's best chunk; one epoch as a
 * warm-up, then the median and (*fastest) the minimum of `timed` epochs,
 * timed whole as nnx's epochs are.  Where the bound takes each shape's
 * fastest call with its operands hot in cache, this is what the same
 * products take when they run as an epoch runs them. */
static double sequence(const net_layer *d, int nl, int chunk[][3], int train_rows,
                       int valid_rows, int threads, int timed, double *fastest)
{
    seq_layer L[MAX_LAYERS];
    for (int l = 0; l < nl; l++) {
        L[l] = (seq_layer){.d = d[l], .chunk = chunk[l]};
        size_t w = (size_t)d[l].units * d[l].in, out = (size_t)BATCH * d[l].ohw * d[l].units;
        L[l].w = alloc(w);
        L[l].dw = alloc(w);
        L[l].y = alloc(out);
        L[l].dy = alloc(out);
        int c = d[l].conv ? 1 : BATCH;          /* samples in x: the largest chunk */
        for (int i = 0; d[l].conv && i < (d[l].dx ? 3 : 2); i++)
            c = chunk[l][i] > c ? chunk[l][i] : c;
        size_t x = (size_t)c * d[l].ohw * d[l].in;
        L[l].borrows = l > 0 && !d[l].conv && !d[l - 1].conv;
        L[l].x = L[l].borrows ? L[l - 1].y : alloc(x);
        L[l].dx = L[l].borrows ? L[l - 1].dy : alloc(x);
    }
    nnx_blas_set_threads(threads);
    double secs[16];
    timed = timed < 1 ? 1 : timed > 16 ? 16 : timed;
    for (int e = 0; e <= timed; e++) {
        for (int l = 0; e == 1 && l < nl; l++) {    /* not the warm-up epoch's times */
            L[l].spent[0] = L[l].spent[1] = L[l].spent[2] = 0;
            L[l].batches = 0;
        }
        double t = now();
        for (int r = 0; r < train_rows; r += BATCH)
            seq_batch(L, nl, train_rows - r < BATCH ? train_rows - r : BATCH, 1);
        for (int r = 0; r < valid_rows; r += BATCH)
            seq_batch(L, nl, valid_rows - r < BATCH ? valid_rows - r : BATCH, 0);
        if (e > 0)
            secs[e - 1] = now() - t;
    }
    nnx_blas_set_threads(1);
    for (int l = 0; getenv("NNX_BENCH_VERBOSE") && l < nl; l++)
        fprintf(stderr, "nnx_bench: in sequence, %s layer %d (units %d, in %d): forward %.1f us, "
                "weight gradient %.1f us, input gradient %.1f us a training batch\n",
                d[l].conv ? "conv" : "dense", l + 1, d[l].units, d[l].in,
                1e6 * L[l].spent[0] / (double)L[l].batches,
                1e6 * L[l].spent[1] / (double)L[l].batches,
                1e6 * L[l].spent[2] / (double)L[l].batches);
    for (int l = 0; l < nl; l++) {
        free(L[l].w);
        free(L[l].dw);
        free(L[l].y);
        free(L[l].dy);
        if (!L[l].borrows) {
            free(L[l].x);
            free(L[l].dx);
        }
    }
    qsort(secs, (size_t)timed, sizeof *secs, cmp_double);
    *fastest = secs[0];
    return timed % 2 ? secs[timed / 2] : (secs[timed / 2 - 1] + secs[timed / 2]) / 2;
}

static void cpu_model(char *out, size_t size)
{
    snprintf(out, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v += 1 + (v[1] == ' ');
                v[strcspn(v, "\n")] = 0;
                snprintf(out, size, "%s", v);
            }
            break;
        }
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    int train_rows = argc > 2 ? atoi(argv[2]) : 54000;
    int valid_rows = argc > 3 ? atoi(argv[3]) : 6000;
    if ((strcmp(which, "mlp") && strcmp(which, "cnn") && strcmp(which, "all")) ||
        train_rows < 1 || valid_rows < 0) {
        fprintf(stderr, "usage: nnx_bench [mlp|cnn|all] [train_rows] [valid_rows]\n");
        return 2;
    }
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    printf("nnx cpu=\"%s\" blas_core=%s\n", cpu, openblas_get_corename());
    for (int cnn = 0; cnn < 2; cnn++) {
        const char *name = cnn ? "cnn" : "mlp";
        if (strcmp(which, "all") != 0 && strcmp(which, name) != 0)
            continue;
        const net_layer *d = cnn ? CNN : MLP;
        int nl = cnn ? (int)(sizeof CNN / sizeof *CNN) : (int)(sizeof MLP / sizeof *MLP);
        for (int threads = 1; threads <= 2; threads++) {
            double gflop = 0, blas = 0, fastest = 0;
            int chunk[MAX_LAYERS][3] = {{0}};
            double s = bound(d, nl, train_rows, valid_rows, threads, &gflop, &blas, chunk);
            printf("sgemm model=%s threads=%d bound_s_per_epoch=%.3f gflop_per_epoch=%.1f "
                   "gflops=%.1f blas_s_per_epoch=%.3f blas_gflops=%.1f", name, threads, s,
                   gflop, gflop / s, blas, gflop / blas);
            if (threads == 2) {
                double seq = sequence(d, nl, chunk, train_rows, valid_rows, threads,
                                      cnn ? 2 : 4, &fastest);
                printf(" seq_s_per_epoch=%.3f seq_min_s_per_epoch=%.3f seq_gflops=%.1f", seq,
                       fastest, gflop / seq);
            }
            printf("\n");
            fflush(stdout);
        }
    }
    return 0;
}
