/* row.c — a trial's leaderboard row, read back from the summary.json of its run directory; ranking. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/select.h"
#include "nnx/util/json.h"
#include "nnx/rundir.h"
#include "search/search_int.h"

bool srch_status_final(const char *status)
{
    return !strcmp(status, "completed") || !strcmp(status, "stopped") || !strcmp(status, "diverged") ||
           !strcmp(status, "failed") || !strcmp(status, "pruned");
}

int srch_row_group(const nnx_search_row *r)
{
    if (!srch_status_final(r->status) || r->retry || !isfinite(r->value))
        return 2;
    return strcmp(r->status, "pruned") ? 0 : 1;
}

void nnx_search_row_free(nnx_search_row *row)
{
    if (!row)
        return;
    free(row->name);
    free(row->message);
    for (size_t i = 0; i < row->nmetrics; i++)
        free(row->metric_names[i]);
    free(row->metric_names);
    free(row->metric_values);
    for (size_t i = 0; i < row->nvalues; i++)
        free(row->values[i]);
    free(row->values);
    memset(row, 0, sizeof *row);
    row->value = NAN;
}

int nnx_search_row_read(const char *dir, nnx_search_row *row, nnx_rt_error *err)
{
    return srch_row_read(dir, row, NULL, err);
}

int srch_row_read(const char *dir, nnx_search_row *row, int *reached, nnx_rt_error *err)
{
    if (reached)
        *reached = -1;
    char *path = nnx_path_join(dir, "summary.json");
    if (!path)
        return nnx_rt_fail(err, "out of memory");
    if (!srch_exists(path)) {
        free(path);
        return 0;
    }
    size_t len = 0;
    char *text = nnx_file_read(path, 0, &len, err);
    if (!text) {
        free(path);
        return -1;
    }
    nnx_json_error je;
    nnx_json *j = nnx_json_parse(text, len, &je);
    free(text);
    if (!j) {
        nnx_rt_fail(err, "%s:%d:%d: %s", path, je.line, je.col, je.msg);
        free(path);
        return -1;
    }
    free(path);
    const char *status = nnx_json_as_string(nnx_json_get(j, "status"), "");
    double er = nnx_json_as_number(nnx_json_get(j, "epochs_run"));
    int ran = isfinite(er) && er >= 0 ? (int)er : 0;
    if (reached && (!strcmp(status, "running") || !strcmp(status, "interrupted")))
        *reached = ran;
    if (!srch_status_final(status) && strcmp(status, "interrupted") != 0) {
        nnx_json_free(j);
        return 0;
    }
    snprintf(row->status, sizeof row->status, "%s", status);
    const nnx_json *retry = nnx_json_get(j, "retry");
    row->retry = retry && retry->type == NNX_JSON_BOOL && retry->boolean;
    row->message = strdup(nnx_json_as_string(nnx_json_get(j, "status_message"), ""));
    const nnx_json *sel = nnx_json_get(j, "select");
    double ep = nnx_json_as_number(nnx_json_get(sel, "epoch"));
    row->epoch = isfinite(ep) ? (int)ep : 0;
    row->value = row->epoch > 0 ? nnx_json_as_number(nnx_json_get(sel, "value")) : NAN;
    row->epochs_run = ran;
    row->seconds = nnx_json_as_number(nnx_json_get(nnx_json_get(j, "timing"), "total_seconds"));
    const nnx_json *m = nnx_json_get(j, "metrics");
    bool ok = row->message != NULL;
    if (ok && m && m->type == NNX_JSON_OBJECT && m->n) {
        row->metric_names = calloc(m->n, sizeof *row->metric_names);
        row->metric_values = calloc(m->n, sizeof *row->metric_values);
        ok = row->metric_names && row->metric_values;
        for (size_t i = 0; ok && i < m->n; i++) {
            row->metric_names[i] = strdup(m->keys[i]);
            row->metric_values[i] = nnx_json_as_number(&m->items[i]);
            ok = row->metric_names[i] != NULL;
            row->nmetrics += ok;
        }
    }
    nnx_json_free(j);
    if (!ok)
        return nnx_rt_fail(err, "out of memory");
    return srch_status_final(row->status) && !row->retry ? 1 : 0;
}

int nnx_search_write_status(const char *dir, const char *experiment, const char *status,
                            const char *message, bool retry, nnx_rt_error *err)
{
    nnx_json_writer w;
    nnx_json_writer_to_buffer(&w, 2);
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "experiment", experiment);
    nnx_json_key_string(&w, "status", status);
    nnx_json_key_string(&w, "status_message", message ? message : "");
    if (retry)
        nnx_json_key_bool(&w, "retry", true);
    nnx_json_key_int(&w, "epochs_run", 0);
    nnx_json_key(&w, "metrics");
    nnx_json_begin_object(&w);
    nnx_json_end_object(&w);
    nnx_json_end_object(&w);
    char *path = nnx_path_join(dir, "summary.json");
    int rc = path ? nnx_json_writer_save(&w, path, NNX_FILE_UNIQUE, err) : nnx_rt_fail(err, "out of memory");
    nnx_json_writer_free(&w);
    free(path);
    return rc;
}

double srch_row_valid_loss(const nnx_search_row *r)
{
    for (size_t i = 0; i < r->nmetrics; i++)
        if (!strcmp(r->metric_names[i], "valid.loss"))
            return r->metric_values[i];
    return NAN;
}

int srch_row_compare(const nnx_search_row *a, const nnx_search_row *b, bool maximize)
{
    int ga = srch_row_group(a), gb = srch_row_group(b);
    if (ga != gb)
        return ga - gb;
    if (ga < 2) {
        int cmp = nnx_select_compare(a->value, b->value, maximize);
        if (cmp)
            return -cmp;
        /* a tie to the printed precision: the lower valid loss ranks first */
        double la = srch_row_valid_loss(a), lb = srch_row_valid_loss(b);
        if (la < lb || (isfinite(la) && isnan(lb)))
            return -1;
        if (lb < la || (isfinite(lb) && isnan(la)))
            return 1;
    }
    return a->index < b->index ? -1 : a->index > b->index;
}

/* qsort has no context argument: sort (row, direction) pairs. */
typedef struct ranked {
    nnx_search_row row;
    bool maximize;
} ranked;

static int compare_rows(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    return srch_row_compare(&a->row, &b->row, a->maximize);
}

void nnx_search_rank(nnx_search_row *rows, size_t n, bool maximize)
{
    if (n < 2)
        return;
    ranked *r = malloc(n * sizeof *r);
    if (!r) {
        /* no memory for the copy: a stable insertion sort in place */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0; j--) {
                ranked x = { rows[j - 1], maximize }, y = { rows[j], maximize };
                if (compare_rows(&x, &y) <= 0)
                    break;
                rows[j - 1] = y.row;
                rows[j] = x.row;
            }
        return;
    }
    for (size_t i = 0; i < n; i++)
        r[i] = (ranked){ rows[i], maximize };
    qsort(r, n, sizeof *r, compare_rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = r[i].row;
    free(r);
}
