/* progress.c — what a running search tells: the board rewritten as trials end, events for its caller, the ranked rows it hands back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/report.h"
#include "search/work.h"

/* The finished rows, ranked (an ensemble: in seed order), as shallow copies. */
static nnx_search_row *ranked_rows(const search *s, size_t *n)
{
    nnx_search_row *rows = malloc((s->njobs ? s->njobs : 1) * sizeof *rows);
    *n = 0;
    if (!rows)
        return NULL;
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i]->state == JOB_DONE)
            rows[(*n)++] = s->jobs[i]->row;
    if (s->res->kind != NNX_SEARCH_ENSEMBLE)
        nnx_search_rank(rows, *n, s->res->select_max);
    /* A staged search has one winner: the point its last finished stage kept.
     * It leads the board even where an earlier trial ties or beats it. */
    const char *kept = NULL;
    for (size_t k = 0; s->res->kind == NNX_SEARCH_STAGED && k < s->res->nstages; k++)
        if (s->res->stages[k].winner)
            kept = s->res->stages[k].winner;
    for (size_t i = 1; kept && i < *n; i++)
        if (rows[i].name && !strcmp(rows[i].name, kept)) {
            nnx_search_row w = rows[i];
            memmove(rows + 1, rows, i * sizeof *rows);
            rows[0] = w;
            break;
        }
    return rows;
}

int srch_write_board(search *s, bool final)
{
    if (s->o->look || s->defer)
        return 0;
    final = final && !s->open;      /* opts.only: the ensemble's average waits for every member */
    size_t n;
    nnx_search_row *rows = ranked_rows(s, &n);
    const nnx_search_row **ptrs = malloc((n ? n : 1) * sizeof *ptrs);
    const char **dirs = malloc((n ? n : 1) * sizeof *dirs);
    if (!rows || !ptrs || !dirs) {
        free(rows);
        free(ptrs);
        free(dirs);
        return nnx_rt_fail(s->err, "out of memory");
    }
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &rows[i];
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i]->state == JOB_DONE)
            dirs[d++] = s->jobs[i]->dir;
    int rc = 0;
    nnx_search_result *res = s->res;
    int rung_epochs[NNX_PLAN_MAX_RUNGS];
    size_t rung_trials[NNX_PLAN_MAX_RUNGS];
    size_t nrungs = res->kind == NNX_SEARCH_ENSEMBLE ? 0 : nnx_plan_rungs(s->base, s->njobs, rung_epochs, rung_trials);
    if (res->kind == NNX_SEARCH_ENSEMBLE) {
        srch_ensemble_stats_free(&res->ens);
        rc = srch_ensemble_stats(final && !res->interrupted ? s->base : NULL, s->o->lua_stdlib, ptrs, dirs, n, &res->ens,
                                 s->err);
    }
    srch_board b = {
        .dir = res->dir, .version = s->o->version ? s->o->version : "",
        .experiment = s->base->name, .search_kind = nnx_exp_search_name(s->base->search.kind),
        .select = res->select, .select_max = res->select_max, .kind = res->kind,
        .paths = res->paths, .nparams = res->nparams, .rows = ptrs, .nrows = n,
        .planned = res->planned, .stages = res->stages, .nstages = res->nstages,
        .ens = res->kind == NNX_SEARCH_ENSEMBLE ? &res->ens : NULL, .message = res->message,
        .prune = &s->base->prune, .epochs = s->base->epochs, .rung_epochs = rung_epochs, .nrungs = nrungs,
        .tpe = s->base->search.kind == NNX_XSEARCH_TPE ? &s->base->search : NULL,
        .warnings = res->warnings, .nwarnings = res->nwarnings,
        .provenance = s->o->provenance,
    };
    if (rc == 0 && (rc = srch_board_write(&b, s->err)) < 0)
        res->write_failed = true;
    free(rows);
    free(ptrs);
    free(dirs);
    return rc;
}

/* Tell the caller what happened, with the whole search's counts. */
void srch_emit(search *s, nnx_search_event ev)
{
    if (!s->o->event)
        return;
    size_t n;
    nnx_search_row *rows = ranked_rows(s, &n);
    const char **running = malloc((s->njobs ? s->njobs : 1) * sizeof *running);
    ev.stage = ev.kind == NNX_SEARCH_STAGE_DONE ? ev.stage : s->stage;
    ev.done = ev.running = ev.queued = 0;
    for (size_t i = 0; i < s->njobs; i++) {
        job_state st = s->jobs[i]->state;
        ev.done += st == JOB_DONE;
        ev.queued += st == JOB_QUEUED;
        if (st == JOB_RUNNING && running)
            running[ev.running++] = s->jobs[i]->name;
    }
    ev.running_names = running;
    ev.best = rows && n && s->res->kind != NNX_SEARCH_ENSEMBLE && srch_row_group(&rows[0]) == 0 ? &rows[0] : NULL;
    ev.select = s->res->select;
    ev.select_max = s->res->select_max;
    s->o->event(s->o->event_user, &ev);
    free(running);
    free(rows);
}

/* Move the finished rows into the result, ranked. */
int srch_take_rows(search *s)
{
    nnx_search_result *res = s->res;
    size_t n;
    nnx_search_row *rows = ranked_rows(s, &n);
    if (!rows)
        return nnx_rt_fail(s->err, "out of memory");
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i]->state == JOB_DONE) {
            memset(&s->jobs[i]->row, 0, sizeof s->jobs[i]->row);    /* moved */
            s->jobs[i]->state = JOB_QUEUED;
        }
    res->rows = rows;
    res->nrows = n;
    res->winner = res->kind != NNX_SEARCH_ENSEMBLE && n && srch_row_group(&rows[0]) == 0 ? 0 : -1;
    return 0;
}

/* report.html of the finished search; when it cannot be written, a warning
 * that summary.json records. */
int srch_write_report(search *s)
{
    nnx_search_result *res = s->res;
    nnx_rt_error rerr;
    if (nnx_report_write(res->dir, NULL, false, &res->report, &rerr) == 0)
        return 0;
    char buf[700];
    snprintf(buf, sizeof buf, "report: %s", rerr.msg);
    char **w = realloc(res->warnings, (res->nwarnings + 1) * sizeof *w);
    if (!w)
        return nnx_rt_fail(s->err, "out of memory");
    res->warnings = w;
    if (!(w[res->nwarnings] = strdup(buf)))
        return nnx_rt_fail(s->err, "out of memory");
    res->nwarnings++;
    return srch_write_board(s, true);
}
