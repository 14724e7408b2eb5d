/* jobs.c — the trials a search asks for: each one's name, values, checked experiment and row. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "search/work.h"

void srch_job_free(job *j)
{
    if (!j)
        return;
    free(j->name);
    free(j->number);
    free(j->dir);
    for (size_t i = 0; i < j->nov; i++) {
        free(j->ov[i].path);
        free(j->ov[i].value);
    }
    free(j->ov);
    nnx_experiment_free(j->e);
    free(j->why);
    if (j->said >= 0)
        close(j->said);
    nnx_search_row_free(&j->row);
    free(j);
}

/* The first error of a failed check, as one line. */
static char *first_error(const nnx_diags *d)
{
    for (const nnx_diag *g = d->head; g; g = g->next)
        if (g->level == NNX_ERROR) {
            char buf[600];
            snprintf(buf, sizeof buf, "%s%s%s", g->msg, g->help ? " — " : "", g->help ? g->help : "");
            return strdup(buf);
        }
    return strdup("the trial's settings do not check");
}

/* An empty job: no trial yet (a tpe trial waiting for its proposal). */
job *srch_job_blank(int stage, const char *number)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->row.value = NAN;
    j->said = -1;
    j->stage = stage;
    j->number = strdup(number);
    if (!j->number) {
        free(j);
        return NULL;
    }
    return j;
}

/* Give job j trial `t` (its name, values), checked on top of the --set
 * flags.  False when out of memory. */
bool srch_job_fill(search *s, job *j, const nnx_trial *t, const char *dirname)
{
    j->name = strdup(dirname);
    j->dir = nnx_path_join(s->root, dirname);
    j->ov = calloc(t->nov ? t->nov : 1, sizeof *j->ov);
    nnx_override *all = calloc(s->nset + t->nov + 1, sizeof *all);
    bool ok = j->name && j->dir && j->ov && all;
    for (size_t i = 0; ok && i < t->nov; i++) {
        char *p = strdup(t->ov[i].path), *v = strdup(t->ov[i].value);
        j->ov[i].path = p;
        j->ov[i].value = v;
        j->nov++;
        ok = p && v;
    }
    if (!ok) {
        free(all);
        return false;
    }
    for (size_t i = 0; i < s->nset; i++)
        all[i] = s->set[i];
    for (size_t i = 0; i < j->nov; i++)
        all[s->nset + i] = (nnx_override){ j->ov[i].path, j->ov[i].value };
    nnx_diags d = { 0 };
    j->e = nnx_check_experiment(s->c, s->name, all, s->nset + j->nov, &d);
    if (!j->e)
        j->why = first_error(&d);
    nnx_diags_free(&d);
    free(all);
    return j->e || j->why;
}

/* A new job for trial `t` (its name, values) checked on top of the --set flags. */
job *srch_job_new(search *s, const nnx_trial *t, const char *dirname, int stage, const char *number)
{
    job *j = srch_job_blank(stage, number);
    if (j && !srch_job_fill(s, j, t, dirname)) {
        srch_job_free(j);
        return NULL;
    }
    return j;
}

bool srch_add_job(search *s, job *j)
{
    if (s->njobs == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        job **p = realloc(s->jobs, cap * sizeof *p);
        if (!p)
            return false;
        s->jobs = p;
        s->cap = cap;
    }
    j->index = s->njobs;
    s->jobs[s->njobs++] = j;
    return true;
}

/* Fill the row's identity (name, index, stage, parameter values) from its job. */
int srch_row_identity(search *s, job *j)
{
    nnx_search_row *r = &j->row;
    r->index = j->index;
    r->stage = j->stage;
    r->name = strdup(j->name);
    r->values = calloc(s->res->nparams ? s->res->nparams : 1, sizeof *r->values);
    if (!r->name || !r->values)
        return nnx_rt_fail(s->err, "out of memory");
    for (size_t p = 0; p < s->res->nparams; p++) {
        const char *v = "";
        for (size_t i = 0; i < j->nov; i++)
            if (!strcmp(j->ov[i].path, s->res->paths[p]))
                v = j->ov[i].value;
        r->values[p] = strdup(v);
        if (!r->values[p])
            return nnx_rt_fail(s->err, "out of memory");
        r->nvalues++;
    }
    if (!r->message && !(r->message = strdup("")))
        return nnx_rt_fail(s->err, "out of memory");
    return 0;
}

/* A name not used by any job yet: `name`, or name_2, name_3, ... */
char *srch_fresh_name(const search *s, const char *name)
{
    char buf[300];
    snprintf(buf, sizeof buf, "%s", name);
    for (int k = 2;; k++) {
        bool used = false;
        for (size_t i = 0; i < s->njobs && !used; i++)
            used = s->jobs[i]->name && !strcmp(s->jobs[i]->name, buf);
        if (!used)
            return strdup(buf);
        snprintf(buf, sizeof buf, "%s_%d", name, k);
    }
}
