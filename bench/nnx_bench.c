/* nnx_bench.c — time nnx's runtime on the benchmark work: Fashion-MNIST, batch
 * 128, Adam 1e-3, an MLP and a CNN; report seconds per epoch, the MLP's
 * achieved GFLOP/s next to plain cblas_sgemm's at the same shapes, and the
 * peak resident memory.  Uses only the public runtime API (and cblas_sgemm
 * for the reference rate).
 *
 * usage: nnx_bench DATA_DIR [mlp|cnn|all] [epochs] [cnn_batches]
 *   epochs       MLP epochs to time (default 3; the fastest is reported)
 *   cnn_batches  CNN batches to time (default 0 = one full epoch); a partial
 *                epoch is scaled to seconds per epoch and says so
 * Each model is timed on 1 and 2 threads of the network's own
 * (nnx_net_set_threads; the BLAS on one thread), or only on N if
 * NNX_BENCH_THREADS=N; the fastest is reported.  The MLP's GEMM rate is
 * compared with plain sgemm at the same shapes on as many cores: its
 * one-thread rate times the cores, or the BLAS's own threads if faster.
 * A timed epoch running past NNX_BENCH_BUDGET seconds (default 20) stops
 * there and is scaled to a whole epoch.
 * Output: one "key=value ..." line per measurement, for bench/run.sh.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "nnx/rt.h"
#include "nnx/rt/data.h"
#include "nnx/rt/optim.h"
#include "nnx/rt/train.h"

enum { BATCH = 128 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of the whole process (all its threads): unlike the wall
 * clock, hardly moved by other programs on a busy machine. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const nnx_rt_error *err)
{
    fprintf(stderr, "nnx_bench: %s: %s\n", what, err->msg);
    exit(1);
}

static nnx_net *build_mlp(int threads, nnx_rt_error *err)
{
    nnx_net *net = nnx_net_new(1, 28, 28, err);
    if (!net)
        return NULL;
    int rc = nnx_net_set_threads(net, threads, err)
          || nnx_net_add_dense(net, 256, true, err)
          || nnx_net_add_batchnorm(net, 0.1f, 1e-5f, err)
          || nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, err)
          || nnx_net_add_dropout(net, 0.2f, err)
          || nnx_net_add_dense(net, 128, true, err)
          || nnx_net_add_batchnorm(net, 0.1f, 1e-5f, err)
          || nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, err)
          || nnx_net_add_dropout(net, 0.2f, err)
          || nnx_net_add_dense(net, 10, true, err)
          || nnx_net_compile(net, BATCH, 1, err);
    if (rc) {
        nnx_net_free(net);
        return NULL;
    }
    return net;
}

static nnx_net *build_cnn(int threads, nnx_rt_error *err)
{
    nnx_net *net = nnx_net_new(1, 28, 28, err);
    if (!net)
        return NULL;
    int rc = nnx_net_set_threads(net, threads, err)
          || nnx_net_add_conv(net, 32, 3, 1, 1, true, err)
          || nnx_net_add_batchnorm(net, 0.1f, 1e-5f, err)
          || nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, err)
          || nnx_net_add_maxpool(net, 2, 2, err)
          || nnx_net_add_conv(net, 64, 3, 1, 1, true, err)
          || nnx_net_add_batchnorm(net, 0.1f, 1e-5f, err)
          || nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, err)
          || nnx_net_add_maxpool(net, 2, 2, err)
          || nnx_net_add_flatten(net, err)
          || nnx_net_add_dropout(net, 0.3f, err)
          || nnx_net_add_dense(net, 128, true, err)
          || nnx_net_add_act(net, NNX_ACT_SWISH, 1.0f, err)
          || nnx_net_add_dense(net, 10, true, err)
          || nnx_net_compile(net, BATCH, 1, err);
    if (rc) {
        nnx_net_free(net);
        return NULL;
    }
    return net;
}

typedef struct stop_after {
    int32_t batches;     /* stop the epoch after this many (0 = never) */
    double start, budget;  /* or once budget seconds have passed (0 = never) */
} stop_after;

static int on_batch(const nnx_train_progress *p, void *user)
{
    const stop_after *s = user;
    return (s->batches > 0 && p->batch + 1 >= s->batches)
        || (s->budget > 0 && now() - s->start > s->budget);
}

/* Seconds per epoch of the fastest of `epochs` timed epochs (after one
 * untimed warm-up of a few batches); scaled up when stopped early.  *cpu
 * gets the CPU seconds per epoch of that epoch. */
static double time_training(nnx_net *net, const nnx_dataset *train, int epochs,
                            int32_t limit, double *final_loss, double *cpu)
{
    nnx_rt_error err;
    nnx_optim opt;
    nnx_optim_conf oc;
    nnx_optim_conf_default(&oc, NNX_OPTIM_ADAM);
    oc.lr = 1e-3;
    if (nnx_optim_init(&opt, &oc, nnx_net_nparams(net), &err))
        die("optimizer", &err);
    stop_after stop = {.batches = 5};
    nnx_train_conf c = {
        .net = net, .optim = &opt, .train = train, .loss = NNX_LOSS_CROSS_ENTROPY,
        .batch = BATCH, .seed = 1, .on_batch = on_batch, .user = &stop,
    };
    nnx_trainer tr;
    if (nnx_trainer_init(&tr, &c, &err))
        die("trainer", &err);
    nnx_epoch_result res;
    if (nnx_train_epoch(&tr, 0, NULL, &res, &err))     /* warm-up */
        die("warm-up", &err);
    double best = 1e30;
    const char *budget = getenv("NNX_BENCH_BUDGET");
    for (int e = 1; e <= epochs; e++) {
        stop.batches = limit;
        stop.budget = budget ? atof(budget) : 20.0;
        double c0 = cpu_now(), t0 = stop.start = now();
        if (nnx_train_epoch(&tr, e, NULL, &res, &err))
            die("epoch", &err);
        double dt = (now() - t0) * tr.batches / res.steps;
        if (dt < best) {
            best = dt;
            *cpu = (cpu_now() - c0) * tr.batches / res.steps;
        }
        *final_loss = res.mean_loss;
        if (res.steps < tr.batches && limit == 0)
            break;      /* over budget: one partial epoch is enough */
    }
    nnx_trainer_free(&tr);
    nnx_optim_free(&opt);
    return best;
}

/* GFLOP/s of plain sgemm over the products one MLP training step makes
 * (forward x·Wᵀ, weight gradient dyᵀ·x, input gradient dy·W but for the
 * first layer), repeated for about a second. */
static double sgemm_rate(void)
{
    const int dims[][2] = {{784, 256}, {256, 128}, {128, 10}};   /* in, out */
    const int n = BATCH;
    size_t big = 784 * 256;
    float *a = calloc(big * 4, sizeof(float)), *b = calloc(big * 4, sizeof(float));
    float *c = calloc(big * 4, sizeof(float));
    if (!a || !b || !c) {
        fprintf(stderr, "nnx_bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < big * 4; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
    }
    double flops = 0, t0 = now(), t = 0;
    int reps = 0;
    while ((t = now() - t0) < 1.0 || reps < 20) {
        for (int l = 0; l < 3; l++) {
            int in = dims[l][0], out = dims[l][1];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in,
                        1.0f, a, in, b, in, 0.0f, c, out);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n,
                        1.0f, a, out, b, in, 0.0f, c, in);
            flops += 4.0 * n * in * out;
            if (l > 0) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out,
                            1.0f, a, out, b, in, 0.0f, c, in);
                flops += 2.0 * n * in * out;
            }
        }
        reps++;
    }
    free(a);
    free(b);
    free(c);
    return flops / t / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: nnx_bench DATA_DIR [mlp|cnn|all] [epochs] [cnn_batches]\n");
        return 2;
    }
    const char *which = argc > 2 ? argv[2] : "all";
    int epochs = argc > 3 ? atoi(argv[3]) : 3;
    int cnn_batches = argc > 4 ? atoi(argv[4]) : 0;
    if (epochs < 1)
        epochs = 1;
    char images[512], labels[512];
    snprintf(images, sizeof images, "%s/train-images-idx3-ubyte.gz", argv[1]);
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte.gz", argv[1]);
    nnx_rt_error err;
    nnx_dataset train = {0};
    double t0 = now();
    if (nnx_load_idx(&train, images, labels, NULL, 0, &err))
        die("loading Fashion-MNIST", &err);
    fprintf(stderr, "nnx_bench: loaded %d rows in %.2f s\n", train.n, now() - t0);
    printf("nnx blas_core=%s\n", openblas_get_corename());

    for (int model = 0; model < 2; model++) {
        const char *name = model == 0 ? "mlp" : "cnn";
        if (strcmp(which, "all") != 0 && strcmp(which, name) != 0)
            continue;
        double best = 1e30, loss = 0, flops = 0, best_cpu = 0;
        int best_threads = 1;
        const char *only = getenv("NNX_BENCH_THREADS");
        for (int threads = 1; threads <= 2; threads++) {
            if (only && atoi(only) != threads)
                continue;
            nnx_blas_set_threads(1);
            nnx_net *net = model == 0 ? build_mlp(threads, &err) : build_cnn(threads, &err);
            if (!net)
                die(name, &err);
            double cpu = 0;
            double s = time_training(net, &train, model == 0 ? epochs : 1,
                                     model == 0 ? 0 : cnn_batches, &loss, &cpu);
            printf("nnx model=%s threads=%d s_per_epoch=%.3f cpu_s_per_epoch=%.3f loss=%.4f\n",
                   name, threads, s, cpu, loss);
            fflush(stdout);
            if (s < best) {
                best = s;
                best_cpu = cpu;
                best_threads = threads;
                if (model == 0)
                    flops = nnx_net_train_flops(net, BATCH)
                          * nnx_batches_per_epoch(train.n, BATCH, 0);
            }
            nnx_net_free(net);
        }
        if (model == 0) {
            /* The reference: plain sgemm at the same shapes on as many cores
             * as nnx used: the one-thread rate times the cores (perfect
             * scaling), or the BLAS's own threads if they do better. */
            nnx_blas_set_threads(1);
            double one = sgemm_rate(), many = one;
            if (best_threads > 1) {
                nnx_blas_set_threads(best_threads);
                many = sgemm_rate();
                nnx_blas_set_threads(1);
            }
            double ref = one * best_threads > many ? one * best_threads : many;
            printf("nnx model=mlp gflops=%.1f sgemm_gflops=%.1f sgemm_1thread=%.1f",
                   flops / best / 1e9, ref, one);
            if (best_threads > 1)
                printf(" sgemm_blas_%dthreads=%.1f", best_threads, many);
            printf(" threads=%d\n", best_threads);
        }
        printf("nnx model=%s best_s_per_epoch=%.3f cpu_s_per_epoch=%.3f threads=%d partial=%d\n",
               name, best, best_cpu, best_threads, model == 1 && cnn_batches > 0 ? cnn_batches : 0);
    }
    printf("nnx peak_rss_mb=%.1f\n", peak_rss_kb() / 1024.0);
    nnx_dataset_free(&train);
    return 0;
}
