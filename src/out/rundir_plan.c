/* rundir_plan.c — the files of a search or ensemble directory: trials.csv and summary.json. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/json.h"
#include "nnx/plan.h"
#include "out/rundir_write.h"

void nnx_csv_put_cell(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int nnx_trials_log_open(nnx_trials_log *l, const char *path, const char *const *params,
                        size_t nparams, const char *select, const char *const *test,
                        size_t ntest, nnx_rt_error *err)
{
    memset(l, 0, sizeof *l);
    l->params = calloc(nparams ? nparams : 1, sizeof *l->params);
    if (!l->params)
        return nnx_rt_fail(err, "out of memory");
    for (size_t i = 0; i < nparams; i++) {
        l->params[i] = malloc(strlen(params[i]) + 1);
        if (!l->params[i]) {
            nnx_trials_log_close(l);
            return nnx_rt_fail(err, "out of memory");
        }
        strcpy(l->params[i], params[i]);
        l->nparams++;
    }
    l->ntest = ntest;
    l->file = fopen(path, "w");
    if (!l->file) {
        int e = errno;
        nnx_trials_log_close(l);
        return nnx_rt_fail(err, "%s: cannot write: %s", path, strerror(e));
    }
    fputs("trial", l->file);
    for (size_t i = 0; i < nparams; i++) {
        fputc(',', l->file);
        nnx_csv_put_cell(l->file, params[i]);
    }
    fprintf(l->file, ",status,epoch,%s", select);
    for (size_t i = 0; i < ntest; i++)
        fprintf(l->file, ",%s", test[i]);
    fputs(",seconds\n", l->file);
    return fflush(l->file) == 0 ? 0 : nnx_rt_fail(err, "%s: write failed", path);
}

static void put_opt_number(FILE *f, double v)
{
    fputc(',', f);
    if (!isnan(v))
        nnx_csv_put_number(f, v);
}

int nnx_trials_log_row(nnx_trials_log *l, const nnx_run_trial_row *row, nnx_rt_error *err)
{
    if (!l->file)
        return nnx_rt_fail(err, "trials.csv is not open");
    nnx_csv_put_cell(l->file, row->name);
    for (size_t i = 0; i < l->nparams; i++) {
        fputc(',', l->file);
        for (size_t j = 0; j < row->nparams; j++)
            if (!strcmp(row->params[j].path, l->params[i])) {
                nnx_csv_put_cell(l->file, row->params[j].value);
                break;
            }
    }
    fprintf(l->file, ",%s,", nnx_run_status_name(row->status));
    if (row->select_epoch > 0)
        fprintf(l->file, "%d", row->select_epoch);
    put_opt_number(l->file, row->select_value);
    for (size_t i = 0; i < l->ntest; i++)
        put_opt_number(l->file, row->test[i]);
    put_opt_number(l->file, row->seconds);
    fputc('\n', l->file);
    return fflush(l->file) == 0 ? 0 : nnx_rt_fail(err, "trials.csv: write failed");
}

void nnx_trials_log_close(nnx_trials_log *l)
{
    if (l->file)
        fclose(l->file);
    for (size_t i = 0; i < l->nparams; i++)
        free(l->params[i]);
    free(l->params);
    memset(l, 0, sizeof *l);
}

/* A parameter's text as a JSON number when it is one, else a string. */
static void put_value(nnx_json_writer *w, const char *text)
{
    char *end;
    double v = strtod(text, &end);
    if (end != text && *end == '\0' && isfinite(v))
        nnx_json_number(w, v);
    else
        nnx_json_string(w, text);
}

static const char *param_of(const nnx_run_trial_row *row, const char *path)
{
    for (size_t j = 0; j < row->nparams; j++)
        if (!strcmp(row->params[j].path, path))
            return row->params[j].value;
    return NULL;
}

static bool usable(const nnx_run_trial_row *r)
{
    return (r->status == NNX_RUN_COMPLETED || r->status == NNX_RUN_STOPPED) &&
           !isnan(r->select_value);
}

static void put_stages(nnx_json_writer *w, const nnx_plan_summary *info,
                       const nnx_run_plan_result *r)
{
    nnx_json_key(w, "stages");
    nnx_json_begin_array(w);
    for (size_t k = 0; k < info->plan->nstages; k++) {
        const char *path = info->plan->stages[k].path;
        const nnx_run_trial_row *best = NULL;
        bool any = false;
        for (size_t i = 0; i < r->ntrials; i++) {
            const nnx_run_trial_row *t = &r->trials[i];
            if (t->stage != (int)k + 1)
                continue;
            any = true;
            if (usable(t) && (!best || (info->select_max ? t->select_value > best->select_value
                                                         : t->select_value < best->select_value)))
                best = t;
        }
        if (!any)
            break;
        nnx_json_begin_object(w);
        nnx_json_key_string(w, "param", path);
        nnx_json_key(w, "best");
        const char *v = best ? param_of(best, path) : NULL;
        if (v)
            put_value(w, v);
        else
            nnx_json_null(w);
        nnx_json_key(w, "trials");
        nnx_json_begin_array(w);
        for (size_t i = 0; i < r->ntrials; i++)
            if (r->trials[i].stage == (int)k + 1)
                nnx_json_string(w, r->trials[i].name);
        nnx_json_end_array(w);
        nnx_json_end_object(w);
    }
    nnx_json_end_array(w);
}

static void put_test_metrics(nnx_json_writer *w, const nnx_run_plan_result *r, const double *v)
{
    nnx_json_key(w, "metrics");
    nnx_json_begin_object(w);
    for (size_t i = 0; v && i < r->ntest; i++)
        nnx_json_key_number(w, r->test_names[i], v[i]);
    nnx_json_end_object(w);
}

int nnx_plan_summary_write(const char *dir, const nnx_plan_summary *info,
                           const nnx_run_plan_result *r, nnx_rt_error *err)
{
    nnx_json_writer w;
    nnx_json_writer_to_buffer(&w, 2);
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "kind", info->ensemble ? "ensemble" : "search");
    nnx_json_key_string(&w, "nnx_version", "0.1.0");
    nnx_json_key_string(&w, "experiment", info->experiment);
    nnx_json_key_string(&w, "status", nnx_run_status_name(r->status));
    nnx_json_key_string(&w, "status_message", r->message ? r->message : "");
    if (!info->ensemble)
        nnx_json_key_string(&w, "search", info->search);
    nnx_json_key(&w, "select");
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "metric", info->select);
    nnx_json_key_string(&w, "mode", info->select_max ? "max" : "min");
    nnx_json_end_object(&w);
    if (info->ensemble) {
        nnx_json_key(&w, "seeds");
        nnx_json_begin_array(&w);
        for (size_t i = 0; i < r->ntrials; i++)
            put_value(&w, r->trials[i].name);
        nnx_json_end_array(&w);
        nnx_json_key(&w, "members");
        nnx_json_begin_array(&w);
        for (size_t i = 0; i < r->ntrials; i++) {
            const nnx_run_trial_row *t = &r->trials[i];
            nnx_json_begin_object(&w);
            nnx_json_key(&w, "seed");
            put_value(&w, t->name);
            nnx_json_key_string(&w, "status", nnx_run_status_name(t->status));
            nnx_json_key_number(&w, "epoch", t->select_epoch > 0 ? t->select_epoch : NAN);
            nnx_json_key_number(&w, "select_value", t->select_value);
            put_test_metrics(&w, r, t->test);
            nnx_json_end_object(&w);
        }
        nnx_json_end_array(&w);
        nnx_json_key(&w, "ensemble");
        nnx_json_begin_object(&w);
        put_test_metrics(&w, r, r->ensemble_test);
        nnx_json_end_object(&w);
    } else {
        if (r->winner >= 0)
            nnx_json_key_string(&w, "winner", r->trials[r->winner].name);
        else
            (nnx_json_key(&w, "winner"), nnx_json_null(&w));
        if (info->plan && info->plan->kind == NNX_PLAN_STAGED)
            put_stages(&w, info, r);
    }
    nnx_json_end_object(&w);
    if (nnx_json_writer_finish(&w, err) < 0) {
        nnx_json_writer_free(&w);
        return -1;
    }
    char *text = nnx_json_writer_take(&w);
    char *path = nnx_path_join(dir, "summary.json");
    int rc = text && path ? nnx_write_atomic(path, text, strlen(text), err)
                          : nnx_rt_fail(err, "out of memory");
    free(text);
    free(path);
    return rc;
}
