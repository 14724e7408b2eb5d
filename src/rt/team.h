/* team.h — a network's worker threads: run a job of numbered work units on
 * the calling thread and the team's workers together.
 *
 * A job is fn(ctx, unit, tid) for every unit in [0, nunits).  Units are
 * handed out from a shared counter: a thread's first claim in a job takes
 * its share of the units as a block (on two threads the caller, first,
 * gets the first half), and later claims take one unit each.  So a worker
 * that the system does not schedule holds up only the units it has
 * claimed: the caller takes the rest.
 * `tid` (0 = the caller, 1 .. size-1 = workers) only says whose scratch
 * memory to use; which thread runs a unit must not change what it computes.
 * That is how the runtime stays deterministic whatever the thread count: the
 * units depend on the data's shape alone, each writes its own outputs, and
 * sums over units are taken afterwards in unit order.
 *
 * Ownership: nnx_team_new returns a team the caller frees with
 * nnx_team_free, which stops and joins the workers.  A team runs one job at
 * a time and must be driven from one thread.
 */
#ifndef NNX_RT_TEAM_H
#define NNX_RT_TEAM_H

#include "nnx/util/error.h"

typedef struct nnx_team nnx_team;
typedef void (*nnx_team_fn)(void *ctx, int unit, int tid);

/* A team of `threads` threads counting the caller (so threads - 1 workers);
 * threads <= 1 gives a team that runs everything on the caller.  NULL, with
 * err filled, when a thread cannot be started. */
nnx_team *nnx_team_new(int threads, nnx_rt_error *err);
void      nnx_team_free(nnx_team *team);          /* NULL is fine */
int       nnx_team_size(const nnx_team *team);    /* 1 for NULL */

/* Run fn over units 0 .. nunits-1 and return when all are done.  A NULL team
 * or a single unit runs on the caller, in order. */
void nnx_team_run(nnx_team *team, int nunits, nnx_team_fn fn, void *ctx);

/* Background work: fn(ctx, unit, tid) for units 0 .. nunits-1, run by the
 * workers a unit at a time between jobs (once the last job's units are all
 * done: the serial stretches of a training step), until
 * nnx_team_background_wait, which runs on the caller whatever no worker has
 * claimed and returns when every unit is done.  ctx must stay valid until
 * then.  Units should be short (a microsecond or two): a worker in one
 * comes that much later to the next job, whose units the caller then takes.
 * One background job at a time (starting one waits for the last); a NULL
 * team, or one thread, runs the units at once. */
void nnx_team_background(nnx_team *team, int nunits, nnx_team_fn fn, void *ctx);
void nnx_team_background_wait(nnx_team *team);

/* The contiguous part [*lo, *hi) of `total` items that unit `unit` of
 * `nunits` covers (the parts differ in size by at most one). */
static inline void nnx_team_split(long total, int nunits, int unit, long *lo, long *hi)
{
    *lo = total * unit / nunits;
    *hi = total * (unit + 1) / nunits;
}

#endif
