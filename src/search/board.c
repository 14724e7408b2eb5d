/* board.c — the leaderboard files of a search (trials.csv, summary.json) and an ensemble's summary.json. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/select.h"
#include "nnx/util/json.h"
#include "nnx/provenance.h"
#include "nnx/util/buf.h"
#include "search/search_int.h"

/* One CSV cell, quoted when it holds a comma, a quote or a line break. */
static void put_cell(nnx_buf *t, const char *s, bool first)
{
    if (!first)
        nnx_buf_put(t, ",", 1);
    nnx_buf_put_csv_cell(t, s);
}

static void put_number(nnx_buf *t, double v)
{
    if (isnan(v))
        return;     /* an empty cell */
    nnx_buf_printf(t, "%.9g", v);
}

static double row_metric(const nnx_search_row *r, const char *name)
{
    for (size_t i = 0; i < r->nmetrics; i++)
        if (!strcmp(r->metric_names[i], name))
            return r->metric_values[i];
    return NAN;
}

/* The test.* columns: every name the rows have, in ranked order of first sight. */
static size_t test_columns(const srch_board *b, const char **cols, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nrows; i++)
        for (size_t m = 0; m < b->rows[i]->nmetrics; m++) {
            const char *name = b->rows[i]->metric_names[m];
            if (strncmp(name, "test.", 5) != 0)
                continue;
            bool seen = false;
            for (size_t c = 0; c < n && !seen; c++)
                seen = !strcmp(cols[c], name);
            if (!seen && n < cap)
                cols[n++] = name;
        }
    return n;
}

static int write_trials_csv(const srch_board *b, nnx_rt_error *err)
{
    enum { MAX_TEST = 64 };
    const char *tests[MAX_TEST];
    size_t ntest = test_columns(b, tests, MAX_TEST);
    nnx_buf t = { 0 };
    put_cell(&t, "trial", true);
    for (size_t p = 0; p < b->nparams; p++)
        put_cell(&t, b->paths[p], false);
    put_cell(&t, "status", false);
    put_cell(&t, "epoch", false);
    bool pruned = b->prune && b->prune->kind != NNX_XPRUNE_NONE;
    if (pruned)
        put_cell(&t, "epochs_run", false);
    put_cell(&t, b->select, false);
    for (size_t c = 0; c < ntest; c++)
        if (strcmp(tests[c], b->select) != 0)
            put_cell(&t, tests[c], false);
    put_cell(&t, "seconds", false);
    nnx_buf_put(&t, "\n", 1);
    for (size_t i = 0; i < b->nrows; i++) {
        const nnx_search_row *r = b->rows[i];
        put_cell(&t, r->name, true);
        for (size_t p = 0; p < b->nparams; p++)
            put_cell(&t, p < r->nvalues ? r->values[p] : "", false);
        put_cell(&t, r->status, false);
        nnx_buf_put(&t, ",", 1);
        if (r->epoch > 0)
            nnx_buf_printf(&t, "%d", r->epoch);
        if (pruned)
            nnx_buf_printf(&t, ",%d", r->epochs_run);
        nnx_buf_put(&t, ",", 1);
        put_number(&t, r->value);
        for (size_t c = 0; c < ntest; c++)
            if (strcmp(tests[c], b->select) != 0) {
                nnx_buf_put(&t, ",", 1);
                put_number(&t, row_metric(r, tests[c]));
            }
        nnx_buf_put(&t, ",", 1);
        if (isfinite(r->seconds))
            nnx_buf_printf(&t, "%.2f", r->seconds);
        nnx_buf_put(&t, "\n", 1);
    }
    char *path = nnx_path_join(b->dir, "trials.csv");
    int rc = t.oom || !path ? nnx_rt_fail(err, "out of memory") : nnx_file_write(path, t.s, t.len, NNX_FILE_UNIQUE, err);
    free(path);
    free(t.s);
    return rc;
}

/* A parameter value as JSON: a number when the text is one, else the text. */
static void json_value(nnx_json_writer *w, const char *v)
{
    char *end;
    double x = strtod(v, &end);
    if (*v && !*end && isfinite(x))
        nnx_json_number(w, x);
    else
        nnx_json_string(w, v);
}

static void json_metrics(nnx_json_writer *w, const char *key, const nnx_search_row *r)
{
    nnx_json_key(w, key);
    nnx_json_begin_object(w);
    for (size_t m = 0; m < r->nmetrics; m++)
        nnx_json_key_number(w, r->metric_names[m], r->metric_values[m]);
    nnx_json_end_object(w);
}

static void json_select(nnx_json_writer *w, const srch_board *b)
{
    nnx_json_key(w, "select");
    nnx_json_begin_object(w);
    nnx_json_key_string(w, "metric", b->select);
    nnx_json_key_string(w, "mode", b->select_max ? "max" : "min");
    nnx_json_end_object(w);
}

static void json_search(nnx_json_writer *w, const srch_board *b)
{
    nnx_json_key_string(w, "kind", "search");
    nnx_json_key_string(w, "nnx_version", b->version);
    nnx_json_key_string(w, "experiment", b->experiment);
    nnx_json_key_string(w, "search", b->search_kind);
    json_select(w, b);
    nnx_json_key_int(w, "trials_planned", (long long)b->planned);
    nnx_json_key_int(w, "trials_done", (long long)b->nrows);
    long long trained = 0;
    for (size_t i = 0; i < b->nrows; i++)
        trained += b->rows[i]->epochs_run;
    nnx_json_key_int(w, "epochs_trained", trained);
    if (b->prune && b->prune->kind != NNX_XPRUNE_NONE) {
        const nnx_exp_prune *p = b->prune;
        nnx_json_key(w, "prune");
        nnx_json_begin_object(w);
        nnx_json_key_string(w, "rule", p->kind == NNX_XPRUNE_HALVING ? "halving"
                                       : p->kind == NNX_XPRUNE_MEDIAN ? "median" : "hyperband");
        if (p->kind == NNX_XPRUNE_MEDIAN)
            nnx_json_key_int(w, "after", p->after);
        else {
            nnx_json_key_int(w, "min_epochs", p->min_epochs);
            nnx_json_key_int(w, "eta", p->eta);
        }
        nnx_json_key_int(w, "epochs_unpruned", (long long)b->planned * b->epochs);
        nnx_json_key(w, "rung_epochs");
        nnx_json_begin_array(w);
        for (size_t k = 0; k < b->nrungs; k++)
            nnx_json_int(w, b->rung_epochs[k]);
        nnx_json_end_array(w);
        nnx_json_end_object(w);
    }
    if (b->tpe) {
        nnx_json_key(w, "tpe");
        nnx_json_begin_object(w);
        nnx_json_key_int(w, "startup", b->tpe->startup);
        nnx_json_key_int(w, "lag", b->tpe->lag);
        nnx_json_key_int(w, "seed", (long long)b->tpe->seed);
        nnx_json_end_object(w);
    }
    const nnx_search_row *win = b->nrows && srch_row_group(b->rows[0]) == 0 ? b->rows[0] : NULL;
    nnx_json_key_string(w, "winner", win ? win->name : NULL);
    nnx_json_key(w, "winner_params");
    nnx_json_begin_object(w);
    for (size_t p = 0; win && p < b->nparams && p < win->nvalues; p++)
        if (win->values[p][0]) {
            nnx_json_key(w, b->paths[p]);
            json_value(w, win->values[p]);
        }
    nnx_json_end_object(w);
    nnx_json_key_number(w, "winner_value", win ? win->value : NAN);
    size_t ties = 0;
    for (size_t r = 0; win && r < b->nrows; r++)
        ties += srch_row_group(b->rows[r]) == 0 && nnx_select_ties(b->rows[r]->value, win->value);
    if (ties > 1) {
        nnx_json_key_int(w, "winner_ties", (long long)ties);
        nnx_json_key_string(w, "tie_break", "lowest valid.loss");
    }
    if (b->kind == NNX_SEARCH_STAGED) {
        nnx_json_key(w, "stages");
        nnx_json_begin_array(w);
        for (size_t s = 0; s < b->nstages; s++) {
            const nnx_search_stage *st = &b->stages[s];
            nnx_json_begin_object(w);
            nnx_json_key_string(w, "param", st->path);
            nnx_json_key(w, "values");
            nnx_json_begin_array(w);
            for (size_t i = 0; i < st->ntrials; i++)
                json_value(w, st->values[i]);
            nnx_json_end_array(w);
            nnx_json_key(w, "best");
            if (st->kept)
                json_value(w, st->kept);
            else
                nnx_json_null(w);
            nnx_json_key_string(w, "winner", st->winner);
            nnx_json_key(w, "trials");
            nnx_json_begin_array(w);
            for (size_t i = 0; i < st->ntrials; i++)
                nnx_json_string(w, st->names[i]);
            nnx_json_end_array(w);
            nnx_json_end_object(w);
        }
        nnx_json_end_array(w);
    }
    if (b->message)
        nnx_json_key_string(w, "message", b->message);
}

static void json_ensemble(nnx_json_writer *w, const srch_board *b)
{
    nnx_json_key_string(w, "kind", "ensemble");
    nnx_json_key_string(w, "nnx_version", b->version);
    nnx_json_key_string(w, "experiment", b->experiment);
    json_select(w, b);
    nnx_json_key(w, "seeds");
    nnx_json_begin_array(w);
    for (size_t i = 0; i < b->nrows; i++)
        json_value(w, b->rows[i]->name);
    nnx_json_end_array(w);
    nnx_json_key(w, "members");
    nnx_json_begin_array(w);
    for (size_t i = 0; i < b->nrows; i++) {
        const nnx_search_row *r = b->rows[i];
        nnx_json_begin_object(w);
        nnx_json_key(w, "seed");
        json_value(w, r->name);
        nnx_json_key_string(w, "status", r->status);
        nnx_json_key_int(w, "epoch", r->epoch);
        json_metrics(w, "metrics", r);
        nnx_json_end_object(w);
    }
    nnx_json_end_array(w);
    const nnx_ensemble_stats *e = b->ens;
    const char *keys[3] = { "mean", "std", "ensemble" };
    for (int k = 0; k < 3; k++) {
        nnx_json_key(w, keys[k]);
        nnx_json_begin_object(w);
        if (k == 2) {
            nnx_json_key(w, "metrics");
            nnx_json_begin_object(w);
        }
        for (size_t i = 0; e && i < e->n; i++) {
            const double *v = k == 0 ? e->mean : k == 1 ? e->std : e->ensemble;
            if (k < 2 || !isnan(v[i]))
                nnx_json_key_number(w, e->names[i], v[i]);
        }
        if (k == 2)
            nnx_json_end_object(w);
        nnx_json_end_object(w);
    }
    if (b->message)
        nnx_json_key_string(w, "message", b->message);
}

int srch_board_write(const srch_board *b, nnx_rt_error *err)
{
    if (b->kind != NNX_SEARCH_ENSEMBLE && write_trials_csv(b, err) < 0)
        return -1;
    nnx_json_writer w;
    nnx_json_writer_to_buffer(&w, 2);
    nnx_json_begin_object(&w);
    if (b->kind == NNX_SEARCH_ENSEMBLE)
        json_ensemble(&w, b);
    else
        json_search(&w, b);
    nnx_provenance_write_json(b->provenance, &w);
    nnx_json_key(&w, "warnings");
    nnx_json_begin_array(&w);
    for (size_t i = 0; i < b->nwarnings; i++)
        nnx_json_string(&w, b->warnings[i]);
    nnx_json_end_array(&w);
    nnx_json_end_object(&w);
    char *path = nnx_path_join(b->dir, "summary.json");
    int rc = path ? nnx_json_writer_save(&w, path, NNX_FILE_UNIQUE, err) : nnx_rt_fail(err, "out of memory");
    nnx_json_writer_free(&w);
    free(path);
    return rc;
}
