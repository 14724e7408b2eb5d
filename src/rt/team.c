/* team.c — a network's worker threads (see team.h): jobs published under a
 * mutex, units claimed from one atomic counter tagged with the job's
 * generation, so a worker that wakes late cannot take a unit of a newer job.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "rt/team.h"

/* Polls (a pause each, tens of nanoseconds) before sleeping on a condition
 * variable: the caller waiting for the workers' last units, and a worker
 * waiting for the next job (a network's jobs follow each other within
 * microseconds, far sooner than a sleeping thread is woken). */
#define SPIN_POLLS   4000
#define WORKER_POLLS 8000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

struct nnx_team {
    int size;                       /* threads counting the caller */
    pthread_t *workers;             /* owned: size - 1 of them */
    int started;                    /* workers actually running */
    pthread_mutex_t mu;
    pthread_cond_t wake;            /* a new job, or quit */
    pthread_cond_t finished;        /* the last unit of the job is done */
    /* The current job: written under mu by the caller, read under mu by the
     * workers when they see a new generation. */
    uint32_t gen;
    nnx_team_fn fn;
    void *ctx;
    int nunits;
    bool quit;
    int sleepers;                   /* workers waiting on `wake` */
    _Atomic uint32_t published;     /* gen, for workers polling without mu */
    _Atomic uint64_t next;          /* gen << 32 | next unit to hand out */
    _Atomic int done;               /* units finished in the current job */
};

typedef struct worker_arg {
    nnx_team *team;
    int tid;
} worker_arg;

/* Claim and run units of job `gen` until none is left. */
static void work(nnx_team *t, uint32_t gen, nnx_team_fn fn, void *ctx, int nunits, int tid)
{
    for (;;) {
        uint64_t v = atomic_load(&t->next);
        if ((uint32_t)(v >> 32) != gen || (int)(uint32_t)v >= nunits)
            return;
        if (!atomic_compare_exchange_weak(&t->next, &v, v + 1))
            continue;
        fn(ctx, (int)(uint32_t)v, tid);
        if (atomic_fetch_add(&t->done, 1) + 1 == nunits && tid != 0) {
            pthread_mutex_lock(&t->mu);
            pthread_cond_signal(&t->finished);
            pthread_mutex_unlock(&t->mu);
        }
    }
}

static void *worker_main(void *p)
{
    worker_arg *a = p;
    nnx_team *t = a->team;
    int tid = a->tid;
    free(a);
    uint32_t seen = 0;
    for (;;) {
        for (int i = 0; i < WORKER_POLLS && atomic_load(&t->published) == seen; i++)
            cpu_relax();
        pthread_mutex_lock(&t->mu);
        while (!t->quit && t->gen == seen) {
            t->sleepers++;
            pthread_cond_wait(&t->wake, &t->mu);
            t->sleepers--;
        }
        if (t->quit)
            break;
        seen = t->gen;
        nnx_team_fn fn = t->fn;
        void *ctx = t->ctx;
        int nunits = t->nunits;
        pthread_mutex_unlock(&t->mu);
        work(t, seen, fn, ctx, nunits, tid);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

nnx_team *nnx_team_new(int threads, nnx_rt_error *err)
{
    if (threads < 1)
        threads = 1;
    nnx_team *t = calloc(1, sizeof *t);
    if (!t || (threads > 1 && !(t->workers = calloc((size_t)threads - 1, sizeof *t->workers)))) {
        free(t);
        nnx_rt_fail(err, "out of memory for %d threads", threads);
        return NULL;
    }
    t->size = threads;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->wake, NULL);
    pthread_cond_init(&t->finished, NULL);
    atomic_init(&t->next, 0);
    atomic_init(&t->published, 0);
    atomic_init(&t->done, 0);
    for (int i = 1; i < threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (a) {
            *a = (worker_arg){t, i};
            if (pthread_create(&t->workers[i - 1], NULL, worker_main, a) == 0) {
                t->started++;
                continue;
            }
            free(a);
        }
        nnx_team_free(t);
        nnx_rt_fail(err, "could not start thread %d of %d", i + 1, threads);
        return NULL;
    }
    return t;
}

void nnx_team_free(nnx_team *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->quit = true;
    atomic_store(&t->published, t->gen + 1);    /* stop the polling */
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->mu);
    for (int i = 0; i < t->started; i++)
        pthread_join(t->workers[i], NULL);
    pthread_cond_destroy(&t->finished);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->mu);
    free(t->workers);
    free(t);
}

int nnx_team_size(const nnx_team *t)
{
    return t ? t->size : 1;
}

void nnx_team_run(nnx_team *t, int nunits, nnx_team_fn fn, void *ctx)
{
    if (!t || t->size == 1 || nunits <= 1) {
        for (int u = 0; u < nunits; u++)
            fn(ctx, u, 0);
        return;
    }
    pthread_mutex_lock(&t->mu);
    uint32_t gen = ++t->gen;
    if (gen == 0)                   /* 0 is "no job seen yet" for a worker */
        gen = ++t->gen;
    t->fn = fn;
    t->ctx = ctx;
    t->nunits = nunits;
    atomic_store(&t->done, 0);
    atomic_store(&t->next, (uint64_t)gen << 32);
    atomic_store(&t->published, gen);
    if (t->sleepers)
        pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->mu);

    work(t, gen, fn, ctx, nunits, 0);
    for (int i = 0; i < SPIN_POLLS && atomic_load(&t->done) < nunits; i++)
        cpu_relax();
    if (atomic_load(&t->done) < nunits) {
        pthread_mutex_lock(&t->mu);
        while (atomic_load(&t->done) < nunits)
            pthread_cond_wait(&t->finished, &t->mu);
        pthread_mutex_unlock(&t->mu);
    }
}
