/* only.c — one trial of many processes (nnx run --trial, nnx submit): train the selected trial under its lock, read the others. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/work.h"

/* opts.only names j: by number when it is one ("3", "2.3"; an ensemble
 * member's seed is its name, but a number here is always the plan's), else
 * by name. */
bool srch_is_selected(const search *s, const job *j)
{
    const char *only = s->o->only;
    if (!only || !only[0])
        return false;
    bool number = strspn(only, "0123456789.") == strlen(only);
    return !strcmp(number ? j->number : j->name, only);
}

static char *dup_or_null(const char *v, bool *ok)
{
    char *d = v ? strdup(v) : NULL;
    *ok = *ok && (!v || d);
    return d;
}

/* Record job j as pending in the result: running (its lock held), interrupted
 * (it left resume.state) or not started. */
static int add_pending(search *s, const job *j)
{
    nnx_search_result *res = s->res;
    nnx_search_pending *p = realloc(res->pending, (res->npending + 1) * sizeof *p);
    if (!p)
        return nnx_rt_fail(s->err, "out of memory");
    res->pending = p;
    nnx_search_row row = { 0 };
    nnx_trial_state st;
    char holder[300];
    if (nnx_search_trial_look(s->o->dir, s->root, j->name, &row, &st, holder, sizeof holder, s->err) < 0)
        return -1;
    nnx_search_row_free(&row);
    const char *state = nnx_trial_state_name(st);
    bool ok = true;
    p[res->npending] = (nnx_search_pending){ .name = dup_or_null(j->name, &ok), .number = dup_or_null(j->number, &ok),
                                             .state = dup_or_null(state, &ok),
                                             .holder = dup_or_null(holder[0] ? holder : NULL, &ok) };
    res->npending++;
    return ok ? 0 : nnx_rt_fail(s->err, "out of memory");
}

/* A trial this process does not train, whose row (j->row) nnx_search_row_read
 * gave r (1: it has ended): never touch its directory.  A pruned search: a
 * trial pruned short of the current step's epochs has not ended it; one not
 * in the step (j->out) is only read. */
static int look_at_row(search *s, job *j, int r)
{
    if (r == 1 && (j->out || !srch_pruned_short(j))) {
        j->state = JOB_DONE;
        j->row.resumed = true;
        s->res->resumed += !j->counted;     /* once, though a pruned search reads it each step */
        j->counted = true;
        return srch_row_identity(s, j);
    }
    nnx_search_row_free(&j->row);
    j->row.value = NAN;
    j->state = JOB_QUEUED;
    if (j->out)
        return 0;
    s->open = true;
    return add_pending(s, j);
}

/* The same, its row read now. */
static int look_at(search *s, job *j)
{
    nnx_rt_error rerr = { { 0 } };
    return look_at_row(s, j, nnx_search_row_read(j->dir, &j->row, &rerr));
}

/* The selected trial: under its lock, prepared as a worker's, trained here. */
static int train_selected(search *s, job *j)
{
    nnx_search_result *res = s->res;
    bool ok = true;
    free(res->only_name);
    res->only_name = dup_or_null(j->name, &ok);
    if (!ok)
        return nnx_rt_fail(s->err, "out of memory");
    if (srch_interrupted(s)) {
        res->only = NNX_ONLY_WAITING;
        return look_at(s, j);
    }
    srch_lock_holder h;
    int got = srch_lock_take(s->o->dir, j->name, &h, s->err);
    if (got < 0)
        return -1;
    if (got == 0) {
        char holder[300];
        snprintf(holder, sizeof holder, "%s %ld", h.host, h.pid);
        res->only = NNX_ONLY_HELD;
        res->only_holder = dup_or_null(holder, &ok);
        return ok ? look_at(s, j) : nnx_rt_fail(s->err, "out of memory");
    }
    int rc = srch_prepare(s, j);
    if (rc == 0 && j->state == JOB_QUEUED) {
        res->ran++;
        j->trained = true;
        j->state = JOB_RUNNING;
        srch_emit(s, (nnx_search_event){ .kind = NNX_SEARCH_STARTED, .trial = j->name, .cont = j->cont });
        nnx_rt_error said = { { 0 } };
        srch_run_one(s, j, &said);
        rc = srch_collect(s, j, NULL, said.msg);
    }
    res->only = j->row.resumed ? NNX_ONLY_ENDED : NNX_ONLY_RAN;
    snprintf(res->only_status, sizeof res->only_status, "%s", j->state == JOB_DONE ? j->row.status : "");
    srch_lock_release(s->o->dir, j->name);
    if (rc == 0 && j->state != JOB_DONE) {
        s->open = true;
        rc = add_pending(s, j);
    }
    return rc;
}

/* opts.only: job j, a member of a step that ends at j->stop_after, has gone
 * past it without a final summary: it trains in a later step now (another
 * process continued it from the step's epochs), or was interrupted there.
 * Its summary says so: "running" from, or "interrupted" at, the step's
 * epochs or later (`reached`, srch_row_read's).  A trial killed in the
 * step, after its last epoch's row reached metrics.csv but before it said
 * it paused, has not: its summary still says "running" from where the
 * attempt began, so the step waits for it and its task run again ends it.
 * One reading of summary.json decides this and whether the trial has ended
 * (look_at_row, from r): read twice, a process continuing the trial could
 * write its "running" summary between the two, and the trial would seem
 * neither past the step nor ended in it, holding the step open. */
static bool past_step(const job *j, int r, int reached)
{
    return j->stop_after > 0 && r == 0 && reached >= j->stop_after;
}

/* opts.only: jobs [from, to) — the selected one trained here (once), the
 * others read as they are. */
int srch_only_run(search *s, size_t from, size_t to)
{
    bool proposing = true;
    for (size_t i = from; i < to; i++) {
        job *j = s->jobs[i];
        if (j->unproposed) {
            /* tpe: proposed here as nnx run proposes it, once trials 0..index-lag have ended */
            int p = proposing ? srch_propose_values(s, j) : 0;
            if (p < 0)
                return -1;
            if (p == 0) {
                proposing = false;      /* the later ones wait for it */
                s->open = s->open || !j->out;
                continue;
            }
        }
        /* a pruned search passes here once a step: each trial read afresh; this
         * process trains its trial in one step at most (under Slurm, a step's array) */
        nnx_search_row_free(&j->row);
        j->row.value = NAN;
        j->state = JOB_QUEUED;
        nnx_rt_error rerr = { { 0 } };
        int reached;
        int r = srch_row_read(j->dir, &j->row, &reached, &rerr);
        /* (one not in this step: past the step it was last in, which a tpe proposal
         * counts as ended: it observes the trial at its first rung's epochs) */
        j->passed = past_step(j, r, reached);
        bool mine = !j->passed && srch_is_selected(s, j) && !j->out && !j->trained;
        if (j->passed || mine) {
            nnx_search_row_free(&j->row);
            j->row.value = NAN;
        }
        if (j->passed)
            continue;
        int rc = mine ? train_selected(s, j) : look_at_row(s, j, r);
        if (rc < 0)
            return -1;
    }
    return srch_write_board(s, false);
}
