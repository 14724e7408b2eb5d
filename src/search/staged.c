/* staged.c — a staged search: its stages in order, each from the winners of the ones before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/work.h"

/* The earlier job whose experiment equals `e`, or NULL. */
static job *trained_equal(const search *s, const nnx_experiment *e)
{
    for (size_t i = 0; e && i < s->njobs; i++)
        if (s->jobs[i]->e && nnx_experiment_equal(s->jobs[i]->e, e))
            return s->jobs[i];
    return NULL;
}

/* Stage k: its trials (each new one run, each equal to an earlier one
 * reused); the winner's value is kept. */
static int run_stage(search *s, size_t k, size_t *kept)
{
    const nnx_stage *stage = &s->plan->stages[k];
    nnx_search_stage *out = &s->res->stages[k];
    s->stage = k;
    out->path = strdup(stage->path);
    out->names = calloc(stage->nvalues ? stage->nvalues : 1, sizeof *out->names);
    out->values = calloc(stage->nvalues ? stage->nvalues : 1, sizeof *out->values);
    job **members = calloc(stage->nvalues ? stage->nvalues : 1, sizeof *members);
    size_t n = 0;
    nnx_trial *t = nnx_plan_stage(s->plan, k, kept, &n);
    int rc = out->path && out->names && out->values && members && t ? 0 : nnx_rt_fail(s->err, "out of memory");
    s->res->nstages = k + 1;
    size_t first = s->njobs;
    for (size_t v = 0; rc == 0 && v < n; v++) {
        char *name = srch_fresh_name(s, t[v].name), number[48];
        snprintf(number, sizeof number, "%zu.%zu", k + 1, v + 1);
        job *j = name ? srch_job_new(s, &t[v], name, (int)k, number) : NULL;
        free(name);
        if (!j) {
            rc = nnx_rt_fail(s->err, "out of memory");
            break;
        }
        job *same = trained_equal(s, j->e);
        if (same) {
            if (srch_is_selected(s, j) || (s->o->only && s->o->only[0] && !strcmp(t[v].name, s->o->only))) {
                s->res->only = NNX_ONLY_REUSED;
                free(s->res->only_name);
                s->res->only_name = strdup(same->name);
            }
            srch_job_free(j);
            members[v] = same;
            s->res->reused++;
            srch_emit(s, (nnx_search_event){ .kind = NNX_SEARCH_REUSED, .trial = t[v].name, .row = &same->row });
        } else if (!srch_add_job(s, j)) {
            srch_job_free(j);
            rc = nnx_rt_fail(s->err, "out of memory");
            break;
        } else
            members[v] = j;
        out->names[v] = strdup(members[v]->name);
        out->values[v] = strdup(stage->values[v]);
        out->ntrials++;
        if (!out->names[v] || !out->values[v])
            rc = nnx_rt_fail(s->err, "out of memory");
    }
    s->res->planned += n;
    nnx_trials_free(t, n);
    if (rc == 0)
        rc = srch_run_jobs(s, first, s->njobs);
    /* the winner of the stage: its first row in the leaderboard's ranking;
     * none yet while some of its trials have not ended (opts.only) */
    long best = -1;
    for (size_t v = 0; rc == 0 && !s->open && v < n; v++) {
        const nnx_search_row *r = &members[v]->row;
        if (members[v]->state != JOB_DONE || srch_row_group(r) != 0)
            continue;
        const nnx_search_row *b = best >= 0 ? &members[best]->row : NULL;
        if (!b || srch_row_compare(r, b, s->res->select_max) < 0)
            best = (long)v;
    }
    if (rc == 0 && best >= 0) {
        kept[k] = (size_t)best;
        out->kept = strdup(stage->values[best]);
        out->winner = strdup(members[best]->name);
        if (!out->kept || !out->winner)
            rc = nnx_rt_fail(s->err, "out of memory");
    }
    if (rc == 0 && srch_write_board(s, false) < 0)
        rc = -1;
    if (rc == 0)
        srch_emit(s, (nnx_search_event){ .kind = NNX_SEARCH_STAGE_DONE, .stage = k, .path = out->path,
                                    .value = out->kept, .row = best >= 0 ? &members[best]->row : NULL });
    free(members);
    return rc;
}

int srch_run_staged(search *s)
{
    size_t ns = s->plan->nstages;
    size_t *kept = calloc(ns ? ns : 1, sizeof *kept);
    s->res->stages = calloc(ns ? ns : 1, sizeof *s->res->stages);
    if (!kept || !s->res->stages) {
        free(kept);
        return nnx_rt_fail(s->err, "out of memory");
    }
    int rc = 0;
    s->res->open_stage = ns;
    for (size_t k = 0; rc == 0 && k < ns && !s->res->interrupted; k++) {
        rc = run_stage(s, k, kept);
        if (rc == 0 && s->open) {
            s->res->open_stage = k;     /* opts.only: the later stages wait for this one */
            break;
        }
        if (rc == 0 && !s->res->stages[k].kept && !s->res->interrupted) {
            char msg[300];
            snprintf(msg, sizeof msg, "stage %zu (%s): no trial ended with a value of %s; the search stops",
                     k + 1, s->plan->stages[k].path, s->res->select);
            s->res->message = strdup(msg);
            break;
        }
    }
    free(kept);
    return rc;
}
