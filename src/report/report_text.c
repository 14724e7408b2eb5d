/* report_text.c — a run, search or ensemble as plain-text tables with a unicode sparkline per curve. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/report.h"
#include "report/report_model.h"

/* The mean of the finite values of bucket c (of cols) of v, or NaN. */
static double bucket_mean(const double *v, size_t n, size_t cols, size_t c)
{
    size_t a = c * n / cols, b = (c + 1) * n / cols, k = 0;
    double s = 0;
    for (size_t i = a; i < b; i++)
        if (isfinite(v[i])) {
            s += v[i];
            k++;
        }
    return k ? s / (double)k : NAN;
}

char *nnx_sparkline(const double *v, size_t n, size_t width, char *buf, size_t size)
{
    size_t cols = n < width ? n : width, len = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t c = 0; c < cols; c++) {
        double m = bucket_mean(v, n, cols, c);
        if (isfinite(m)) {
            lo = fmin(lo, m);
            hi = fmax(hi, m);
        }
    }
    for (size_t c = 0; c < cols && len + 4 <= size; c++) {
        double m = bucket_mean(v, n, cols, c);
        if (!isfinite(m)) {
            buf[len++] = ' ';
            continue;
        }
        double t = hi > lo ? (m - lo) / (hi - lo) : 0.5;
        int level = (int)lround(t * 7);
        level = level < 0 ? 0 : level > 7 ? 7 : level;
        buf[len++] = (char)0xe2;
        buf[len++] = (char)0x96;
        buf[len++] = (char)(0x81 + level);
    }
    if (size)
        buf[len < size ? len : size - 1] = '\0';
    return buf;
}

static void fmt_num(char *buf, size_t n, double v)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.4g", v);
}

static void curve_line(FILE *out, const char *name, const double *v, size_t n, int sel)
{
    long lo = -1, hi = -1, last = -1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        if (lo < 0 || v[i] < v[lo]) lo = (long)i;
        if (hi < 0 || v[i] > v[hi]) hi = (long)i;
        last = (long)i;
    }
    char a[32], b[80], c[80], d[32], e[32], spark[40 * 3 + 1];
    fmt_num(a, sizeof a, n ? v[0] : NAN);
    if (lo >= 0) {
        char t[32];
        fmt_num(t, sizeof t, v[lo]);
        snprintf(b, sizeof b, "%s (%ld)", t, lo + 1);
        fmt_num(t, sizeof t, v[hi]);
        snprintf(c, sizeof c, "%s (%ld)", t, hi + 1);
    } else {
        snprintf(b, sizeof b, "-");
        snprintf(c, sizeof c, "-");
    }
    fmt_num(d, sizeof d, last >= 0 ? v[last] : NAN);
    fmt_num(e, sizeof e, sel >= 1 && (size_t)sel <= n ? v[sel - 1] : NAN);
    fprintf(out, "  %-18s %10s %14s %14s %10s %10s  %s\n", name, a, b, c, d, e,
            nnx_sparkline(v, n, 40, spark, sizeof spark));
}

static void findings_text(FILE *out, const nnx_findings *f, const char *indent)
{
    if (f->n == 0) {
        fprintf(out, "%sdiagnosis: no findings - the curves look healthy\n", indent);
        return;
    }
    fprintf(out, "%sdiagnosis:\n", indent);
    for (size_t i = 0; i < f->n; i++)
        fprintf(out, "%s  %-7s %s: %s\n", indent, nnx_severity_name(f->items[i].severity),
                nnx_rule_name(f->items[i].rule), f->items[i].message);
}

static void run_text(FILE *out, const nnx_run *run)
{
    nnx_curves c;
    nnx_rt_error err = { { 0 } };
    if (nnx_run_curves(run, &c, &err) < 0) {
        const char *msg = nnx_json_as_string(nnx_json_get(run->summary, "status_message"), "");
        fprintf(out, "  %s%s%s\n", err.msg, msg[0] ? " - " : "", msg);
        return;
    }
    int sel = report_selected_epoch(run, &c), low = report_lowest_loss_epoch(&c);
    char v[32], w[32];
    fmt_num(v, sizeof v, sel && c.select_values ? c.select_values[sel - 1] : NAN);
    fmt_num(w, sizeof w, low ? c.valid_loss[low - 1] : NAN);
    fprintf(out, "  status %s, %zu epochs, select %s(%s) -> epoch %d (%s), lowest valid loss at epoch %d (%s)\n",
            run->status, c.epochs, run->select_max ? "max" : "min", run->select_metric, sel, v, low, w);
    const nnx_json *metrics = nnx_json_get(run->summary, "metrics");
    bool any = false;
    for (size_t i = 0; metrics && metrics->type == NNX_JSON_OBJECT && i < metrics->n; i++)
        if (!strncmp(metrics->keys[i], "test.", 5)) {
            fmt_num(v, sizeof v, nnx_json_as_number(&metrics->items[i]));
            fprintf(out, "%s %s %s", any ? "," : "  test:", metrics->keys[i], v);
            any = true;
        }
    if (any)
        fputc('\n', out);
    fprintf(out, "\n  %-18s %10s %14s %14s %10s %10s  %s\n", "curve", "first", "min (epoch)",
            "max (epoch)", "last", "selected", "per epoch");
    const nnx_table *m = &run->metrics;
    for (size_t col = 0; col < m->ncols; col++)
        if (strcmp(m->names[col], "epoch") && strcmp(m->names[col], "seconds"))
            curve_line(out, m->names[col], m->values + col * m->nrows, m->nrows, sel);
    if (c.steps) {
        char spark[40 * 3 + 1], count[32];
        snprintf(count, sizeof count, "%zu steps", c.steps);
        fprintf(out, "  %-18s %-62s  %s\n", "step loss", count,
                nnx_sparkline(c.step_loss, c.steps, 40, spark, sizeof spark));
    }
    nnx_findings f;
    fputc('\n', out);
    if (nnx_diagnose(&c, &f, &err) < 0)
        fprintf(out, "  diagnosis: %s\n", err.msg);
    else
        findings_text(out, &f, "  ");
}

/* A trials.csv cell for the text table: numbers with %.4g, text as is. */
static const char *cell_text(const nnx_table *t, size_t r, size_t col, char *buf, size_t n)
{
    const char *cell = nnx_table_cell(t, r, col);
    double v = t->values[col * t->nrows + r];
    if (col == 0 || !isfinite(v))
        return cell;
    fmt_num(buf, n, v);
    return buf;
}

static void search_text(FILE *out, const nnx_rundir *d)
{
    char buf[32];
    const nnx_table *t = &d->trials;
    size_t *order = report_leaderboard(d);
    if (!order)
        return;
    int width[64];
    size_t ncols = t->ncols < 64 ? t->ncols : 64;
    for (size_t col = 0; col < ncols; col++) {
        width[col] = (int)strlen(t->names[col]);
        for (size_t r = 0; r < t->nrows; r++) {
            int n = (int)strlen(cell_text(t, r, col, buf, sizeof buf));
            if (n > width[col])
                width[col] = n;
        }
    }
    const char *winner = nnx_json_as_string(nnx_json_get(d->summary, "winner"), NULL);
    fprintf(out, "  %zu trials, ranked by %s(%s)%s%s\n\n", t->nrows, d->select_max ? "max" : "min",
            d->select_metric ? d->select_metric : "?", winner ? "; winner " : "", winner ? winner : "");
    fprintf(out, "  %3s ", "#");
    for (size_t col = 0; col < ncols; col++)
        fprintf(out, " %-*s", width[col], t->names[col]);
    fprintf(out, "  valid.loss per epoch\n");
    for (size_t k = 0; k < t->nrows; k++) {
        size_t r = order[k];
        fprintf(out, "  %3zu ", k + 1);
        for (size_t col = 0; col < ncols; col++)
            fprintf(out, " %-*s", width[col], cell_text(t, r, col, buf, sizeof buf));
        char spark[40 * 3 + 1] = "";
        if (r < d->nchildren && d->children[r].has_metrics) {
            const double *v = nnx_table_column(&d->children[r].metrics, "valid.loss");
            if (v)
                nnx_sparkline(v, d->children[r].metrics.nrows, 20, spark, sizeof spark);
        } else if (r < d->nchildren && d->child_errors[r]) {
            snprintf(spark, sizeof spark, "(no curves)");
        }
        fprintf(out, "  %s\n", spark);
    }
    for (size_t k = 0; k < t->nrows; k++) {
        size_t r = order[k];
        if (r < d->nchildren && winner && !strcmp(d->child_names[r], winner)) {
            fprintf(out, "\nwinner %s\n", winner);
            run_text(out, &d->children[r]);
        }
    }
    free(order);
}

static void ensemble_text(FILE *out, const nnx_rundir *d)
{
    const nnx_json *ens = nnx_json_get(nnx_json_get(d->summary, "ensemble"), "metrics");
    fprintf(out, "  %zu members, selected by %s(%s)\n\n", d->nchildren, d->select_max ? "max" : "min",
            d->select_metric);
    fprintf(out, "  %-10s %-10s %6s %12s  %s\n", "seed", "status", "epoch", d->select_metric, "test metrics");
    char v[32];
    for (size_t i = 0; i < d->nchildren; i++) {
        const nnx_run *run = &d->children[i];
        fmt_num(v, sizeof v, nnx_json_as_number(nnx_json_get(nnx_json_get(run->summary, "select"), "value")));
        fprintf(out, "  %-10s %-10s %6d %12s ", d->child_names[i], run->status ? run->status : "unreadable",
                run->select_epoch, v);
        const nnx_json *m = nnx_json_get(run->summary, "metrics");
        for (size_t k = 0; m && m->type == NNX_JSON_OBJECT && k < m->n; k++)
            if (!strncmp(m->keys[k], "test.", 5)) {
                fmt_num(v, sizeof v, nnx_json_as_number(&m->items[k]));
                fprintf(out, " %s %s", m->keys[k], v);
            }
        fputc('\n', out);
    }
    if (ens && ens->type == NNX_JSON_OBJECT) {
        fprintf(out, "  %-10s %-10s %6s %12s ", "ensemble", "", "", "");
        for (size_t k = 0; k < ens->n; k++) {
            fmt_num(v, sizeof v, nnx_json_as_number(&ens->items[k]));
            fprintf(out, " %s %s", ens->keys[k], v);
        }
        fputc('\n', out);
    }
    for (size_t i = 0; i < d->nchildren; i++) {
        fprintf(out, "\nmember seed %s\n", d->child_names[i]);
        if (d->child_errors[i])
            fprintf(out, "  %s\n", d->child_errors[i]);
        else
            run_text(out, &d->children[i]);
    }
}

int nnx_report_text(const nnx_rundir *d, FILE *out, nnx_rt_error *err)
{
    const nnx_json *s = d->kind == NNX_RUNDIR_RUN ? d->run.summary : d->summary;
    const char *experiment = nnx_json_as_string(nnx_json_get(s, "experiment"), "(unnamed)");
    fprintf(out, "%s - %s %s\n", experiment, nnx_rundir_kind_name(d->kind), d->path);
    switch (d->kind) {
    case NNX_RUNDIR_RUN:
        run_text(out, &d->run);
        break;
    case NNX_RUNDIR_SEARCH:
        search_text(out, d);
        break;
    case NNX_RUNDIR_ENSEMBLE:
        ensemble_text(out, d);
        break;
    }
    if (fflush(out) != 0 || ferror(out))
        return nnx_rt_fail(err, "writing the report failed");
    return 0;
}
