/* report_search.c — a search report's overview charts: parallel coordinates, parameter importance, and curves by the rung where each pruned trial stopped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_html.h"
#include "report/report_model.h"
#include "report/report_search.h"
#include "report/svg_chart.h"

/* One searched parameter as an axis: numbers (linear or log), or categories
 * in the order they first appear. */
typedef struct param_axis {
    const char *name;
    bool numeric, log;
    double lo, hi;              /* numeric: the range (log10 of it on a log axis) */
    const char **cats;          /* categorical: the distinct values */
    size_t ncats;
    double *pos;                /* [nrows]: 0..1 along the axis, NaN when the trial has no value */
} param_axis;

static void axis_free(param_axis *a)
{
    free(a->cats);
    free(a->pos);
}

/* Lay out parameter column `col` of trials.csv. */
static bool axis_make(const nnx_table *t, size_t col, param_axis *a)
{
    memset(a, 0, sizeof *a);
    a->name = t->names[col];
    a->cats = calloc(t->nrows + 1, sizeof *a->cats);
    a->pos = calloc(t->nrows + 1, sizeof *a->pos);
    if (!a->cats || !a->pos)
        return false;
    const double *v = t->values + col * t->nrows;
    a->numeric = t->nrows > 0;
    for (size_t r = 0; r < t->nrows; r++)
        a->numeric &= isfinite(v[r]);
    a->log = a->numeric && report_spans_decades(v, t->nrows);
    if (a->numeric) {
        a->lo = INFINITY;
        a->hi = -INFINITY;
        for (size_t r = 0; r < t->nrows; r++) {
            double x = a->log ? log10(v[r]) : v[r];
            a->lo = fmin(a->lo, x);
            a->hi = fmax(a->hi, x);
        }
        for (size_t r = 0; r < t->nrows; r++) {
            double x = a->log ? log10(v[r]) : v[r];
            a->pos[r] = a->hi > a->lo ? (x - a->lo) / (a->hi - a->lo) : 0.5;
        }
        /* up to 6 distinct numbers: kept (as written) for their ticks */
        for (size_t r = 0; r < t->nrows && a->ncats <= 6; r++) {
            size_t k = 0;
            while (k < a->ncats && strcmp(a->cats[k], nnx_table_cell(t, r, col)))
                k++;
            if (k == a->ncats)
                a->cats[a->ncats++] = nnx_table_cell(t, r, col);
        }
        if (a->ncats > 6)
            a->ncats = 0;
        return true;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        const char *cell = nnx_table_cell(t, r, col);
        size_t k = 0;
        while (k < a->ncats && strcmp(a->cats[k], cell))
            k++;
        if (k == a->ncats)
            a->cats[a->ncats++] = cell;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        const char *cell = nnx_table_cell(t, r, col);
        size_t k = 0;
        while (k < a->ncats && strcmp(a->cats[k], cell))
            k++;
        a->pos[r] = a->ncats > 1 ? (double)k / (double)(a->ncats - 1) : 0.5;
    }
    return true;
}

/* A colour from light grey-blue (worst) to deep blue (best), q in 0..1. */
static void ramp(double q, char buf[8])
{
    const int lo[3] = { 0xc9, 0xd3, 0xe3 }, hi[3] = { 0x0b, 0x3c, 0x9c };
    int c[3];
    for (int i = 0; i < 3; i++)
        c[i] = (int)lround(lo[i] + (hi[i] - lo[i]) * q);
    snprintf(buf, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

static void fmt_axis_value(char *buf, size_t n, const param_axis *a, double x)
{
    report_fmt_num(buf, n, a->log ? pow(10, x) : x);
}

/* --- parallel coordinates ------------------------------------------------------------ */

static void parallel_coords(FILE *out, const nnx_rundir *d, long win)
{
    const nnx_table *t = &d->trials;
    size_t np = d->nparams, naxes = np + 1;
    param_axis *ax = calloc(naxes, sizeof *ax);
    bool ok = ax != NULL;
    for (size_t p = 0; ok && p < np; p++)
        ok = axis_make(t, p + 1, &ax[p]);
    /* the select metric: the last axis, best at the top */
    const double *y = t->values + (size_t)d->metric_col * t->nrows;
    double ylo = INFINITY, yhi = -INFINITY;
    for (size_t r = 0; ok && r < t->nrows; r++)
        if (isfinite(y[r])) {
            ylo = fmin(ylo, y[r]);
            yhi = fmax(yhi, y[r]);
        }
    if (!ok || !(ylo <= yhi)) {
        for (size_t p = 0; ax && p < np; p++)
            axis_free(&ax[p]);
        free(ax);
        return;
    }
    const int w = 1060, h = 360;
    const double left = 80, right = 110, top = 46, bottom = h - 40;
    double gap = naxes > 1 ? (w - left - right) / (double)(naxes - 1) : 0;
    fprintf(out, "<h2>Parallel coordinates</h2>\n<p class=\"note\">One line per trial through its value of each "
                 "searched parameter to its <code>");
    html_escape(out, d->select_metric);
    fputs("</code> (the leaderboard's value; a pruned trial's at the epoch it reached), darker the better; "
          "the winner in red; a trial without a value stops at the last parameter, dashed.</p>\n", out);
    fprintf(out, "<svg class=\"chart parcoords\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                 "width=\"%d\" height=\"%d\" role=\"img\" data-axes=\"%zu\">\n<title>parallel coordinates</title>\n",
            w, h, w, h, naxes);
    /* the lines: worst first, so that the best lie on top; the winner last */
    size_t *order = malloc((t->nrows + 1) * sizeof *order);
    size_t n = 0;
    for (size_t r = 0; order && r < t->nrows; r++)
        if ((long)r != win)
            order[n++] = r;
    for (size_t i = 1; order && i < n; i++)     /* insertion sort, NaN first, then worst to best */
        for (size_t j = i; j > 0; j--) {
            double a = y[order[j - 1]], b = y[order[j]];
            bool swap = isfinite(a) && (!isfinite(b) || (d->select_max ? a > b : a < b));
            if (!swap)
                break;
            size_t tmp = order[j - 1];
            order[j - 1] = order[j];
            order[j] = tmp;
        }
    if (order && win >= 0)
        order[n++] = (size_t)win;
    for (size_t i = 0; order && i < n; i++) {
        size_t r = order[i];
        bool has = isfinite(y[r]);
        double q = has && yhi > ylo ? (y[r] - ylo) / (yhi - ylo) : 1;
        if (!d->select_max)
            q = 1 - q;
        char color[8];
        ramp(q, color);
        fputs("<path class=\"pc\" data-trial=\"", out);
        html_escape(out, nnx_table_cell(t, r, 0));
        fprintf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s d=\"", (long)r == win ? "#d62728" : color,
                (long)r == win ? "3" : "1.6", has ? "" : " stroke-dasharray=\"5 4\"");
        for (size_t p = 0; p < naxes; p++) {
            double pos = p < np ? ax[p].pos[r] : (yhi > ylo ? (y[r] - ylo) / (yhi - ylo) : 0.5);
            if (p == np && !has)
                break;
            fprintf(out, "%s%.1f %.1f", p ? " L" : "M", left + gap * (double)p, bottom - pos * (bottom - top));
        }
        fputs("\"><title>", out);
        html_escape(out, nnx_table_cell(t, r, 0));
        char v[32];
        report_fmt_num(v, sizeof v, y[r]);
        fprintf(out, ": %s</title></path>\n", v);
    }
    free(order);
    /* the axes over the lines, with their names and ticks */
    for (size_t p = 0; p < naxes; p++) {
        double x = left + gap * (double)p;
        const char *name = p < np ? ax[p].name : d->select_metric;
        fputs("<g data-axis=\"", out);
        html_escape(out, name);
        fprintf(out, "\"><line class=\"frame\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%g\" y2=\"%g\" stroke=\"#333\"/>"
                     "<text class=\"axis\" x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">", x, x, top, bottom, x, top - 18);
        html_escape(out, name);
        if (p < np && ax[p].log)
            fputs(" (log)", out);
        fputs("</text>\n", out);
        if (p < np && !ax[p].numeric) {
            for (size_t k = 0; k < ax[p].ncats; k++) {
                double pos = ax[p].ncats > 1 ? (double)k / (double)(ax[p].ncats - 1) : 0.5;
                fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", x + 5, bottom - pos * (bottom - top) + 4);
                html_escape(out, ax[p].cats[k]);
                fputs("</text>\n", out);
            }
        } else if (p < np && ax[p].ncats) {
            /* a few numbers (a grid's): a tick at each */
            for (size_t k = 0; k < ax[p].ncats; k++) {
                double x0 = strtod(ax[p].cats[k], NULL), v = ax[p].log ? log10(x0) : x0;
                double pos = ax[p].hi > ax[p].lo ? (v - ax[p].lo) / (ax[p].hi - ax[p].lo) : 0.5;
                fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", x + 5, bottom - pos * (bottom - top) + 4);
                html_escape(out, ax[p].cats[k]);
                fputs("</text>\n", out);
            }
        } else {
            double lo = p < np ? ax[p].lo : ylo, hi = p < np ? ax[p].hi : yhi;
            for (int k = 0; k <= 4; k++) {
                double f = k / 4.0;
                char label[32];
                if (p < np)
                    fmt_axis_value(label, sizeof label, &ax[p], lo + f * (hi - lo));
                else
                    report_fmt_num(label, sizeof label, lo + f * (hi - lo));
                if (hi == lo && k)
                    break;
                fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 5,
                        bottom - (hi > lo ? f : 0.5) * (bottom - top) + 4, label);
            }
        }
        fputs("</g>\n", out);
    }
    fputs("</svg>\n", out);
    for (size_t p = 0; p < np; p++)
        axis_free(&ax[p]);
    free(ax);
}

/* --- parameter importance ---------------------------------------------------------------- */

/* The value importance is judged on: the trials.csv value, or in a pruned
 * search the best up to the first rung's epoch, which every trial reached
 * (later values exist only for the promoted trials). */
static double judged_value(const nnx_rundir *d, size_t r, int first_rung)
{
    const nnx_table *t = &d->trials;
    if (first_rung <= 0)
        return t->values[(size_t)d->metric_col * t->nrows + r];
    if (r >= d->nchildren || !d->children[r].has_metrics)
        return NAN;
    const nnx_table *m = &d->children[r].metrics;
    const double *e = nnx_table_column(m, "epoch"), *v = nnx_table_column(m, d->select_metric);
    double best = NAN;
    for (size_t i = 0; e && v && i < m->nrows && e[i] <= first_rung; i++)
        if (isfinite(v[i]) && (isnan(best) || (d->select_max ? v[i] > best : v[i] < best)))
            best = v[i];
    return best;
}

/* One-way ANOVA's eta squared of `y` grouped by `group` (n values, k groups). */
static double eta_squared(const double *y, const size_t *group, size_t n, size_t k)
{
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += y[i];
    mean /= (double)n;
    double *sum = calloc(k, sizeof *sum), *cnt = calloc(k, sizeof *cnt);
    double sst = 0, ssb = 0;
    for (size_t i = 0; sum && cnt && i < n; i++) {
        sum[group[i]] += y[i];
        cnt[group[i]] += 1;
        sst += (y[i] - mean) * (y[i] - mean);
    }
    for (size_t g = 0; sum && cnt && g < k; g++)
        if (cnt[g] > 0) {
            double m = sum[g] / cnt[g];
            ssb += cnt[g] * (m - mean) * (m - mean);
        }
    bool ok = sum && cnt;
    free(sum);
    free(cnt);
    return ok && sst > 0 ? ssb / sst : NAN;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { NUMERIC_BINS = 4 };

/* Group each used trial by parameter column `col`: its distinct values, or
 * for a number with more than NUMERIC_BINS of them, quartiles by rank. */
static size_t group_by(const nnx_table *t, size_t col, const size_t *used, size_t n, size_t *group)
{
    const double *v = t->values + col * t->nrows;
    bool numeric = true;
    for (size_t i = 0; i < n; i++)
        numeric &= isfinite(v[used[i]]);
    size_t k = 0;
    const char **seen = calloc(n + 1, sizeof *seen);
    if (!seen)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char *cell = nnx_table_cell(t, used[i], col);
        size_t g = 0;
        while (g < k && strcmp(seen[g], cell))
            g++;
        if (g == k)
            seen[k++] = cell;
        group[i] = g;
    }
    free(seen);
    if (!numeric || k <= NUMERIC_BINS)
        return k;
    double *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return 0;
    for (size_t i = 0; i < n; i++)
        sorted[i] = v[used[i]];
    qsort(sorted, n, sizeof *sorted, cmp_double);
    for (size_t i = 0; i < n; i++) {
        size_t below = 0;       /* values smaller than this one: its rank, ties together */
        while (below < n && sorted[below] < v[used[i]])
            below++;
        group[i] = below * NUMERIC_BINS / n;
    }
    free(sorted);
    return NUMERIC_BINS;
}

static void importance(FILE *out, const nnx_rundir *d, int first_rung)
{
    const nnx_table *t = &d->trials;
    size_t np = d->nparams;
    size_t *used = malloc((t->nrows + 1) * sizeof *used), *group = malloc((t->nrows + 1) * sizeof *group);
    double *y = malloc((t->nrows + 1) * sizeof *y);
    double *eta = calloc(np + 1, sizeof *eta), *chance = calloc(np + 1, sizeof *chance);
    size_t *rank = calloc(np + 1, sizeof *rank);
    size_t n = 0;
    for (size_t r = 0; used && y && r < t->nrows; r++) {
        double v = judged_value(d, r, first_rung);
        if (isfinite(v)) {
            used[n] = r;
            y[n++] = v;
        }
    }
    bool ok = used && group && y && eta && chance && rank && n >= 3;
    for (size_t p = 0; ok && p < np; p++) {
        size_t k = group_by(t, p + 1, used, n, group);
        eta[p] = k > 1 ? eta_squared(y, group, n, k) : NAN;
        chance[p] = k > 1 ? (double)(k - 1) / (double)(n - 1) : NAN;
        rank[p] = p;
    }
    for (size_t i = 1; ok && i < np; i++)      /* largest first, NaN last */
        for (size_t j = i; j > 0; j--) {
            double a = eta[rank[j - 1]], b = eta[rank[j]];
            if (!(isfinite(b) && (!isfinite(a) || b > a)))
                break;
            size_t tmp = rank[j - 1];
            rank[j - 1] = rank[j];
            rank[j] = tmp;
        }
    if (ok) {
        fputs("<h2>Parameter importance</h2>\n<p class=\"note\">How much of the spread of <code>", out);
        html_escape(out, d->select_metric);
        if (first_rung > 0)
            fprintf(out, "</code> at epoch %d (the first rung, which every trial reached)", first_rung);
        else
            fputs("</code>", out);
        fprintf(out, " over the %zu trials with a value each parameter explains alone: one-way ANOVA &eta;&sup2; "
                     "(the between-group share of the variance), the trials grouped by the parameter's value, "
                     "a number with more than %d values by quartile. A simple estimate, not fANOVA: it sees no "
                     "interactions, and with few trials noise alone reaches about (groups&minus;1)/(trials&minus;1), "
                     "the grey tick on each bar.</p>\n", n, NUMERIC_BINS);
        const int w = 620, row = 26, left = 170, right = 60;
        int h = 16 + row * (int)np;
        fprintf(out, "<svg class=\"chart importance\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                     "width=\"%d\" height=\"%d\" role=\"img\">\n<title>parameter importance</title>\n", w, h, w, h);
        for (size_t i = 0; i < np; i++) {
            size_t p = rank[i];
            double yy = 8 + row * (double)i;
            double len = isfinite(eta[p]) ? eta[p] * (w - left - right) : 0;
            fprintf(out, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", left - 8, yy + 14);
            html_escape(out, t->names[p + 1]);
            fputs("</text>", out);
            char v[32];
            report_fmt_num(v, sizeof v, eta[p]);
            fputs("<rect data-param=\"", out);
            html_escape(out, t->names[p + 1]);
            fprintf(out, "\" data-importance=\"%s\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
                         "<title>&eta;&sup2; %s</title></rect>", isfinite(eta[p]) ? v : "", left, yy + 2, len,
                    row - 8, svg_color(0), v);
            if (isfinite(chance[p])) {
                double cx = left + chance[p] * (w - left - right);
                fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" stroke-width=\"2\">"
                             "<title>noise alone: about %.2f</title></line>", cx, cx, yy, yy + row - 4, chance[p]);
            }
            fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", left + len + 6, yy + 14,
                    isfinite(eta[p]) ? v : "one value");
        }
        fputs("</svg>\n", out);
    }
    free(used);
    free(group);
    free(y);
    free(eta);
    free(chance);
    free(rank);
}

/* --- a pruned search: curves by rung ------------------------------------------------------ */

static void rung_curves(FILE *out, const nnx_rundir *d, const size_t *order, const nnx_json *rungs)
{
    const nnx_table *t = &d->trials;
    size_t nr = rungs->n;
    int *ep = calloc(nr + 1, sizeof *ep);
    size_t *count = calloc(nr + 1, sizeof *count);
    size_t *stop = calloc(t->nrows + 1, sizeof *stop);
    char (*labels)[96] = calloc(nr + 1, sizeof *labels);
    if (!ep || !count || !stop || !labels) {
        free(ep);
        free(count);
        free(stop);
        free(labels);
        return;
    }
    for (size_t k = 0; k < nr; k++)
        ep[k] = (int)nnx_json_as_number(nnx_json_at(rungs, k));
    int run_col = nnx_table_find(t, "epochs_run");
    for (size_t r = 0; r < t->nrows; r++) {
        double er = run_col >= 0 ? t->values[(size_t)run_col * t->nrows + r] : NAN;
        size_t k = 0;       /* the first rung whose epoch it did not pass */
        while (k + 1 < nr && isfinite(er) && er > ep[k])
            k++;
        stop[r] = k;
        count[k]++;
    }
    svg_chart ch = { .title = d->select_metric, .xlabel = "epoch", .integer_x = true, .width = 1060, .height = 320 };
    for (size_t k = 0; k < nr; k++) {
        if (k + 1 < nr)
            snprintf(labels[k], sizeof labels[k], "pruned at rung %zu (epoch %d): %zu", k + 1, ep[k], count[k]);
        else
            snprintf(labels[k], sizeof labels[k], "trained to the end (epoch %d): %zu", ep[k], count[k]);
        svg_chart_add(&ch, labels[k], NULL, NULL, 0, (int)k);    /* the legend's entry */
    }
    static const char *const mark[SVG_MAX_MARKS] = { "rung 1", "rung 2", "rung 3", "rung 4" };
    for (size_t k = 0; k + 1 < nr && k < SVG_MAX_MARKS; k++)
        svg_chart_mark(&ch, ep[k], mark[k], 8);
    /* the best trials last, on top */
    for (size_t i = t->nrows; i-- > 0;) {
        size_t r = order[i];
        if (r >= d->nchildren || !d->children[r].has_metrics)
            continue;
        const nnx_table *m = &d->children[r].metrics;
        const double *e = nnx_table_column(m, "epoch"), *v = nnx_table_column(m, d->select_metric);
        svg_series *s = e && v ? svg_chart_add(&ch, d->child_names[r], e, v, m->nrows, (int)stop[r]) : NULL;
        if (s)
            s->nolegend = true;
    }
    fputs("<h2>Curves by the rung where each trial stopped</h2>\n<p class=\"note\">Each trial's <code>", out);
    html_escape(out, d->select_metric);
    fputs("</code> by epoch, coloured by the rung at which successive halving stopped it; the grey lines "
          "are the rungs' epochs, where the best of each rung went on.</p>\n", out);
    svg_chart_write(out, &ch);
    free(ep);
    free(count);
    free(stop);
    free(labels);
}

void report_search_overview(FILE *out, const nnx_rundir *d, long win)
{
    const char *kind = nnx_json_as_string(nnx_json_get(d->summary, "search"), "");
    if (d->metric_col < 0 || !d->nparams || !d->trials.nrows || !strcmp(kind, "staged"))
        return;
    const nnx_json *rungs = nnx_json_get(nnx_json_get(d->summary, "prune"), "rung_epochs");
    bool pruned = rungs && rungs->type == NNX_JSON_ARRAY && rungs->n > 0;
    parallel_coords(out, d, win);
    importance(out, d, pruned ? (int)nnx_json_as_number(nnx_json_at(rungs, 0)) : 0);
}

void report_search_rungs(FILE *out, const nnx_rundir *d, const size_t *order)
{
    const nnx_json *rungs = nnx_json_get(nnx_json_get(d->summary, "prune"), "rung_epochs");
    if (rungs && rungs->type == NNX_JSON_ARRAY && rungs->n > 0 && d->select_metric && order)
        rung_curves(out, d, order, rungs);
}
