/* diagnose.c — the loss-curve rules: from a run's curves to findings with evidence. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nnx/diagnose.h"

static const char *const rule_names[NNX_RULE_COUNT] = {
    [NNX_RULE_DIVERGED]        = "diverged",
    [NNX_RULE_LR_TOO_SMALL]    = "lr-too-small",
    [NNX_RULE_NOISY_STEPS]     = "noisy-steps",
    [NNX_RULE_NOISY_EPOCHS]    = "noisy-epochs",
    [NNX_RULE_OVERFITTING]     = "overfitting",
    [NNX_RULE_UNDERFITTING]    = "underfitting",
    [NNX_RULE_SELECT_VS_LOSS]  = "select-vs-loss",
    [NNX_RULE_LOSS_VS_METRIC]  = "loss-vs-metric",
};

const char *nnx_rule_name(nnx_rule r)
{
    return (unsigned)r < NNX_RULE_COUNT ? rule_names[r] : "unknown";
}

const char *nnx_severity_name(nnx_severity s)
{
    switch (s) {
    case NNX_SEV_INFO:    return "info";
    case NNX_SEV_WARNING: return "warning";
    case NNX_SEV_ERROR:   return "error";
    }
    return "unknown";
}

/* ---- helpers over arrays --------------------------------------------- */

typedef struct linfit {
    double slope, intercept, r2;
} linfit;

/* Least-squares line through (i, y[i]) for i in [from, to). */
static linfit fit_line(const double *y, size_t from, size_t to)
{
    linfit f = { 0, 0, 0 };
    double n = (double)(to - from), sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    for (size_t i = from; i < to; i++) {
        double x = (double)i;
        sx += x; sy += y[i]; sxx += x * x; sxy += x * y[i]; syy += y[i] * y[i];
    }
    double vx = sxx - sx * sx / n, vy = syy - sy * sy / n, cxy = sxy - sx * sy / n;
    if (n < 2 || vx <= 0)
        return f;
    f.slope = cxy / vx;
    f.intercept = (sy - f.slope * sx) / n;
    f.r2 = vy > 0 ? cxy * cxy / (vx * vy) : 1.0;
    return f;
}

static double mean_of(const double *y, size_t from, size_t to)
{
    double s = 0;
    for (size_t i = from; i < to; i++)
        s += y[i];
    return to > from ? s / (double)(to - from) : NAN;
}

/* Index of the first smallest finite value, or -1 when there is none. */
static long argmin_finite(const double *y, size_t n)
{
    long best = -1;
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i]) && (best < 0 || y[i] < y[best]))
            best = (long)i;
    return best;
}

/* Index of the first best finite value in the given direction, or -1. */
static long argbest_finite(const double *y, size_t n, bool max)
{
    long best = -1;
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i]) && (best < 0 || (max ? y[i] > y[best] : y[i] < y[best])))
            best = (long)i;
    return best;
}

/* Index of the last finite value, or -1. */
static long last_finite(const double *y, size_t n)
{
    for (size_t i = n; i > 0; i--)
        if (isfinite(y[i - 1]))
            return (long)i - 1;
    return -1;
}

static double peak_lr(const nnx_curves *c)
{
    double peak = NAN;
    if (c->lr)
        for (size_t i = 0; i < c->epochs; i++)
            if (isfinite(c->lr[i]) && !(c->lr[i] <= peak))
                peak = c->lr[i];
    return peak;
}

/* ---- building findings ------------------------------------------------ */

static nnx_finding *add_finding(nnx_findings *out, nnx_rule rule, nnx_severity sev,
                                nnx_curve_kind curve, int epoch, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static nnx_finding *add_finding(nnx_findings *out, nnx_rule rule, nnx_severity sev,
                                nnx_curve_kind curve, int epoch, const char *fmt, ...)
{
    nnx_finding *f = &out->items[out->n++];
    memset(f, 0, sizeof *f);
    f->rule = rule;
    f->severity = sev;
    f->curve = curve;
    f->epoch = epoch;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    return f;
}

static void evidence(nnx_finding *f, const char *name, double value)
{
    if (f->nevidence < NNX_FINDING_MAX_EVIDENCE) {
        f->evidence[f->nevidence].name = name;
        f->evidence[f->nevidence].value = value;
        f->nevidence++;
    }
}

/* " (ln 10 = 2.303)" style text for the chance-level loss. */
static void chance_text(char *buf, size_t n, double chance)
{
    double k = exp(chance);
    if (fabs(k - round(k)) < 1e-6 * k && k >= 2)
        snprintf(buf, n, "ln %.0f = %.4g", round(k), chance);
    else
        snprintf(buf, n, "%.4g", chance);
}

/* ---- the rules ------------------------------------------------------- */

/* NaN/inf or an exploding train loss, or the run's own verdict. */
static bool rule_diverged(const nnx_curves *c, nnx_findings *out)
{
    int epoch = 0;
    long step = -1;
    const char *how = NULL;
    double before = NAN, at = NAN;

    for (size_t i = 0; i < c->epochs && !how; i++) {
        if (!isfinite(c->train_loss[i])) {
            epoch = (int)i + 1;
            at = c->train_loss[i];
            how = isnan(at) ? "became NaN" : "became infinite";
            if (i > 0)
                before = c->train_loss[i - 1];
        }
    }
    for (size_t i = 0; c->step_loss && i < c->steps; i++) {
        if (!isfinite(c->step_loss[i])) {
            int e = c->step_epoch && isfinite(c->step_epoch[i]) ? (int)c->step_epoch[i] : 0;
            if (!how || (e && e <= epoch)) {
                epoch = e;
                step = (long)i + 1;
                at = c->step_loss[i];
                how = isnan(at) ? "became NaN" : "became infinite";
                before = i > 0 ? c->step_loss[i - 1] : NAN;
            }
            break;
        }
    }
    if (!how) {
        double low = c->epochs ? c->train_loss[0] : NAN;
        for (size_t i = 1; i < c->epochs; i++) {
            if (c->train_loss[i] > NNX_DIAG_EXPLODE_FACTOR * low &&
                c->train_loss[i] > c->train_loss[0]) {
                epoch = (int)i + 1;
                before = low;
                at = c->train_loss[i];
                how = "exploded";
                break;
            }
            if (c->train_loss[i] < low)
                low = c->train_loss[i];
        }
    }
    if (!how && !c->diverged)
        return false;
    if (!how) {
        how = "blew up";
        epoch = c->diverged_epoch;
    }
    if (!epoch && c->diverged_epoch)
        epoch = c->diverged_epoch;

    double lr = NAN;
    if (c->lr && epoch >= 1 && (size_t)epoch <= c->epochs)
        lr = c->lr[epoch - 1];
    if (!isfinite(lr))
        lr = peak_lr(c);

    char where[64] = "", from[64] = "", lrtext[48] = "", try_text[48] = "";
    if (epoch)
        snprintf(where, sizeof where, " at epoch %d", epoch);
    if (step > 0)
        snprintf(where + strlen(where), sizeof where - strlen(where), " (step %ld)", step);
    if (isfinite(before) && isfinite(at))
        snprintf(from, sizeof from, " from %.4g to %.4g", before, at);
    if (isfinite(lr)) {
        snprintf(lrtext, sizeof lrtext, " (%.3g)", lr);
        snprintf(try_text, sizeof try_text, " (%.3g)", lr / 10);
    }
    nnx_finding *f = add_finding(out, NNX_RULE_DIVERGED, NNX_SEV_ERROR, NNX_CURVE_LOSS, epoch,
        "training diverged%s: the train loss %s%s. The learning rate%s is too large: "
        "try 10x smaller%s, or add warmup.",
        where, how, from, lrtext, try_text);
    if (epoch)
        evidence(f, "epoch", epoch);
    if (step > 0)
        evidence(f, "step", (double)step);
    evidence(f, "loss_before", before);
    evidence(f, "loss_at", at);
    if (isfinite(lr))
        evidence(f, "lr", lr);
    return true;
}

/* Train loss still falling on a straight line at the end. */
static void rule_lr_too_small(const nnx_curves *c, nnx_findings *out)
{
    size_t n = c->epochs;
    if (n < NNX_DIAG_LINEAR_MIN_EPOCHS)
        return;
    size_t half = n / 2, m = n - half, mid = half + (m - 1) / 2;
    linfit h = fit_line(c->train_loss, half, n);
    /* the slopes of the earlier and later part of the window (sharing mid) */
    linfit early = fit_line(c->train_loss, half, mid + 1);
    linfit late = fit_line(c->train_loss, mid, n);
    double level = mean_of(c->train_loss, half, n);
    if (!(h.slope < 0 && early.slope < 0 && level > 0))
        return;
    double drop = -h.slope / level, keep = late.slope / early.slope;
    if (h.r2 < NNX_DIAG_LINEAR_R2 || drop < NNX_DIAG_LINEAR_MIN_DROP || keep < NNX_DIAG_LINEAR_KEEP)
        return;
    /* A valid loss that turned upward is overfitting, not a slow start. */
    if (c->valid_loss) {
        size_t k = 0;
        for (size_t i = half; i < n; i++)
            k += isfinite(c->valid_loss[i]);
        if (k == m && fit_line(c->valid_loss, half, n).slope > 0)
            return;
    }
    double lr = peak_lr(c);
    char lrtext[96] = "";
    if (isfinite(lr))
        snprintf(lrtext, sizeof lrtext, " (peak %.3g)", lr);
    char try_text[64] = "";
    if (isfinite(lr))
        snprintf(try_text, sizeof try_text, " (%.3g)", lr * 10);
    nnx_finding *f = add_finding(out, NNX_RULE_LR_TOO_SMALL, NNX_SEV_WARNING, NNX_CURVE_LOSS, (int)n,
        "the train loss is still falling almost linearly: R² = %.3f over epochs %zu-%zu, "
        "%.3g (%.1f%% of its level) per epoch, not flattening. The learning rate%s may be "
        "too small: try 10x%s, or train longer.",
        h.r2, half + 1, n, h.slope, 100 * drop, lrtext, try_text);
    evidence(f, "r2", h.r2);
    evidence(f, "slope_per_epoch", h.slope);
    evidence(f, "relative_drop_per_epoch", drop);
    evidence(f, "late_to_early_slope", keep);
    evidence(f, "from_epoch", (double)(half + 1));
    evidence(f, "to_epoch", (double)n);
    if (isfinite(lr))
        evidence(f, "lr", lr);
}

/* Step losses scattered far around their own moving average. */
static void rule_noisy_steps(const nnx_curves *c, nnx_findings *out)
{
    if (!c->step_loss)
        return;
    size_t from = 0, n = c->steps;
    /* The first epoch falls too fast for a moving average to follow. */
    if (c->step_epoch) {
        while (from < n && c->step_epoch[from] < 2)
            from++;
        if (from == n)
            from = n / 10;
    } else {
        from = n / 10;
    }
    if (n - from < NNX_DIAG_NOISE_MIN_STEPS)
        return;
    double floor = isfinite(c->chance_loss) && c->chance_loss > 0 ? 0.1 * c->chance_loss : 0;
    size_t half = NNX_DIAG_NOISE_WINDOW / 2;
    double sum_r2 = 0, sum = 0;
    size_t used = 0;
    for (size_t i = from; i < n; i++) {
        size_t a = i >= from + half ? i - half : from;
        size_t b = i + half + 1 <= n ? i + half + 1 : n;
        double trend = mean_of(c->step_loss, a, b);
        double scale = trend > floor ? trend : floor;
        if (!(scale > 1e-12))
            continue;
        double r = (c->step_loss[i] - trend) / scale;
        sum_r2 += r * r;
        sum += c->step_loss[i];
        used++;
    }
    if (used < NNX_DIAG_NOISE_MIN_STEPS)
        return;
    double rel = sqrt(sum_r2 / (double)used);
    if (rel < NNX_DIAG_NOISE_REL)
        return;
    nnx_finding *f = add_finding(out, NNX_RULE_NOISY_STEPS, NNX_SEV_WARNING, NNX_CURVE_STEPS, 0,
        "the train loss jumps from batch to batch: its relative std around a %d-step moving "
        "average is %.0f%% (steps %zu-%zu). The batch may be too small for this learning rate: "
        "try a 2-4x larger batch, or a lower lr.",
        NNX_DIAG_NOISE_WINDOW, 100 * rel, from + 1, n);
    evidence(f, "relative_std", rel);
    evidence(f, "window", NNX_DIAG_NOISE_WINDOW);
    evidence(f, "from_step", (double)(from + 1));
    evidence(f, "steps", (double)(n - from));
    evidence(f, "mean_loss", sum / (double)used);
}

/* Valid loss going up and down from epoch to epoch. */
static void rule_noisy_epochs(const nnx_curves *c, nnx_findings *out)
{
    if (!c->valid_loss)
        return;
    const double *v = c->valid_loss;
    size_t m = 0, turns = 0;
    double change = 0, level = 0, prev_v = NAN;
    int prev = 0;
    for (size_t i = 0; i < c->epochs; i++) {
        if (!isfinite(v[i]))
            continue;
        m++;
        level += v[i];
        if (isfinite(prev_v)) {
            double d = v[i] - prev_v;
            int sign = d > 0 ? 1 : d < 0 ? -1 : 0;
            if (sign && prev && sign != prev)
                turns++;
            if (sign)
                prev = sign;
            change += fabs(d);
        }
        prev_v = v[i];
    }
    if (m < NNX_DIAG_ZIGZAG_MIN_EPOCHS)
        return;
    level /= (double)m;
    double turn_frac = (double)turns / (double)(m - 2);
    double rel = change / (double)(m - 1) / level;
    if (!(level > 0) || turn_frac < NNX_DIAG_ZIGZAG_TURNS || rel < NNX_DIAG_ZIGZAG_REL)
        return;
    nnx_finding *f = add_finding(out, NNX_RULE_NOISY_EPOCHS, NNX_SEV_WARNING, NNX_CURVE_LOSS, 0,
        "the valid loss zig-zags from epoch to epoch: it turns %zu times in %zu epochs, "
        "moving %.0f%% of its level per epoch on average. The batch may be too small "
        "(or the lr too large): try a larger batch or a lower lr.",
        turns, m, 100 * rel);
    evidence(f, "turns", (double)turns);
    evidence(f, "turn_fraction", turn_frac);
    evidence(f, "relative_change_per_epoch", rel);
    evidence(f, "epochs", (double)m);
}

/* Valid loss climbing while train loss falls, or a wide train/valid gap. */
static void rule_overfitting(const nnx_curves *c, nnx_findings *out)
{
    if (!c->valid_loss)
        return;
    long b = argmin_finite(c->valid_loss, c->epochs);
    long last = last_finite(c->valid_loss, c->epochs);
    if (b < 0)
        return;
    double vb = c->valid_loss[b], vl = c->valid_loss[last];
    double tb = c->train_loss[b], tl = c->train_loss[last];
    double rise = vb > 0 ? vl / vb - 1 : 0;
    bool chance_known = isfinite(c->chance_loss) && c->chance_loss > 0;
    bool large = !chance_known || vl - vb >= NNX_DIAG_OVERFIT_MIN_RISE * c->chance_loss;
    if (last - b >= NNX_DIAG_OVERFIT_EPOCHS && rise >= NNX_DIAG_OVERFIT_RISE && large &&
        tl <= tb * (1 - NNX_DIAG_OVERFIT_TRAIN_DROP)) {
        nnx_finding *f = add_finding(out, NNX_RULE_OVERFITTING, NNX_SEV_WARNING, NNX_CURVE_LOSS,
            (int)b + 1,
            "the valid loss bottomed at epoch %ld (%.4g) and rose for %ld epochs to %.4g (+%.0f%%) "
            "while the train loss kept falling (%.4g -> %.4g): the network is overfitting. Try "
            "dropout or weight decay, or stop near epoch %ld.",
            b + 1, vb, last - b, vl, 100 * rise, tb, tl, b + 1);
        evidence(f, "best_epoch", (double)(b + 1));
        evidence(f, "best_valid_loss", vb);
        evidence(f, "last_epoch", (double)(last + 1));
        evidence(f, "last_valid_loss", vl);
        evidence(f, "valid_rise", rise);
        evidence(f, "train_loss_at_best", tb);
        evidence(f, "train_loss_last", tl);
        return;
    }
    if (tl > 0 && vl >= NNX_DIAG_GAP_RATIO * tl && vl - tl >= NNX_DIAG_GAP_MIN) {
        nnx_finding *f = add_finding(out, NNX_RULE_OVERFITTING, NNX_SEV_WARNING, NNX_CURVE_LOSS,
            (int)last + 1,
            "the valid loss ends %.1fx the train loss (%.4g vs %.4g at epoch %ld): the network "
            "fits its training rows far better than unseen ones (overfitting). Try dropout or "
            "weight decay, or fewer epochs (the valid loss was lowest at epoch %ld, %.4g).",
            vl / tl, vl, tl, last + 1, b + 1, vb);
        evidence(f, "gap_ratio", vl / tl);
        evidence(f, "last_epoch", (double)(last + 1));
        evidence(f, "last_valid_loss", vl);
        evidence(f, "train_loss_last", tl);
        evidence(f, "best_epoch", (double)(b + 1));
        evidence(f, "best_valid_loss", vb);
    }
}

/* Both losses high (a large part of chance level) and close together. */
static void rule_underfitting(const nnx_curves *c, nnx_findings *out)
{
    if (!(isfinite(c->chance_loss) && c->chance_loss > 0))
        return;
    size_t last = c->epochs - 1;
    double t = c->train_loss[last];
    double v = c->valid_loss ? c->valid_loss[last] : NAN;
    double frac = t / c->chance_loss;
    if (frac < NNX_DIAG_UNDERFIT_FRAC)
        return;
    if (isfinite(v) && fabs(v - t) > NNX_DIAG_UNDERFIT_CLOSE * t)
        return;
    char chance[48];
    chance_text(chance, sizeof chance, c->chance_loss);
    nnx_finding *f;
    if (isfinite(v))
        f = add_finding(out, NNX_RULE_UNDERFITTING, NNX_SEV_WARNING, NNX_CURVE_LOSS, (int)last + 1,
            "the train and valid losses stay high and close: %.4g and %.4g at the end, %.0f%% of "
            "the chance-level loss (%s). The model underfits: try a larger network, a higher lr "
            "or more epochs, and less dropout or weight decay.",
            t, v, 100 * frac, chance);
    else
        f = add_finding(out, NNX_RULE_UNDERFITTING, NNX_SEV_WARNING, NNX_CURVE_LOSS, (int)last + 1,
            "the train loss stays high: %.4g at the end, %.0f%% of the chance-level loss (%s). "
            "The model underfits: try a larger network, a higher lr or more epochs, and less "
            "dropout or weight decay.",
            t, 100 * frac, chance);
    evidence(f, "train_loss", t);
    evidence(f, "valid_loss", v);
    evidence(f, "chance_loss", c->chance_loss);
    evidence(f, "fraction_of_chance", frac);
}

static bool selects_by_metric(const nnx_curves *c)
{
    return c->select_metric && c->select_values && c->valid_loss &&
           strcmp(c->select_metric, "valid.loss") != 0;
}

/* The selected epoch is not the lowest-valid-loss epoch. */
static void rule_select_vs_loss(const nnx_curves *c, nnx_findings *out)
{
    if (!selects_by_metric(c))
        return;
    long s = argbest_finite(c->select_values, c->epochs, c->select_max);
    long b = argmin_finite(c->valid_loss, c->epochs);
    if (s < 0 || b < 0 || s == b)
        return;
    const char *name = c->select_metric;
    nnx_finding *f = add_finding(out, NNX_RULE_SELECT_VS_LOSS, NNX_SEV_INFO, NNX_CURVE_METRIC,
        (int)s + 1,
        "select = %s(%s) keeps epoch %ld (%s %.4g, valid loss %.4g); the lowest valid loss "
        "was at epoch %ld (%.4g, %s %.4g).",
        c->select_max ? "max" : "min", name, s + 1, name, c->select_values[s],
        c->valid_loss[s], b + 1, c->valid_loss[b], name, c->select_values[b]);
    evidence(f, "select_epoch", (double)(s + 1));
    evidence(f, "select_value", c->select_values[s]);
    evidence(f, "select_epoch_valid_loss", c->valid_loss[s]);
    evidence(f, "lowest_loss_epoch", (double)(b + 1));
    evidence(f, "lowest_valid_loss", c->valid_loss[b]);
    evidence(f, "lowest_loss_epoch_value", c->select_values[b]);
}

/* Valid loss rising while the selected metric still improves. */
static void rule_loss_vs_metric(const nnx_curves *c, nnx_findings *out)
{
    if (!selects_by_metric(c))
        return;
    long b = argmin_finite(c->valid_loss, c->epochs);
    long last = last_finite(c->valid_loss, c->epochs);
    if (b < 0 || last <= b || !isfinite(c->select_values[b]))
        return;
    double vb = c->valid_loss[b], vl = c->valid_loss[last];
    double rise = vb > 0 ? vl / vb - 1 : 0;
    if (rise < NNX_DIAG_OVERFIT_RISE)
        return;
    size_t after = (size_t)b + 1;
    long s = argbest_finite(c->select_values + after, c->epochs - after, c->select_max);
    if (s < 0)
        return;
    s += (long)after;
    double mb = c->select_values[b], ms = c->select_values[s];
    double gain = (c->select_max ? ms - mb : mb - ms) / fmax(fabs(mb), 1e-12);
    if (gain < NNX_DIAG_METRIC_MIN_GAIN)
        return;
    const char *name = c->select_metric;
    nnx_finding *f = add_finding(out, NNX_RULE_LOSS_VS_METRIC, NNX_SEV_INFO, NNX_CURVE_METRIC,
        (int)s + 1,
        "the valid loss rose %.0f%% after epoch %ld (%.4g -> %.4g) while %s kept improving "
        "(%.4g -> %.4g at epoch %ld): the loss does not tell the whole story (the model grows "
        "over-confident on rows it gets wrong yet ranks better). Judge the run by %s.",
        100 * rise, b + 1, vb, vl, name, mb, ms, s + 1, name);
    evidence(f, "lowest_loss_epoch", (double)(b + 1));
    evidence(f, "lowest_valid_loss", vb);
    evidence(f, "last_valid_loss", vl);
    evidence(f, "valid_rise", rise);
    evidence(f, "metric_at_lowest_loss", mb);
    evidence(f, "metric_best_after", ms);
    evidence(f, "metric_best_epoch", (double)(s + 1));
    evidence(f, "relative_gain", gain);
}

int nnx_diagnose(const nnx_curves *c, nnx_findings *out, nnx_rt_error *err)
{
    out->n = 0;
    if (!c || !c->train_loss || c->epochs == 0)
        return nnx_rt_fail(err, "diagnose: no train loss to diagnose (0 epochs)");
    if (c->steps && !c->step_loss)
        return nnx_rt_fail(err, "diagnose: %zu steps but no step losses", c->steps);
    if (rule_diverged(c, out))
        return 0;
    rule_lr_too_small(c, out);
    rule_noisy_steps(c, out);
    rule_noisy_epochs(c, out);
    rule_overfitting(c, out);
    rule_underfitting(c, out);
    rule_select_vs_loss(c, out);
    rule_loss_vs_metric(c, out);
    return 0;
}

void nnx_findings_write_json(const nnx_findings *f, nnx_json_writer *w)
{
    nnx_json_begin_array(w);
    for (size_t i = 0; i < f->n; i++) {
        const nnx_finding *x = &f->items[i];
        nnx_json_begin_object(w);
        nnx_json_key_string(w, "rule", nnx_rule_name(x->rule));
        nnx_json_key_string(w, "severity", nnx_severity_name(x->severity));
        nnx_json_key_string(w, "message", x->message);
        nnx_json_key(w, "evidence");
        nnx_json_begin_object(w);
        for (int k = 0; k < x->nevidence; k++)
            nnx_json_key_number(w, x->evidence[k].name, x->evidence[k].value);
        nnx_json_end_object(w);
        nnx_json_end_object(w);
    }
    nnx_json_end_array(w);
}
