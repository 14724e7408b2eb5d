/* search.c — nnx_search_run: check a search's trials, open its directory, run them by kind, hand back the result. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "search/work.h"

/* Check one trial (--set flags, then its values) into `d`; true when it checks. */
static bool trial_checks(search *s, const nnx_trial *t, nnx_diags *d)
{
    nnx_override *all = calloc(s->nset + t->nov + 1, sizeof *all);
    if (!all)
        return false;
    for (size_t i = 0; i < s->nset; i++)
        all[i] = s->set[i];
    for (size_t i = 0; i < t->nov; i++)
        all[s->nset + i] = t->ov[i];
    nnx_experiment *e = nnx_check_experiment(s->c, s->name, all, s->nset + t->nov, d);
    free(all);
    nnx_experiment_free(e);
    return e != NULL;
}

/* Every trial of the plan checks (staged: each stage with the first values
 * of the stages before), or -1 naming the first that does not. */
static int check_all(search *s, nnx_diags *d)
{
    nnx_diags local = { 0 };
    nnx_diags *dd = d ? d : &local;
    const char *bad = NULL;
    int rc = 0;
    if (s->plan->kind != NNX_PLAN_STAGED) {
        for (size_t i = 0; i < s->plan->ntrials; i++)
            if (!trial_checks(s, &s->plan->trials[i], dd) && !bad)
                bad = s->plan->trials[i].name;
        if (bad)
            rc = nnx_rt_fail(s->err, "trial %s does not check; nothing was trained", bad);
    } else {
        size_t *kept = calloc(s->plan->nstages + 1, sizeof *kept);
        for (size_t k = 0; kept && k < s->plan->nstages && rc == 0; k++) {
            size_t n;
            nnx_trial *t = nnx_plan_stage(s->plan, k, kept, &n);
            for (size_t i = 0; i < n && rc == 0; i++)
                if (!trial_checks(s, &t[i], dd))
                    rc = nnx_rt_fail(s->err, "trial %s (stage %zu) does not check; nothing was trained",
                                     t[i].name, k + 1);
            nnx_trials_free(t, n);
        }
        if (!kept)
            rc = nnx_rt_fail(s->err, "out of memory");
        free(kept);
    }
    nnx_diags_free(&local);
    return rc;
}

static int set_paths(search *s)
{
    nnx_search_result *res = s->res;
    const nnx_exp_search *x = &s->base->search;
    size_t n = res->kind == NNX_SEARCH_ENSEMBLE ? 1 : x->naxes;
    res->paths = calloc(n ? n : 1, sizeof *res->paths);
    if (!res->paths)
        return nnx_rt_fail(s->err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        res->paths[i] = strdup(res->kind == NNX_SEARCH_ENSEMBLE ? "seed" : x->axes[i].path);
        if (!res->paths[i])
            return nnx_rt_fail(s->err, "out of memory");
        res->nparams++;
    }
    return 0;
}

static int run_list(search *s)
{
    const nnx_plan *p = s->plan;
    for (size_t i = 0; i < p->ntrials; i++) {
        const nnx_trial *t = &p->trials[i];
        const char *dirname = p->kind == NNX_PLAN_ENSEMBLE && t->nov ? t->ov[0].value : t->name;
        char number[32];
        snprintf(number, sizeof number, "%zu", i + 1);
        bool later = i >= p->proposed_from;     /* tpe: proposed while the search runs */
        job *j = later ? srch_job_blank(-1, number) : srch_job_new(s, t, dirname, -1, number);
        if (j)
            j->unproposed = later;
        if (!j || !srch_add_job(s, j)) {
            srch_job_free(j);
            return nnx_rt_fail(s->err, "out of memory");
        }
    }
    s->res->planned = p->ntrials;
    if (p->kind == NNX_PLAN_ENSEMBLE)
        return srch_run_jobs(s, 0, s->njobs);
    switch (s->base->prune.kind) {
    case NNX_XPRUNE_HALVING: {
        int epochs[NNX_PLAN_MAX_RUNGS];
        size_t counts[NNX_PLAN_MAX_RUNGS];
        size_t nrungs = nnx_plan_rungs(s->base, s->njobs, epochs, counts);
        for (size_t i = 0; i < s->njobs; i++)
            s->jobs[i]->obs_epoch = epochs[0];
        return srch_run_halving(s, epochs, counts, nrungs);
    }
    case NNX_XPRUNE_MEDIAN: return srch_run_median(s);
    case NNX_XPRUNE_HYPERBAND: return srch_run_hyperband(s);
    case NNX_XPRUNE_NONE: break;
    }
    if (s->o->only && s->base->search.kind == NNX_XSEARCH_TPE)
        return srch_run_waves(s);
    return srch_run_jobs(s, 0, s->njobs);
}

static int search_run(nnx_checker *c, const char *name, const nnx_override *set, size_t nset,
                      const nnx_experiment *base, const nnx_search_opts *o,
                      nnx_search_result *res, nnx_diags *d, nnx_rt_error *err, bool rescan);

/* One of many processes sharing the directory (opts.only: one that trained
 * its trial, or nnx submit reading it) writes the board: under DIR/.board-lock (held exclusively, waited for) from every trial's
 * summary.json read afresh there.  Each process writes its trial's summary
 * before it takes the lock, so the last board written lists every trial
 * that has ended, however the processes' ends interleave; the files are
 * replaced whole (rename).  The result becomes the fresh reading, with what
 * this process did with its trial kept. */
static int board_locked(nnx_checker *c, const char *name, const nnx_override *set, size_t nset,
                        const nnx_experiment *base, const nnx_search_opts *o, nnx_search_result *res,
                        nnx_rt_error *err)
{
    char *path = nnx_path_join(o->dir, ".board-lock");
    if (!path)
        return nnx_rt_fail(err, "out of memory");
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    free(path);
    if (fd < 0)
        return nnx_rt_fail(err, "cannot lock %s/.board-lock: %s", o->dir, strerror(errno));
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    while (fcntl(fd, F_SETLKW, &fl) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == ENOLCK)
            break;      /* a network file system without record locks: written unlocked */
        int e = errno;
        close(fd);
        return nnx_rt_fail(err, "cannot lock %s/.board-lock: %s", o->dir, strerror(e));
    }
    nnx_search_opts o2 = *o;
    o2.only = "";
    o2.event = NULL;
    nnx_search_result fresh;
    int rc = search_run(c, name, set, nset, base, &o2, &fresh, NULL, err, true);
    close(fd);      /* drops the lock */
    if (rc < 0) {
        nnx_search_result_free(&fresh);
        return -1;
    }
    nnx_search_result mine = *res;
    *res = fresh;
    res->only = mine.only;
    res->only_name = mine.only_name;
    res->only_holder = mine.only_holder;
    res->ran = mine.ran;
    res->resumed = mine.resumed;        /* the others that had ended, as this process found them */
    memcpy(res->only_status, mine.only_status, sizeof res->only_status);
    res->interrupted = mine.interrupted;
    res->write_failed = res->write_failed || mine.write_failed;
    mine.only_name = mine.only_holder = NULL;
    nnx_search_result_free(&mine);
    return 0;
}

int nnx_search_run(nnx_checker *c, const char *name, const nnx_override *set, size_t nset,
                   const nnx_experiment *base, const nnx_search_opts *o,
                   nnx_search_result *res, nnx_diags *d, nnx_rt_error *err)
{
    return search_run(c, name, set, nset, base, o, res, d, err, false);
}

static int search_run(nnx_checker *c, const char *name, const nnx_override *set, size_t nset,
                      const nnx_experiment *base, const nnx_search_opts *o,
                      nnx_search_result *res, nnx_diags *d, nnx_rt_error *err, bool rescan)
{
    memset(res, 0, sizeof *res);
    res->winner = -1;
    if (!o->dir || (!o->run && !(o->only && !o->only[0])))
        return nnx_rt_fail(err, "a search needs a directory and a trial runner");
    char *perr = NULL;
    bool shared = o->only && !o->look && !rescan;   /* many processes: the board under .board-lock */
    search s = { .c = c, .name = name, .set = set, .nset = nset, .base = base, .o = o, .res = res,
                 .lock_fd = -1, .err = err, .defer = shared, .rescan = rescan };
    s.plan = nnx_plan_make(base, &perr);
    if (!s.plan) {
        nnx_rt_fail(err, "%s: %s", base->name, perr ? perr : "out of memory");
        free(perr);
        return -1;
    }
    res->kind = s.plan->kind == NNX_PLAN_GRID ? NNX_SEARCH_GRID
              : s.plan->kind == NNX_PLAN_RANDOM ? NNX_SEARCH_RANDOM
              : s.plan->kind == NNX_PLAN_STAGED ? NNX_SEARCH_STAGED : NNX_SEARCH_ENSEMBLE;
    res->dir = strdup(o->dir);
    nnx_exp_metric_ref_str(base, base->select, res->select, sizeof res->select);
    res->select_max = base->select.maximize;
    int jobs = o->fork && o->jobs > 1 ? o->jobs : 1;
    s.threads = (o->threads < 1 ? 1 : o->threads) / jobs;
    if (s.threads < 1)
        s.threads = 1;
    int rc = 0;
    if (s.plan->kind == NNX_PLAN_SINGLE)
        rc = nnx_rt_fail(err, "experiment '%s' has no search and no ensemble", base->name);
    if (rc == 0 && !res->dir)
        rc = nnx_rt_fail(err, "out of memory");
    if (rc == 0)
        rc = check_all(&s, d);
    if (rc == 0)
        rc = set_paths(&s);
    if (rc == 0)
        rc = srch_open_dir(&s);
    if (rc == 0 && o->only && o->only[0] && res->kind == NNX_SEARCH_STAGED &&
        strspn(o->only, "0123456789") == strlen(o->only))
        rc = nnx_rt_fail(err, "trial %s: a staged search numbers its trials STAGE.NUMBER, e.g. 1.%s "
                         "(nnx plan lists the stages)", o->only, o->only);
    if (rc == 0)
        rc = res->kind == NNX_SEARCH_STAGED ? srch_run_staged(&s) : run_list(&s);
    if (rc == 0 && o->only && o->only[0] && !res->only_name) {
        if (res->kind == NNX_SEARCH_STAGED && res->open_stage < res->nstages)
            rc = nnx_rt_fail(err, "no trial '%s' among the stages so far: stage %zu has trials that have not ended, "
                             "and a later stage's trials depend on its winner", o->only, res->open_stage + 1);
        else if (res->nsteps && res->open_step < res->nsteps && strspn(o->only, "0123456789") == strlen(o->only) &&
                 strtoul(o->only, NULL, 10) >= 1 && strtoul(o->only, NULL, 10) <= res->planned)
            rc = nnx_rt_fail(err, "trial %s is not in step %zu of %zu, the first whose trials have not all ended: "
                             "a later step's trials are proposed (tpe) or go on (prune) once it has ended "
                             "(nnx submit --dry-run shows the open step)", o->only, res->open_step + 1, res->nsteps);
        else
            rc = nnx_rt_fail(err, "no trial '%s' in %s (nnx plan lists the trials by number and name)", o->only,
                             base->name);
    }
    if (rc == 0)
        rc = srch_write_board(&s, true);
    if (rc == 0 && o->report && !shared)
        rc = srch_write_report(&s);
    if (rc == 0)
        rc = srch_take_rows(&s);
    for (size_t i = 0; i < s.njobs; i++)
        srch_job_free(s.jobs[i]);
    free(s.jobs);
    free(s.root);
    if (rc == 0 && shared)
        rc = board_locked(c, name, set, nset, base, o, res, err);
    if (s.lock_fd >= 0)
        close(s.lock_fd);   /* drops the lock */
    nnx_plan_free(s.plan);
    return rc;
}

void nnx_search_result_free(nnx_search_result *res)
{
    free(res->dir);
    for (size_t i = 0; i < res->nparams; i++)
        free(res->paths[i]);
    free(res->paths);
    for (size_t i = 0; i < res->nrows; i++)
        nnx_search_row_free(&res->rows[i]);
    free(res->rows);
    for (size_t i = 0; i < res->nstages; i++) {
        nnx_search_stage *st = &res->stages[i];
        free(st->path);
        for (size_t j = 0; j < st->ntrials; j++) {
            free(st->names[j]);
            free(st->values[j]);
        }
        free(st->names);
        free(st->values);
        free(st->kept);
        free(st->winner);
    }
    free(res->stages);
    free(res->message);
    free(res->report);
    for (size_t i = 0; i < res->nwarnings; i++)
        free(res->warnings[i]);
    free(res->warnings);
    srch_ensemble_stats_free(&res->ens);
    free(res->only_name);
    free(res->only_holder);
    for (size_t i = 0; i < res->npending; i++) {
        free(res->pending[i].name);
        free(res->pending[i].number);
        free(res->pending[i].state);
        free(res->pending[i].holder);
    }
    free(res->pending);
    memset(res, 0, sizeof *res);
    res->winner = -1;
}
