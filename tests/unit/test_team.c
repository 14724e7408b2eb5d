/* test_team.c — the runtime's worker team (src/rt/team.h): every unit of
 * every job runs exactly once, on a valid thread id, for teams of 1 to 4
 * threads and jobs of fewer units than threads, also when the threads have
 * gone to sleep between jobs or while waiting for a slow unit; the workers
 * really run units beside the caller; background work runs each unit once,
 * on the workers between jobs, and is over when its wait returns;
 * nnx_team_split covers a range exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "rt/team.h"

enum { MAX_JOB_UNITS = 64 };

typedef struct count_job {
    _Atomic int runs[MAX_JOB_UNITS];
    _Atomic int bad_tid;
    int threads;
} count_job;

static void count_unit(void *p, int unit, int tid)
{
    count_job *j = p;
    atomic_fetch_add(&j->runs[unit], 1);
    if (tid < 0 || tid >= j->threads)
        atomic_fetch_add(&j->bad_tid, 1);
}

static void count_start(count_job *j, int threads)
{
    j->threads = threads;
    for (int u = 0; u < MAX_JOB_UNITS; u++)
        atomic_init(&j->runs[u], 0);
    atomic_init(&j->bad_tid, 0);
}

/* Units [0, nunits) ran once each, no other unit ran, every tid was valid. */
static void count_check(count_job *j, int nunits, int job)
{
    for (int u = 0; u < MAX_JOB_UNITS; u++)
        if (atomic_load(&j->runs[u]) != (u < nunits))
            fail_msg("%d threads, job %d: unit %d ran %d times", j->threads, job, u,
                     atomic_load(&j->runs[u]));
    assert_int_equal(atomic_load(&j->bad_tid), 0);
}

/* A team of `threads`, which it says it has. */
static nnx_team *new_team(int threads)
{
    nnx_rt_error err;
    nnx_team *team = nnx_team_new(threads, &err);
    assert_non_null(team);
    assert_int_equal(nnx_team_size(team), threads);
    return team;
}

static void every_unit_runs_once(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 4; threads++) {
        nnx_team *team = new_team(threads);
        for (int job = 0; job < 3000; job++) {
            int nunits = 1 + job % 37;           /* 1 .. 37: fewer and more than threads */
            count_job j;
            count_start(&j, threads);
            nnx_team_run(team, nunits, count_unit, &j);
            count_check(&j, nunits, job);
        }
        nnx_team_free(team);
    }
    assert_int_equal(nnx_team_size(NULL), 1);
    nnx_team_free(NULL);
}

/* Unit 0 waits (up to 10 s) until another unit has started on another
 * thread: it can only end early if a worker runs beside the caller. */
typedef struct meet_job {
    _Atomic int other_tid;       /* -1 until a unit other than 0 starts */
    _Atomic int met;
} meet_job;

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void meet_unit(void *p, int unit, int tid)
{
    meet_job *j = p;
    if (unit != 0) {
        int none = -1;
        atomic_compare_exchange_strong(&j->other_tid, &none, tid);
        return;
    }
    double end = seconds() + 10.0;
    while (seconds() < end) {
        int other = atomic_load(&j->other_tid);
        if (other >= 0 && other != tid) {
            atomic_store(&j->met, 1);
            return;
        }
    }
}

static void workers_run_beside_the_caller(void **state)
{
    (void)state;
    nnx_team *team = new_team(2);
    meet_job j;
    atomic_init(&j.other_tid, -1);
    atomic_init(&j.met, 0);
    nnx_team_run(team, 2, meet_unit, &j);
    assert_int_equal(atomic_load(&j.met), 1);
    nnx_team_free(team);
}

static void pause_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Unit 0 waits until a unit has started on another thread, and a worker's
 * unit takes 3 ms: longer than the caller polls for the last unit
 * (team.c's SPIN_SECONDS, 1 ms), so the caller, done with unit 0 (it takes unit
 * 0 when the workers were asleep), sleeps and must be woken. */
typedef struct slow_job {
    count_job count;
    _Atomic int started_by;      /* tid + 1 of the first unit but 0 to start */
} slow_job;

static void slow_worker_unit(void *p, int unit, int tid)
{
    slow_job *j = p;
    count_unit(&j->count, unit, tid);
    if (unit != 0) {
        int none = 0;
        atomic_compare_exchange_strong(&j->started_by, &none, tid + 1);
        if (tid != 0)
            pause_ms(3);
        return;
    }
    double end = seconds() + 10.0;
    while (seconds() < end) {
        int by = atomic_load(&j->started_by);
        if (by != 0 && by != tid + 1)
            return;
    }
}

/* Jobs 3 ms apart, longer than a worker polls for the next one, so every
 * job finds the workers asleep and must wake them. */
static void jobs_wake_sleeping_threads(void **state)
{
    (void)state;
    for (int threads = 2; threads <= 3; threads++) {
        nnx_team *team = new_team(threads);
        for (int job = 0; job < 20; job++) {
            int nunits = 2 + job % 5;
            slow_job j;
            count_start(&j.count, threads);
            atomic_init(&j.started_by, 0);
            pause_ms(3);
            if (job % 2)
                nnx_team_run(team, nunits, slow_worker_unit, &j);
            else
                nnx_team_run(team, nunits, count_unit, &j.count);
            count_check(&j.count, nunits, job);
        }
        nnx_team_free(team);
    }
}

/* Background work (nnx_team_background): every unit runs once, jobs
 * meanwhile run as ever, and none runs after the wait has returned. */
static void background_units_run_once(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 4; threads++) {
        nnx_team *team = new_team(threads);
        for (int round = 0; round < 1000; round++) {
            int nb = 1 + round % 37, nj = 1 + (round * 7) % 23;
            count_job bg, job;
            count_start(&bg, threads);
            nnx_team_background(team, nb, count_unit, &bg);
            for (int k = 0; k < round % 3; k++) {
                count_start(&job, threads);
                nnx_team_run(team, nj, count_unit, &job);
                count_check(&job, nj, round);
            }
            nnx_team_background_wait(team);
            count_check(&bg, nb, round);
            count_start(&job, threads);
            nnx_team_run(team, nj, count_unit, &job);
            count_check(&bg, nb, round);
        }
        nnx_team_background_wait(team);     /* none open: returns at once */
        nnx_team_free(team);
    }
    count_job bg;                           /* no team: the units run at once */
    count_start(&bg, 1);
    nnx_team_background(NULL, 5, count_unit, &bg);
    count_check(&bg, 5, 0);
    nnx_team_background_wait(NULL);
}

/* A worker that has finished a job takes background units while the
 * caller does something else: some unit runs on a thread other than the
 * caller's before the caller waits.  (Tried up to 100 times, in case the
 * system keeps the worker off a core for a whole try.) */
typedef struct where_job {
    _Atomic int on_worker;
} where_job;

static void where_unit(void *p, int unit, int tid)
{
    (void)unit;
    where_job *j = p;
    if (tid != 0)
        atomic_store(&j->on_worker, 1);
}

static void background_runs_on_workers(void **state)
{
    (void)state;
    nnx_team *team = new_team(2);
    bool seen = false;
    for (int attempt = 0; attempt < 100 && !seen; attempt++) {
        count_job job;
        count_start(&job, 2);
        nnx_team_run(team, 2, count_unit, &job);       /* the worker is awake */
        where_job j;
        atomic_init(&j.on_worker, 0);
        nnx_team_background(team, 4, where_unit, &j);
        double end = seconds() + 0.1;
        while (seconds() < end && !atomic_load(&j.on_worker))
            ;
        seen = atomic_load(&j.on_worker);
        nnx_team_background_wait(team);
    }
    assert_true(seen);
    nnx_team_free(team);
}

static void split_covers_the_range(void **state)
{
    (void)state;
    for (long total = 0; total < 50; total++)
        for (int n = 1; n <= 9; n++) {
            long expect = 0;
            for (int u = 0; u < n; u++) {
                long lo, hi;
                nnx_team_split(total, n, u, &lo, &hi);
                assert_int_equal(lo, expect);
                assert_true(hi >= lo && hi - lo <= total / n + 1);
                expect = hi;
            }
            assert_int_equal(expect, total);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_unit_runs_once),
        cmocka_unit_test(workers_run_beside_the_caller),
        cmocka_unit_test(jobs_wake_sleeping_threads),
        cmocka_unit_test(background_units_run_once),
        cmocka_unit_test(background_runs_on_workers),
        cmocka_unit_test(split_covers_the_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
