/* report_model.c — leaderboard order, selected and lowest-loss epochs, axis choices for the reports. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/select.h"
#include "report/report_model.h"

bool report_is_metric_column(const char *name)
{
    static const char *const not_metrics[] = { "epoch", "lr", "train.loss", "valid.loss", "seconds" };
    for (size_t i = 0; i < sizeof not_metrics / sizeof not_metrics[0]; i++)
        if (!strcmp(name, not_metrics[i]))
            return false;
    return true;
}

/* The search's select value of trial r, NaN when it has none. */
static double trial_value(const nnx_rundir *d, size_t r)
{
    if (d->metric_col < 0)
        return NAN;
    return d->trials.values[(size_t)d->metric_col * d->trials.nrows + r];
}

size_t *report_leaderboard(const nnx_rundir *d)
{
    size_t n = d->trials.nrows;
    size_t *order = malloc((n + 1) * sizeof *order);
    if (!order)
        return NULL;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    /* Insertion sort: stable, and leaderboards are short. */
    for (size_t i = 1; i < n; i++) {
        size_t cur = order[i], j = i;
        double v = trial_value(d, cur);
        while (j > 0) {
            double u = trial_value(d, order[j - 1]);
            bool better = isfinite(v) && (!isfinite(u) || nnx_select_compare(v, u, d->select_max) > 0);
            if (!better)
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = cur;
    }
    /* the search's own winner leads (a staged search's last kept point) */
    const char *winner = nnx_json_as_string(nnx_json_get(d->summary, "winner"), NULL);
    for (size_t i = 1; winner && i < n; i++)
        if (!strcmp(nnx_table_cell(&d->trials, order[i], 0), winner)) {
            size_t w = order[i];
            memmove(order + 1, order, i * sizeof *order);
            order[0] = w;
            break;
        }
    return order;
}

int report_lowest_loss_epoch(const nnx_curves *c)
{
    if (!c->valid_loss)
        return 0;
    long best = -1;
    for (size_t i = 0; i < c->epochs; i++)
        if (isfinite(c->valid_loss[i]) && (best < 0 || c->valid_loss[i] < c->valid_loss[best]))
            best = (long)i;
    return (int)(best + 1);
}

int report_selected_epoch(const nnx_run *run, const nnx_curves *c)
{
    if (run->select_epoch >= 1 && (size_t)run->select_epoch <= c->epochs)
        return run->select_epoch;
    if (!c->select_values)
        return report_lowest_loss_epoch(c);
    long best = -1;
    for (size_t i = 0; i < c->epochs; i++) {
        double v = c->select_values[i];
        if (isfinite(v) && (best < 0 || (c->select_max ? v > c->select_values[best]
                                                       : v < c->select_values[best])))
            best = (long)i;
    }
    return (int)(best + 1);
}

bool report_spans_decades(const double *v, size_t n)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]) || v[i] <= 0)
            return false;
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    return n > 1 && hi >= 100 * lo;
}

double report_summary_metric(const nnx_run *run, const char *name)
{
    return nnx_json_as_number(nnx_json_get(nnx_json_get(run->summary, "metrics"), name));
}
