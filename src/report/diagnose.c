/* diagnose.c — the loss-curve rules: from a run's curves to findings with evidence. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nnx/diagnose.h"
#include "nnx/select.h"

static const char *const rule_names[NNX_RULE_COUNT] = {
    [NNX_RULE_DIVERGED]         = "diverged",
    [NNX_RULE_STUCK]            = "stuck-at-chance",
    [NNX_RULE_LR_TOO_SMALL]     = "lr-too-small",
    [NNX_RULE_STILL_IMPROVING]  = "still-improving",
    [NNX_RULE_NOISY_STEPS]      = "noisy-steps",
    [NNX_RULE_NOISY_EPOCHS]     = "noisy-epochs",
    [NNX_RULE_OVER_REGULARISED] = "over-regularised",
    [NNX_RULE_OVERFITTING]      = "overfitting",
    [NNX_RULE_UNDERFITTING]     = "underfitting",
    [NNX_RULE_SELECT_VS_LOSS]   = "select-vs-loss",
    [NNX_RULE_LOSS_VS_METRIC]   = "loss-vs-metric",
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

static bool all_finite(const double *y, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (!isfinite(y[i]))
            return false;
    return true;
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

/* Index of the last finite value, or -1. */
static long last_finite(const double *y, size_t n)
{
    for (size_t i = n; i > 0; i--)
        if (isfinite(y[i - 1]))
            return (long)i - 1;
    return -1;
}

/* The reference level: the loss of predicting the class frequencies, else
 * the chance loss; NaN when neither is known (mse). */
static double ref_loss(const nnx_curves *c)
{
    if (c->setup.prior_loss > 0 && isfinite(c->setup.prior_loss))
        return c->setup.prior_loss;
    if (isfinite(c->chance_loss) && c->chance_loss > 0)
        return c->chance_loss;
    return NAN;
}

/* The first epoch (0-based) of the trend window: the last third, at least
 * TREND_MIN_EPOCHS long. */
static size_t trend_from(size_t n)
{
    size_t k = n / 3 > NNX_DIAG_TREND_MIN_EPOCHS ? n / 3 : NNX_DIAG_TREND_MIN_EPOCHS;
    return n > k ? n - k : 0;
}

/* The largest and the last lr the schedule used (steps.csv when it has the
 * lr, else metrics.csv, else optimizer.lr); NaN when unknown. */
static void lr_used(const nnx_curves *c, double *peak, double *last)
{
    *peak = *last = NAN;
    const double *lr = c->step_lr ? c->step_lr : c->lr;
    size_t n = c->step_lr ? c->steps : c->epochs;
    for (size_t i = 0; lr && i < n; i++)
        if (isfinite(lr[i])) {
            if (!(lr[i] <= *peak))
                *peak = lr[i];
            *last = lr[i];
        }
    if (!isfinite(*peak) && c->setup.lr > 0)
        *peak = *last = c->setup.lr;
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

/* "ln 10 = 2.303" style text for a reference loss. */
static void chance_text(char *buf, size_t n, double chance)
{
    double k = exp(chance);
    if (fabs(k - round(k)) < 1e-4 * k && k >= 2)
        snprintf(buf, n, "ln %.0f = %.4g", round(k), chance);
    else
        snprintf(buf, n, "%.4g", chance);
}

/* A command the user can paste: "`nnx run exp.nnx NAME --set a --set b`",
 * or only the --set flags when the source is unknown.  `sets` is a printf
 * format producing "optimizer.lr=1e-4|epochs=3" ('|' separates settings). */
static void command(char *buf, size_t n, const nnx_curves *c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void command(char *buf, size_t n, const nnx_curves *c, const char *fmt, ...)
{
    char sets[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sets, sizeof sets, fmt, ap);
    va_end(ap);
    size_t len = 0;
    if (c->setup.source)
        len = (size_t)snprintf(buf, n, "`nnx run %s%s%s", c->setup.source,
                               c->setup.experiment ? " " : "",
                               c->setup.experiment ? c->setup.experiment : "");
    else
        len = (size_t)snprintf(buf, n, "`nnx run ...");
    for (char *tok = sets; tok && *tok && len < n;) {
        char *bar = strchr(tok, '|');
        if (bar)
            *bar = '\0';
        len += (size_t)snprintf(buf + len, n - len, " --set %s", tok);
        tok = bar ? bar + 1 : NULL;
    }
    if (len < n)
        snprintf(buf + len, n - len, "`");
}

/* What the experiment regularises with, for advice: "dropout (now 0.2)" or
 * "dropout (the network has none)"; the same for weight decay. */
static void dropout_text(char *buf, size_t n, const nnx_curves *c, const char *more)
{
    if (c->setup.dropout > 0)
        snprintf(buf, n, "%s dropout (now %.2g)", more, c->setup.dropout);
    else
        snprintf(buf, n, "dropout%s", c->setup.known ? " (the network has none)" : "");
}

static void decay_text(char *buf, size_t n, const nnx_curves *c, const char *more)
{
    if (c->setup.weight_decay > 0)
        snprintf(buf, n, "%s weight decay (now %.2g)", more, c->setup.weight_decay);
    else if (c->setup.known)
        snprintf(buf, n, "weight decay (now 0: try optimizer.weight_decay = 1e-4)");
    else
        snprintf(buf, n, "weight decay");
}

/* ---- the rules ------------------------------------------------------- */

/* A step whose loss blew far past the reference inside an epoch; -1 if none. */
static long exploded_step(const nnx_curves *c, double ref)
{
    if (!c->step_loss || c->steps == 0)
        return -1;
    double base = isfinite(ref) ? ref : 0;
    if (isfinite(c->step_loss[0]) && c->step_loss[0] > base)
        base = c->step_loss[0];
    if (!(base > 0))
        return -1;
    for (size_t i = 1; i < c->steps; i++)
        if (isfinite(c->step_loss[i]) && c->step_loss[i] > NNX_DIAG_STEP_EXPLODE * base)
            return (long)i;
    return -1;
}

/* NaN/inf or an exploding train loss (per epoch or per step), or the run's own verdict. */
static bool rule_diverged(const nnx_curves *c, nnx_findings *out)
{
    int epoch = 0;
    long step = -1;
    const char *how = NULL;
    double before = NAN, at = NAN, ref = ref_loss(c);

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
        long s = exploded_step(c, ref);
        if (s >= 0) {
            step = s + 1;
            epoch = c->step_epoch && isfinite(c->step_epoch[s]) ? (int)c->step_epoch[s] : 0;
            before = c->step_loss[0];
            at = c->step_loss[s];
            how = "exploded inside the epoch";
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
    if (step > 0 && c->step_lr && isfinite(c->step_lr[step - 1]))
        lr = c->step_lr[step - 1];
    if (!isfinite(lr) && c->lr && epoch >= 1 && (size_t)epoch <= c->epochs)
        lr = c->lr[epoch - 1];
    if (!isfinite(lr)) {
        double last;
        lr_used(c, &lr, &last);
    }

    char where[64] = "", from[64] = "", lrtext[48] = "", after[200] = "", cmd[320] = "";
    if (epoch)
        snprintf(where, sizeof where, " at epoch %d", epoch);
    if (step > 0)
        snprintf(where + strlen(where), sizeof where - strlen(where), " (step %ld)", step);
    if (isfinite(before) && isfinite(at))
        snprintf(from, sizeof from, " from %.4g to %.4g", before, at);
    if (isfinite(lr))
        snprintf(lrtext, sizeof lrtext, " (%.3g)", lr);
    /* A run that survived the explosion: where did it end up? */
    double last = c->train_loss[c->epochs - 1];
    if (isfinite(at) && isfinite(last) && isfinite(ref) && (size_t)epoch < c->epochs) {
        char chance[48];
        chance_text(chance, sizeof chance, ref);
        if (last >= NNX_DIAG_STUCK_FRAC * ref && last <= 1.5 * ref)
            snprintf(after, sizeof after, " The run went on, but its train loss stayed at the "
                     "chance level (%.4g at the end; %s): the weights never recovered.", last, chance);
        else if (last > 1.5 * ref)
            snprintf(after, sizeof after, " The run went on, but its train loss ended at %.4g, "
                     "%.0fx the chance level (%s).", last, last / ref, chance);
    }
    if (isfinite(lr))
        command(cmd, sizeof cmd, c, "optimizer.lr=%.3g|epochs=3", lr / 10);
    nnx_finding *f = add_finding(out, NNX_RULE_DIVERGED, NNX_SEV_ERROR, NNX_CURVE_LOSS, epoch,
        "training diverged%s: the %s loss %s%s.%s The learning rate%s is too large: try 10x "
        "smaller%s%s, or add warmup.",
        where, step > 0 ? "step" : "train", how, from, after, lrtext, cmd[0] ? ": " : "", cmd);
    if (epoch)
        evidence(f, "epoch", epoch);
    if (step > 0)
        evidence(f, "step", (double)step);
    evidence(f, "loss_before", before);
    evidence(f, "loss_at", at);
    if (isfinite(lr))
        evidence(f, "lr", lr);
    if (isfinite(ref))
        evidence(f, "last_train_loss", last);
    return true;
}

/* Is y falling steadily over [from, to)?  (a line with R² >= IMPROVE_R2, down) */
static bool steady_fall(const double *y, size_t from, size_t to, linfit *fit)
{
    *fit = fit_line(y, from, to);
    return to - from >= 3 && fit->slope < 0 && fit->r2 >= NNX_DIAG_IMPROVE_R2;
}

/* The train loss parked at the level of a guess.  Returns true when it fired
 * (as stuck-at-chance, or as lr-too-small when the lr was tiny). */
static bool rule_stuck(const nnx_curves *c, nnx_findings *out)
{
    double ref = ref_loss(c);
    size_t n = c->epochs;
    if (!isfinite(ref) || n < 3)
        return false;
    size_t s = n;   /* the first epoch from which every train loss stayed high */
    while (s > 0 && c->train_loss[s - 1] >= NNX_DIAG_STUCK_FRAC * ref)
        s--;
    if (n - s < 2 || 2 * (n - s) < n)
        return false;
    linfit fit;
    double level = mean_of(c->train_loss, s, n);
    if (steady_fall(c->train_loss, s, n, &fit) && -fit.slope / level >= 0.002)
        return false;   /* slowly but surely learning: the trend rules judge it */
    double peak, lastlr;
    lr_used(c, &peak, &lastlr);
    char chance[48], cmd[320] = "", lrtext[64] = "";
    chance_text(chance, sizeof chance, ref);
    if (isfinite(peak))
        snprintf(lrtext, sizeof lrtext, " (%.3g)", peak);
    double v = c->valid_loss ? c->valid_loss[n - 1] : NAN;
    char vtext[64] = "";
    if (isfinite(v))
        snprintf(vtext, sizeof vtext, ", valid %.4g", v);
    nnx_finding *f;
    if (isfinite(peak) && peak <= NNX_DIAG_TINY_LR) {
        command(cmd, sizeof cmd, c, "optimizer.lr=%.3g|epochs=3", peak * 100);
        f = add_finding(out, NNX_RULE_LR_TOO_SMALL, NNX_SEV_WARNING, NNX_CURVE_LOSS, (int)s + 1,
            "the train loss has hardly moved from the chance level (%s) in %zu epochs: %.4g "
            "-> %.4g%s. The learning rate%s is far too small to move the weights: try 100x, "
            "%s.",
            chance, n, c->train_loss[0], c->train_loss[n - 1], vtext, lrtext, cmd);
    } else {
        if (isfinite(peak))
            command(cmd, sizeof cmd, c, "optimizer.lr=%.3g|epochs=3", peak / 100);
        f = add_finding(out, NNX_RULE_STUCK, NNX_SEV_WARNING, NNX_CURVE_LOSS, (int)s + 1,
            "the train loss has sat at the chance level (%s) since epoch %zu (%.4g at the end%s): "
            "the network predicts no better than the class frequencies. The learning rate%s is "
            "likely far too large, or its units died (relu outputs stuck at 0). Try %s%s; if "
            "the loss still sits there, use leaky_relu or swish, or check the labels.",
            chance, s + 1, c->train_loss[n - 1], vtext, lrtext,
            cmd[0] ? cmd : "a 100x smaller lr", cmd[0] ? " (a 100x smaller lr)" : "");
    }
    evidence(f, "since_epoch", (double)(s + 1));
    evidence(f, "mean_train_loss", level);
    evidence(f, "reference_loss", ref);
    if (isfinite(peak))
        evidence(f, "lr", peak);
    return true;
}

/* Still falling at the end: too few epochs, or (slow and far from done) a small lr. */
static bool rule_still_falling(const nnx_curves *c, nnx_findings *out)
{
    size_t n = c->epochs, from = trend_from(n);
    if (n < 3)
        return false;
    double ref = ref_loss(c);
    bool use_valid = c->valid_loss && all_finite(c->valid_loss, from, n);
    const double *y = use_valid ? c->valid_loss : c->train_loss;
    if (!all_finite(c->train_loss, from, n))
        return false;
    linfit fit, tfit, fit_v;
    bool steady = steady_fall(y, from, n, &fit);
    double level = mean_of(y, from, n), drop = -fit.slope / level;
    double total = y[from] - y[n - 1];
    steady = steady && level > 0 && drop >= NNX_DIAG_IMPROVE_DROP && y[n - 1] < y[n - 2] &&
             !(isfinite(ref) && total < NNX_DIAG_IMPROVE_ABS * ref);
    /* or creeping: a slow, straight fall over the last half, still far from a fit */
    size_t half = n / 2;
    linfit creep = fit_line(c->train_loss, half, n);
    double clevel = mean_of(c->train_loss, half, n);
    bool creeping = n - half >= 3 && isfinite(ref) && creep.slope < 0 &&
                    creep.r2 >= NNX_DIAG_CREEP_R2 && -creep.slope / clevel >= NNX_DIAG_CREEP_DROP &&
                    clevel >= NNX_DIAG_SLOW_LEVEL * ref &&
                    (!use_valid || steady_fall(c->valid_loss, half, n, &fit_v));
    /* a fall that creeps because the schedule has decayed the lr is its tail, not a small lr */
    double peak, lastlr;
    lr_used(c, &peak, &lastlr);
    if (isfinite(peak) && isfinite(lastlr) && lastlr < 0.5 * peak)
        creeping = false;
    if (!steady && !creeping)
        return false;
    tfit = fit_line(c->train_loss, from, n);
    if (!(tfit.slope < 0))
        return false;
    double tlevel = mean_of(c->train_loss, from, n), tdrop = -tfit.slope / tlevel;
    double tend = c->train_loss[n - 1];
    /* linear (not flattening): the later half falls about as fast as the earlier */
    size_t mid = from + (n - from - 1) / 2;
    linfit early = fit_line(c->train_loss, from, mid + 1), late = fit_line(c->train_loss, mid, n);
    bool linear = early.slope < 0 && late.slope / early.slope >= 0.6;
    /* near chance after all its epochs: the lr, not the length, holds it back
     * (a run that has come well down from chance and still falls was only cut short) */
    bool high = isfinite(ref) && tend >= NNX_DIAG_NEAR_CHANCE * ref;
    bool slow = creeping || (linear && tdrop < NNX_DIAG_SLOW_DROP);
    const char *name = use_valid ? "valid" : "train";
    char cmd[320] = "", cmd2[320] = "", lrtext[96] = "";
    if (isfinite(peak))
        snprintf(lrtext, sizeof lrtext, isfinite(lastlr) && lastlr < 0.5 * peak
                 ? " (peak %.3g, %.3g at the end)" : " (%.3g)", peak, lastlr);
    nnx_finding *f;
    if (high || slow) {
        if (isfinite(peak))
            command(cmd, sizeof cmd, c, "optimizer.lr=%.3g|epochs=3", peak * 10);
        command(cmd2, sizeof cmd2, c, "epochs=%zu", 3 * n);
        f = add_finding(out, NNX_RULE_LR_TOO_SMALL, NNX_SEV_WARNING, NNX_CURVE_LOSS, (int)n,
            "the train loss is still falling slowly and steadily: %.4g -> %.4g over epochs "
            "%zu-%zu (%.1f%% of its level per epoch%s)%s. The learning rate%s looks too small. "
            "%s%s tells: if its loss after 3 epochs is well below this run's (%.4g at epoch "
            "%zu), the lr was the limit; if not, train longer (%s).",
            c->train_loss[from], tend, from + 1, n, 100 * tdrop, linear ? ", on a straight line" : "",
            high ? ", still far from a fit" : "", lrtext, cmd[0] ? cmd : "A 10x larger lr",
            cmd[0] ? "" : " for 3 epochs", c->train_loss[n < 3 ? n - 1 : 2], n < 3 ? n : 3, cmd2);
    } else {
        size_t k = n < 3 ? n : 3;
        command(cmd, sizeof cmd, c, "epochs=%zu", 2 * n);
        char tell[600] = "";
        if (linear && isfinite(peak)) {
            command(cmd2, sizeof cmd2, c, "optimizer.lr=%.3g|epochs=%zu", peak * 3, k);
            snprintf(tell, sizeof tell, " The fall is still straight, so the lr%s may be small "
                     "too: if %s ends below this run's epoch-%zu loss (%.4g), it is.",
                     lrtext, cmd2, k, c->train_loss[k - 1]);
        }
        f = add_finding(out, NNX_RULE_STILL_IMPROVING, NNX_SEV_WARNING, NNX_CURVE_LOSS, (int)n,
            "the %s loss is still falling at the last epoch: %.4g -> %.4g over epochs %zu-%zu "
            "(%.1f%% of its level per epoch), and the train loss with it. The run stopped too "
            "early: train longer, %s.%s",
            name, y[from], y[n - 1], from + 1, n, 100 * drop, cmd, tell);
    }
    evidence(f, "from_epoch", (double)(from + 1));
    evidence(f, "to_epoch", (double)n);
    evidence(f, "relative_drop_per_epoch", drop);
    evidence(f, "r2", fit.r2);
    evidence(f, "train_relative_drop_per_epoch", tdrop);
    if (isfinite(ref))
        evidence(f, "train_loss_vs_reference", tend / ref);
    if (isfinite(peak))
        evidence(f, "lr", peak);
    return true;
}

/* Advice for noise in the updates: which of lr and batch, and the run that tells. */
static void noise_advice(char *buf, size_t n, const nnx_curves *c)
{
    double peak, last;
    lr_used(c, &peak, &last);
    int b = c->setup.batch;
    char lr_cmd[320] = "", b_cmd[320] = "";
    if (isfinite(peak))
        command(lr_cmd, sizeof lr_cmd, c, "optimizer.lr=%.3g|epochs=3", peak / 10);
    if (b > 0)
        command(b_cmd, sizeof b_cmd, c, "batch=%d|epochs=3", 4 * b);
    if (b > 0 && b <= 8 && isfinite(peak))
        snprintf(buf, n, "The batch (%d rows) is probably too small: try %s; a 10x lower lr "
                 "(now %.3g), %s, is the other cure.", b, b_cmd, peak, lr_cmd);
    else if (b > 0 && b <= 8)
        snprintf(buf, n, "The batch (%d rows) is probably too small: try %s.", b, b_cmd);
    else if (isfinite(peak) && b > 0)
        snprintf(buf, n, "The learning rate (now %.3g) is probably too large: try %s; %s "
                 "says whether a larger batch calms it as well.", peak, lr_cmd, b_cmd);
    else if (isfinite(peak))
        snprintf(buf, n, "The learning rate (now %.3g) is probably too large: try %s.", peak,
                 lr_cmd);
    else
        snprintf(buf, n, "Try a lower lr or a larger batch.");
}

/* Step losses scattered beyond what sampling a batch explains. */
static void rule_noisy_steps(const nnx_curves *c, nnx_findings *out)
{
    if (!c->step_loss || !c->step_loss_sd || c->setup.batch <= 0)
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
    size_t half = NNX_DIAG_NOISE_WINDOW / 2;
    double seen = 0, expected = 0;
    size_t used = 0;
    for (size_t i = from; i < n; i++) {
        size_t a = i >= from + half ? i - half : from;
        size_t b = i + half + 1 <= n ? i + half + 1 : n;
        if (b - a < 2 || !all_finite(c->step_loss, a, b) || !isfinite(c->step_loss_sd[i]))
            continue;
        double k = (double)(b - a), trend = mean_of(c->step_loss, a, b);
        double r = c->step_loss[i] - trend;
        seen += r * r * k / (k - 1);   /* the point is part of its own average */
        expected += c->step_loss_sd[i] * c->step_loss_sd[i] / c->setup.batch;
        used++;
    }
    if (used < NNX_DIAG_NOISE_MIN_STEPS || !(expected > 0))
        return;
    double ratio = sqrt(seen / expected);
    if (ratio < NNX_DIAG_NOISE_EXCESS)
        return;
    char advice[700];
    noise_advice(advice, sizeof advice, c);
    nnx_finding *f = add_finding(out, NNX_RULE_NOISY_STEPS, NNX_SEV_WARNING, NNX_CURVE_STEPS, 0,
        "the train loss jumps from batch to batch %.1fx more than sampling a batch of %d rows "
        "explains (std %.3g around a %d-step moving average, %.3g expected, steps %zu-%zu): "
        "the updates shake the weights. %s",
        ratio, c->setup.batch, sqrt(seen / used), NNX_DIAG_NOISE_WINDOW, sqrt(expected / used),
        from + 1, n, advice);
    evidence(f, "noise_ratio", ratio);
    evidence(f, "measured_std", sqrt(seen / used));
    evidence(f, "sampling_std", sqrt(expected / used));
    evidence(f, "batch", c->setup.batch);
    evidence(f, "from_step", (double)(from + 1));
    evidence(f, "steps", (double)used);
}

/* Over the trend window, is the train loss held above the valid loss (while no
 * longer falling fast)?  Fills the means. */
static bool train_above_valid(const nnx_curves *c, double *tm, double *vm)
{
    size_t n = c->epochs, from = trend_from(n);
    double ref = ref_loss(c);
    if (n < 3 || !c->valid_loss || !isfinite(ref) || !all_finite(c->valid_loss, from, n) ||
        !all_finite(c->train_loss, from, n))
        return false;
    *tm = mean_of(c->train_loss, from, n);
    *vm = mean_of(c->valid_loss, from, n);
    linfit t = fit_line(c->train_loss, from, n);
    return *tm >= NNX_DIAG_ABOVE_RATIO * *vm && *tm - *vm >= NNX_DIAG_ABOVE_ABS * ref &&
           -t.slope / *tm < NNX_DIAG_ABOVE_MAX_FALL;
}

/* Valid loss going up and down, or the train loss held above it by noisy
 * updates.  True when the valid loss zig-zags. */
static bool rule_noisy_epochs(const nnx_curves *c, nnx_findings *out)
{
    if (!c->valid_loss)
        return false;
    const double *v = c->valid_loss;
    double ref = ref_loss(c);
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
    char advice[700];
    if (m >= NNX_DIAG_ZIGZAG_MIN_EPOCHS) {
        level /= (double)m;
        double turn_frac = (double)turns / (double)(m - 2);
        double step = change / (double)(m - 1), rel = step / level;
        if (level > 0 && turn_frac >= NNX_DIAG_ZIGZAG_TURNS && rel >= NNX_DIAG_ZIGZAG_REL &&
            (!isfinite(ref) || step >= NNX_DIAG_ZIGZAG_ABS * ref)) {
            noise_advice(advice, sizeof advice, c);
            nnx_finding *f = add_finding(out, NNX_RULE_NOISY_EPOCHS, NNX_SEV_WARNING,
                NNX_CURVE_LOSS, 0,
                "the valid loss zig-zags from epoch to epoch: it turns %zu times in %zu epochs, "
                "moving %.0f%% of its level (%.3g) per epoch on average. %s",
                turns, m, 100 * rel, step, advice);
            evidence(f, "turns", (double)turns);
            evidence(f, "turn_fraction", turn_frac);
            evidence(f, "relative_change_per_epoch", rel);
            evidence(f, "epochs", (double)m);
            return true;
        }
    }
    double tm, vm;
    if (c->setup.dropout < NNX_DIAG_HEAVY_DROPOUT && train_above_valid(c, &tm, &vm)) {
        noise_advice(advice, sizeof advice, c);
        char drop[96] = "";
        if (c->setup.dropout > 0)
            snprintf(drop, sizeof drop, " (dropout %.2g adds to it)", c->setup.dropout);
        size_t from = trend_from(c->epochs);
        nnx_finding *f = add_finding(out, NNX_RULE_NOISY_EPOCHS, NNX_SEV_WARNING, NNX_CURVE_LOSS,
            (int)c->epochs,
            "the train loss stays above the valid loss: %.4g vs %.4g on average over epochs "
            "%zu-%zu, and no longer falls. The weights the updates pass through fit worse than "
            "the ones each epoch ends on: the updates are too noisy%s. %s",
            tm, vm, from + 1, c->epochs, drop, advice);
        evidence(f, "train_loss_mean", tm);
        evidence(f, "valid_loss_mean", vm);
        evidence(f, "ratio", tm / vm);
        if (c->setup.batch > 0)
            evidence(f, "batch", c->setup.batch);
    }
    return false;
}

/* Heavy dropout holding the train loss up, or heavy weight decay holding both up. */
static bool rule_over_regularised(const nnx_curves *c, nnx_findings *out)
{
    size_t n = c->epochs, from = trend_from(n);
    double ref = ref_loss(c), tm, vm;
    char cmd[320];
    if (c->setup.dropout >= NNX_DIAG_HEAVY_DROPOUT && train_above_valid(c, &tm, &vm)) {
        nnx_finding *f = add_finding(out, NNX_RULE_OVER_REGULARISED, NNX_SEV_WARNING,
            NNX_CURVE_LOSS, (int)n,
            "the train loss, measured with dropout on, stays above the valid loss: %.4g vs %.4g "
            "over epochs %zu-%zu. Dropout %.2g throws away so much that the network cannot fit "
            "its own rows, and the valid loss is held up with it. Use less dropout (now %.2g; "
            "0.1-0.3 is usual).",
            tm, vm, from + 1, n, c->setup.dropout, c->setup.dropout);
        evidence(f, "dropout", c->setup.dropout);
        evidence(f, "train_loss_mean", tm);
        evidence(f, "valid_loss_mean", vm);
        return true;
    }
    if (c->setup.weight_decay < NNX_DIAG_HEAVY_DECAY || !isfinite(ref) || n < 3 || !c->valid_loss ||
        !all_finite(c->train_loss, from, n) || !all_finite(c->valid_loss, from, n))
        return false;
    tm = mean_of(c->train_loss, from, n);
    vm = mean_of(c->valid_loss, from, n);
    linfit t = fit_line(c->train_loss, from, n);
    if (tm < NNX_DIAG_DECAY_LEVEL * ref || tm < 0.9 * vm || -t.slope / tm >= NNX_DIAG_ABOVE_MAX_FALL)
        return false;
    command(cmd, sizeof cmd, c, "optimizer.weight_decay=%.3g", c->setup.weight_decay / 10);
    nnx_finding *f = add_finding(out, NNX_RULE_OVER_REGULARISED, NNX_SEV_WARNING, NNX_CURVE_LOSS,
        (int)n,
        "the train loss has flattened at %.4g (%.0f%% of the chance level), no lower than the "
        "valid loss (%.4g): the network cannot fit even its own rows, and weight decay %.3g "
        "holds its weights down. Use less weight decay (now %.3g): %s.",
        tm, 100 * tm / ref, vm, c->setup.weight_decay, c->setup.weight_decay, cmd);
    evidence(f, "weight_decay", c->setup.weight_decay);
    evidence(f, "train_loss_mean", tm);
    evidence(f, "valid_loss_mean", vm);
    return true;
}

/* Valid loss climbing while train loss falls, or a wide train/valid gap. */
static void rule_overfitting(const nnx_curves *c, nnx_findings *out)
{
    if (!c->valid_loss)
        return;
    size_t n = c->epochs;
    long last = last_finite(c->valid_loss, n);
    if (last < 0)
        return;
    double ref = ref_loss(c);
    /* the 3-epoch average, so one low epoch is not a bottom */
    double sm[512];
    size_t m = (size_t)last + 1 < 512 ? (size_t)last + 1 : 512;
    for (size_t i = 0; i < m; i++) {
        double s = 0;
        int k = 0;
        for (size_t j = i ? i - 1 : 0; j <= i + 1 && j < m; j++)
            if (isfinite(c->valid_loss[j]))
                s += c->valid_loss[j], k++;
        sm[i] = k ? s / k : NAN;
    }
    long b = argmin_finite(sm, m);
    if (b < 0)
        return;
    size_t tail = (size_t)(last - b) < 3 ? (size_t)(last - b) : 3;
    double vb = sm[b], vl = tail ? mean_of(c->valid_loss, (size_t)last + 1 - tail, (size_t)last + 1)
                                 : c->valid_loss[last];
    double tb = c->train_loss[b], tl = c->train_loss[last];
    double rise = vb > 0 ? vl / vb - 1 : 0;
    bool large = !isfinite(ref) || vl - vb >= NNX_DIAG_OVERFIT_MIN_RISE * ref;
    char drop[96], decay[96];
    dropout_text(drop, sizeof drop, c, "more");
    decay_text(decay, sizeof decay, c, "more");
    if (last - b >= NNX_DIAG_OVERFIT_EPOCHS && tail && rise >= NNX_DIAG_OVERFIT_RISE && large &&
        all_finite(c->valid_loss, (size_t)last + 1 - tail, (size_t)last + 1) &&
        tl <= tb * (1 - NNX_DIAG_OVERFIT_TRAIN_DROP)) {
        nnx_finding *f = add_finding(out, NNX_RULE_OVERFITTING, NNX_SEV_WARNING, NNX_CURVE_LOSS,
            (int)b + 1,
            "the valid loss bottomed near epoch %ld (%.4g, 3-epoch average) and rose for %ld "
            "epochs to %.4g (+%.0f%%, the last %zu epochs' average) while the train loss kept "
            "falling (%.4g -> %.4g): the network is overfitting. Try %s or %s, or stop near "
            "epoch %ld.",
            b + 1, vb, last - b, vl, 100 * rise, tail, tb, tl, drop, decay, b + 1);
        evidence(f, "best_epoch", (double)(b + 1));
        evidence(f, "best_valid_loss", vb);
        evidence(f, "last_epoch", (double)(last + 1));
        evidence(f, "last_valid_loss", vl);
        evidence(f, "valid_rise", rise);
        evidence(f, "train_loss_at_best", tb);
        evidence(f, "train_loss_last", tl);
        return;
    }
    size_t from = trend_from(n);
    bool settled = all_finite(c->valid_loss, from, n) &&
                   fit_line(c->valid_loss, from, n).slope >= -0.005 * mean_of(c->valid_loss, from, n);
    double vend = c->valid_loss[last];
    if (tl > 0 && vend >= NNX_DIAG_GAP_RATIO * tl && settled &&
        (!isfinite(ref) || vend - tl >= NNX_DIAG_GAP_MIN * ref)) {
        nnx_finding *f = add_finding(out, NNX_RULE_OVERFITTING, NNX_SEV_WARNING, NNX_CURVE_LOSS,
            (int)last + 1,
            "the valid loss ends %.1fx the train loss (%.4g vs %.4g at epoch %ld) and no longer "
            "falls: the network fits its training rows far better than unseen ones "
            "(overfitting). Try %s or %s.",
            vend / tl, vend, tl, last + 1, drop, decay);
        evidence(f, "gap_ratio", vend / tl);
        evidence(f, "last_epoch", (double)(last + 1));
        evidence(f, "last_valid_loss", vend);
        evidence(f, "train_loss_last", tl);
    }
}

/* Both losses flat, high and close, from a network too small to memorise its rows. */
static void rule_underfitting(const nnx_curves *c, nnx_findings *out)
{
    double ref = ref_loss(c);
    size_t n = c->epochs, from = trend_from(n);
    if (!isfinite(ref) || n < 4 || !all_finite(c->train_loss, from, n))
        return;
    if (c->setup.parameters > 0 && c->setup.train_rows > 0 &&
        c->setup.parameters >= c->setup.train_rows)
        return;   /* it could memorise its rows: a high plateau is the data's noise floor */
    /* several linear models' worth of parameters is not small for the
     * problem: a high plateau there is the data's noise floor too */
    if (c->setup.parameters > 0 && c->setup.features > 0 && c->setup.classes >= 2 &&
        c->setup.parameters >= NNX_DIAG_UNDERFIT_LINEAR * (double)(c->setup.features + 1) * c->setup.classes)
        return;
    double t = c->train_loss[n - 1];
    double v = c->valid_loss ? c->valid_loss[n - 1] : NAN;
    double frac = t / ref, level = mean_of(c->train_loss, from, n);
    linfit fit = fit_line(c->train_loss, from, n);
    if (frac < NNX_DIAG_UNDERFIT_FRAC || -fit.slope / level >= NNX_DIAG_FLAT_DROP)
        return;
    if (isfinite(v) && fabs(v - t) > NNX_DIAG_UNDERFIT_CLOSE * t)
        return;
    char chance[48], size[96] = "";
    chance_text(chance, sizeof chance, ref);
    if (c->setup.parameters > 0 && c->setup.train_rows > 0)
        snprintf(size, sizeof size, " (%ld parameters for %ld rows)", c->setup.parameters,
                 c->setup.train_rows);
    nnx_finding *f = add_finding(out, NNX_RULE_UNDERFITTING, NNX_SEV_WARNING, NNX_CURVE_LOSS,
        (int)n,
        "the train loss has flattened high: %.4g at the end%s%.4g, %.0f%% of the chance level "
        "(%s), flat over epochs %zu-%zu. The network%s is too small to fit the data: try a "
        "wider or deeper one. If a larger network ends no lower, this is the data's noise "
        "floor, not underfitting.",
        t, isfinite(v) ? ", valid " : "", isfinite(v) ? v : 0.0, 100 * frac, chance, from + 1, n,
        size);
    evidence(f, "train_loss", t);
    evidence(f, "valid_loss", v);
    evidence(f, "reference_loss", ref);
    evidence(f, "fraction_of_reference", frac);
    if (c->setup.parameters > 0)
        evidence(f, "parameters", (double)c->setup.parameters);
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
    long s = nnx_select_best(c->select_values, c->valid_loss, c->epochs, c->select_max);
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
    if (rise < NNX_DIAG_LOSS_RISE)
        return;
    size_t after = (size_t)b + 1;
    long s = nnx_select_best(c->select_values + after, c->valid_loss + after,
                             c->epochs - after, c->select_max);
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
    /* A run parked at chance level explains its noise and its flat curve. */
    if (!rule_stuck(c, out)) {
        /* A zig-zagging valid loss hides trends: no still-falling or rising
         * reading of it.  Heavy regularisation explains a slow fall. */
        bool zigzag = rule_noisy_epochs(c, out);
        rule_noisy_steps(c, out);
        bool regularised = rule_over_regularised(c, out);
        bool falling = !zigzag && !regularised && rule_still_falling(c, out);
        if (!zigzag)
            rule_overfitting(c, out);
        if (!falling && !regularised)
            rule_underfitting(c, out);
    }
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
