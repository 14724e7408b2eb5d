/* team.c — a network's worker threads (see team.h).
 *
 * The hot path takes no lock.  A job is published in one of two slots (by
 * its generation's parity) and then announced by storing its generation in
 * `published`; units are claimed from one atomic counter tagged with the
 * generation, so a worker that reads a slot late, even while a newer job
 * rewrites it, cannot take a unit of the wrong job: its claim carries the
 * old tag and fails.  (A slot is rewritten two jobs later, after the
 * counter has moved on; the slot's fields are release-stored and
 * acquire-loaded, so a worker that sees a newer job's field also sees the
 * counter's newer tag.)
 *
 * Background work (team.h) has its fields and a counter of its own, tagged
 * with its generation the same way, so a worker between two jobs claims its
 * units one at a time without ever running a unit of a finished one.
 *
 * The mutex and condition variables are for sleeping only: a worker that
 * has polled long enough without a job sleeps on `wake`, and a caller whose
 * workers take long sleeps on `finished`.  Each side says it is going to
 * sleep (`sleepers`, `waiting`) before it checks once more, and the other
 * side looks at that flag after its own store, so (both sequentially
 * consistent) one of the two always sees the other: nobody sleeps through
 * the store that should wake it, and nobody takes the mutex when nobody
 * sleeps.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "nnx/rt/clock.h"
#include "rt/team.h"

/* How long a thread polls before it sleeps on a condition variable: the
 * caller waiting for the workers' last units, and a worker waiting for the
 * next job.  A training step's jobs follow each other within microseconds,
 * and its serial stretches (the loss, say) last tens to hundreds; a thread
 * put to sleep costs the other a futex call and itself tens of microseconds
 * to wake, so both poll for a millisecond (a pause is 10 to 140 ns, by the
 * CPU: the limit is in time, read every POLL_BATCH pauses). */
#define SPIN_SECONDS 1e-3
#define POLL_BATCH   64

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Poll until done(arg) or SPIN_SECONDS have passed; done(arg)'s last answer. */
static bool spin_until(bool (*done)(void *), void *arg)
{
    double end = 0;
    for (;;) {
        for (int i = 0; i < POLL_BATCH; i++) {
            if (done(arg))
                return true;
            cpu_relax();
        }
        double t = nnx_clock_seconds();
        if (end == 0)
            end = t + SPIN_SECONDS;
        else if (t >= end)
            return done(arg);
    }
}

typedef struct job_slot {
    _Atomic(nnx_team_fn) fn;
    _Atomic(void *) ctx;
    _Atomic int nunits;
} job_slot;

struct nnx_team {
    int size;                       /* threads counting the caller */
    pthread_t *workers;             /* owned: size - 1 of them */
    int started;                    /* workers actually running */
    uint32_t gen;                   /* the caller's last job */
    job_slot slot[2];               /* job gen is in slot[gen & 1] */
    _Atomic uint32_t published;     /* the newest job's gen */
    _Atomic uint64_t next;          /* gen << 32 | next unit to hand out */
    _Atomic int done;               /* units finished in the current job */
    _Atomic bool quit;
    pthread_mutex_t mu;             /* for sleeping only */
    pthread_cond_t wake;            /* a new job, or quit */
    pthread_cond_t finished;        /* the last unit of the job is done */
    _Atomic int sleepers;           /* workers asleep (or about to be) on `wake` */
    _Atomic bool waiting;           /* the caller asleep (or about to be) on `finished` */
    /* Background work, published as a job is: fields, then its counter. */
    _Atomic(nnx_team_fn) bg_fn;
    _Atomic(void *) bg_ctx;
    _Atomic int bg_nunits;
    _Atomic uint32_t bg_tag;        /* the generation these fields are of */
    _Atomic uint64_t bg_next;       /* bg_gen << 32 | next unit to hand out */
    _Atomic int bg_done;            /* its units finished */
    uint32_t bg_gen;                /* the caller's last background job */
    bool bg_open;                   /* started and not yet waited for (caller) */
};

typedef struct worker_arg {
    nnx_team *team;
    int tid;
} worker_arg;

/* Claim and run units of job `gen` until none is left.  A thread's first
 * claim takes a block, its share of the units (of those left, if it comes
 * late), and later claims one unit each: so on two threads the caller,
 * which claims first, runs a job's first half and the worker its second
 * half, job after job (a pass over an array finds in this core's cache
 * what the last pass over the same part left there), and the claims do not
 * bounce the counter's cache line between the cores unit by unit. */
static void work(nnx_team *t, uint32_t gen, nnx_team_fn fn, void *ctx, int nunits, int tid)
{
    bool first = true;
    for (;;) {
        uint64_t v = atomic_load(&t->next);
        int u = (int)(uint32_t)v;
        if ((uint32_t)(v >> 32) != gen || u >= nunits)
            return;
        int k = 1;
        if (first) {
            int share = nunits / t->size, left = (nunits - u + t->size - 1) / t->size;
            k = share < left ? share : left;
            k = k < 1 ? 1 : k;
        }
        if (!atomic_compare_exchange_weak(&t->next, &v, v + (uint64_t)k))
            continue;
        first = false;
        for (int i = 0; i < k; i++)
            fn(ctx, u + i, tid);
        if (atomic_fetch_add(&t->done, k) + k == nunits && tid != 0 &&
            atomic_load(&t->waiting)) {
            pthread_mutex_lock(&t->mu);
            pthread_cond_signal(&t->finished);
            pthread_mutex_unlock(&t->mu);
        }
    }
}

typedef struct watch {
    nnx_team *t;
    uint32_t seen;
    int nunits;
} watch;

static bool job_or_quit(void *p)
{
    const watch *w = p;
    return atomic_load(&w->t->published) != w->seen || atomic_load(&w->t->quit);
}

static bool job_done(void *p)
{
    const watch *w = p;
    return atomic_load(&w->t->done) >= w->nunits;
}

/* Claim and run one unit of the background job, if one is left: true if
 * this thread ran one.  The counter first, the fields, the tag last: fields
 * read while the caller publishes a newer job come with the newer tag
 * (nnx_team_background stores it first), which the counter read before
 * does not carry, so no unit of one job runs with another's fields or on
 * another's counter. */
static bool background_unit(nnx_team *t, int tid)
{
    uint64_t v = atomic_load(&t->bg_next);
    nnx_team_fn fn = atomic_load_explicit(&t->bg_fn, memory_order_acquire);
    void *ctx = atomic_load_explicit(&t->bg_ctx, memory_order_acquire);
    int nunits = atomic_load_explicit(&t->bg_nunits, memory_order_acquire);
    uint32_t tag = atomic_load_explicit(&t->bg_tag, memory_order_acquire);
    int u = (int)(uint32_t)v;
    if (tag != (uint32_t)(v >> 32) || u >= nunits ||
        !atomic_compare_exchange_strong(&t->bg_next, &v, v + 1))
        return false;
    fn(ctx, u, tid);
    atomic_fetch_add(&t->bg_done, 1);
    return true;
}

static bool background_left(const nnx_team *t)
{
    return (int)(uint32_t)atomic_load(&t->bg_next) < atomic_load(&t->bg_nunits);
}

/* Background work waits for the last job to be whole: a worker that has
 * finished its share would otherwise slow the caller's (the memory the
 * background reads is the products' too). */
static bool job_quit_or_background(void *p)
{
    const watch *w = p;
    return job_or_quit(p) || (background_left(w->t) && atomic_load(&w->t->done) >= w->nunits);
}

/* Wait until a job newer than `seen` is published (or quit), running units
 * of the background job meanwhile; the job's gen. */
static uint32_t next_job(nnx_team *t, uint32_t seen, int nunits, int tid)
{
    watch w = {.t = t, .seen = seen, .nunits = nunits};
    while (spin_until(job_quit_or_background, &w)) {
        if (job_or_quit(&w))
            return atomic_load(&t->published);
        background_unit(t, tid);
    }
    pthread_mutex_lock(&t->mu);
    atomic_fetch_add(&t->sleepers, 1);
    uint32_t g;
    while ((g = atomic_load(&t->published)) == seen && !atomic_load(&t->quit))
        pthread_cond_wait(&t->wake, &t->mu);
    atomic_fetch_sub(&t->sleepers, 1);
    pthread_mutex_unlock(&t->mu);
    return g;
}

static void *worker_main(void *p)
{
    worker_arg *a = p;
    nnx_team *t = a->team;
    int tid = a->tid;
    free(a);
    uint32_t seen = 0;
    int nunits = 0;
    for (;;) {
        seen = next_job(t, seen, nunits, tid);
        if (atomic_load(&t->quit))
            return NULL;
        const job_slot *s = &t->slot[seen & 1];
        nnx_team_fn fn = atomic_load_explicit(&s->fn, memory_order_acquire);
        void *ctx = atomic_load_explicit(&s->ctx, memory_order_acquire);
        nunits = atomic_load_explicit(&s->nunits, memory_order_acquire);
        work(t, seen, fn, ctx, nunits, tid);
    }
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
    nnx_team_background_wait(t);
    atomic_store(&t->quit, true);
    pthread_mutex_lock(&t->mu);
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
    uint32_t gen = ++t->gen;
    if (gen == 0)                   /* 0 is "no job seen yet" for a worker */
        gen = ++t->gen;
    job_slot *s = &t->slot[gen & 1];
    atomic_store_explicit(&s->fn, fn, memory_order_release);
    atomic_store_explicit(&s->ctx, ctx, memory_order_release);
    atomic_store_explicit(&s->nunits, nunits, memory_order_release);
    atomic_store(&t->done, 0);
    atomic_store(&t->next, (uint64_t)gen << 32);
    atomic_store(&t->published, gen);
    if (atomic_load(&t->sleepers)) {
        pthread_mutex_lock(&t->mu);
        pthread_cond_broadcast(&t->wake);
        pthread_mutex_unlock(&t->mu);
    }

    work(t, gen, fn, ctx, nunits, 0);
    if (!spin_until(job_done, &(watch){.t = t, .nunits = nunits})) {
        pthread_mutex_lock(&t->mu);
        atomic_store(&t->waiting, true);
        while (atomic_load(&t->done) < nunits)
            pthread_cond_wait(&t->finished, &t->mu);
        atomic_store(&t->waiting, false);
        pthread_mutex_unlock(&t->mu);
    }
}

void nnx_team_background(nnx_team *t, int nunits, nnx_team_fn fn, void *ctx)
{
    if (!t || t->size == 1) {
        for (int u = 0; u < nunits; u++)
            fn(ctx, u, 0);
        return;
    }
    nnx_team_background_wait(t);
    /* The tag first: a worker that reads any new field then reads the new
     * tag too (it reads the tag last), which the old counter does not
     * carry.  Stored after them, a worker could pair the old counter (all
     * units claimed) and the old tag with the new count, and claim a unit
     * of the new job on the old counter before the new one is out. */
    uint32_t gen = ++t->bg_gen;
    atomic_store(&t->bg_tag, gen);
    atomic_store_explicit(&t->bg_fn, fn, memory_order_release);
    atomic_store_explicit(&t->bg_ctx, ctx, memory_order_release);
    atomic_store_explicit(&t->bg_nunits, nunits, memory_order_release);
    atomic_store(&t->bg_done, 0);
    atomic_store(&t->bg_next, (uint64_t)gen << 32);
    t->bg_open = true;
}

void nnx_team_background_wait(nnx_team *t)
{
    if (!t || !t->bg_open)
        return;
    while (background_left(t))
        background_unit(t, 0);
    /* The units a worker claimed last take a microsecond or two. */
    int nunits = atomic_load(&t->bg_nunits);
    while (atomic_load(&t->bg_done) < nunits)
        cpu_relax();
    t->bg_open = false;
}
