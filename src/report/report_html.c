/* report_html.c — one self-contained HTML page (inline CSS and SVG) for a run, search or ensemble. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/report.h"
#include "report/report_html.h"
#include "report/report_model.h"
#include "report/report_search.h"
#include "report/svg_chart.h"

const char report_page_css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;margin:0;"
    "background:#f6f7f9}\n"
    "main{max-width:1160px;margin:0 auto;padding:18px 24px 40px}\n"
    "h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd;"
    "padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}\n"
    ".sub{color:#666;margin:0 0 10px}\n"
    "table{border-collapse:collapse;background:#fff;font-variant-numeric:tabular-nums}\n"
    "th,td{border:1px solid #e1e3e8;padding:3px 8px;text-align:right}th{background:#eef0f4}\n"
    "td.name,th.name{text-align:left}\n"
    "tr.winner td{background:#eaf6ea;font-weight:600}\n"
    /* as wide as the page, never wider; one line per row (long text cut, whole in the tooltip) */
    "table.leaderboard{width:100%;table-layout:fixed}\n"
    "table.leaderboard th{overflow-wrap:break-word;vertical-align:bottom;font-size:11.5px}\n"
    "table.leaderboard td,table.leaderboard th{padding:3px 5px}\n"
    "table.leaderboard td{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\n"
    "table.leaderboard td.base{color:#777;font-style:italic}\n"
    "tr.bad td{color:#999}\n"
    ".facts td:first-child{text-align:left;color:#555}\n"
    ".row{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap;margin:10px 0}\n"
    ".grid{display:flex;gap:12px;flex-wrap:wrap}\n"
    ".chart{background:#fff;border:1px solid #e1e3e8;border-radius:4px}\n"
    ".chart .grid{stroke:#eceef2;stroke-width:1}\n"
    ".chart .frame{fill:none;stroke:#c9ccd3}\n"
    ".chart .tick{font-size:10px;fill:#666}.chart .axis{font-size:11px;fill:#444}\n"
    ".chart .ctitle{font-size:13px;font-weight:600;fill:#222}\n"
    ".chart .legend{font-size:11px}\n"
    ".chart .marklabel{font-size:10px;paint-order:stroke;stroke:#fff;stroke-width:3px}\n"
    ".chart .mark{stroke-width:1.2;stroke-dasharray:3 3}\n"
    ".findings{flex:1;min-width:280px;max-width:560px}\n"
    ".finding{background:#fff;border:1px solid #e1e3e8;border-left:5px solid #999;border-radius:4px;"
    "padding:6px 10px;margin:0 0 8px}\n"
    ".finding.error{border-left-color:#d62728}.finding.warning{border-left-color:#ff9f0e}"
    ".finding.info{border-left-color:#1f77b4}\n"
    ".finding .rule{font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em}\n"
    ".finding p{margin:3px 0}.finding .evidence{font-size:11px;color:#666}\n"
    ".healthy{color:#2a7a2a}.missing{color:#a33}\n"
    "code{background:#eef0f4;padding:0 3px;border-radius:3px}\n"
    "table.settings td{text-align:left;font-family:ui-monospace,monospace;font-size:12px;"
    "overflow-wrap:anywhere}\n"
    "table.settings tr.differs td{background:#fff4d6}table.settings tr.differs td.name{font-weight:600}\n"
    ".swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}\n";

void report_fmt_num(char *buf, size_t n, double v)
{
    if (isnan(v))
        snprintf(buf, n, "–");
    else
        snprintf(buf, n, "%.4g", v);
}

/* A numeric cell of a table: the number written compactly, text as is. */
static void cell_out(FILE *out, const char *cell)
{
    char *end;
    double v = strtod(cell, &end);
    char buf[48];
    if (cell[0] && !*end && isfinite(v)) {
        report_fmt_num(buf, sizeof buf, v);
        fputs(buf, out);
    } else {
        html_escape(out, cell[0] ? cell : "–");
    }
}

void report_finding_cards(FILE *out, const nnx_findings *f, nnx_curve_kind kind)
{
    for (size_t i = 0; i < f->n; i++) {
        const nnx_finding *x = &f->items[i];
        if (x->curve != kind)
            continue;
        fprintf(out, "<div class=\"finding %s\" data-rule=\"%s\"><div class=\"rule\">%s · %s</div><p>",
                nnx_severity_name(x->severity), nnx_rule_name(x->rule),
                nnx_severity_name(x->severity), nnx_rule_name(x->rule));
        html_escape(out, x->message);
        fputs("</p><div class=\"evidence\">", out);
        for (int k = 0; k < x->nevidence; k++) {
            char buf[48];
            report_fmt_num(buf, sizeof buf, x->evidence[k].value);
            fprintf(out, "%s%s = %s", k ? ", " : "", x->evidence[k].name, buf);
        }
        fputs("</div></div>\n", out);
    }
}

static bool has_findings(const nnx_findings *f, nnx_curve_kind kind)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->items[i].curve == kind)
            return true;
    return false;
}

static void mark_epochs(svg_chart *ch, int selected, int lowest)
{
    if (selected)
        svg_chart_mark(ch, selected, "selected", 2);
    if (lowest && lowest != selected)
        svg_chart_mark(ch, lowest, "lowest valid loss", 4);
}

/* The metric group a column belongs to: "accuracy" for valid.accuracy and
 * train.accuracy; the whole name for hook columns. */
static const char *metric_group(const char *name)
{
    if (!strncmp(name, "valid.", 6) || !strncmp(name, "train.", 6))
        return name + 6;
    return name;
}

static void facts_row(FILE *out, const char *label, const char *value)
{
    fprintf(out, "<tr><td>%s</td><td class=\"name\">", label);
    html_escape(out, value);
    fputs("</td></tr>\n", out);
}

/* Fractional epochs of the steps: step k of an epoch with m steps sits at
 * epoch - 1 + (k + 1) / m.  Caller frees. */
static double *step_positions(const nnx_curves *c)
{
    double *x = malloc((c->steps + 1) * sizeof *x);
    if (!x)
        return NULL;
    for (size_t i = 0; i < c->steps;) {
        size_t j = i;
        double e = c->step_epoch ? c->step_epoch[i] : NAN;
        while (j < c->steps && c->step_epoch && c->step_epoch[j] == e)
            j++;
        if (j == i) {          /* no epoch column: steps 1..n */
            for (size_t k = 0; k < c->steps; k++)
                x[k] = (double)(k + 1);
            break;
        }
        for (size_t k = i; k < j; k++)
            x[k] = e - 1 + (double)(k - i + 1) / (double)(j - i);
        i = j;
    }
    return x;
}

/* Centred moving average of the step losses (window 2h+1).  Caller frees. */
static double *moving_average(const double *y, size_t n, size_t h)
{
    double *m = malloc((n + 1) * sizeof *m);
    if (!m)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t a = i >= h ? i - h : 0, b = i + h + 1 < n ? i + h + 1 : n, k = 0;
        double s = 0;
        for (size_t j = a; j < b; j++)
            if (isfinite(y[j])) {
                s += y[j];
                k++;
            }
        m[i] = k ? s / (double)k : NAN;
    }
    return m;
}

/* One chart inside the open grid; when findings of kind `k1` or `k2` (-1 =
 * none) exist, the chart leaves the grid for a row with the cards beside it. */
static void chart_block(FILE *out, const svg_chart *ch, const nnx_findings *f, int k1, int k2,
                        const char *curve)
{
    bool cards = (k1 >= 0 && has_findings(f, (nnx_curve_kind)k1)) ||
                 (k2 >= 0 && has_findings(f, (nnx_curve_kind)k2));
    if (!cards) {
        svg_chart_write(out, ch);
        return;
    }
    fprintf(out, "</div>\n<div class=\"row\" data-curve=\"%s\">\n", curve);
    svg_chart_write(out, ch);
    fputs("<div class=\"findings\">\n", out);
    if (k1 >= 0)
        report_finding_cards(out, f, (nnx_curve_kind)k1);
    if (k2 >= 0)
        report_finding_cards(out, f, (nnx_curve_kind)k2);
    fputs("</div>\n</div>\n<div class=\"grid\">\n", out);
}

/* The run's resolved settings (summary.json "settings"), when it recorded them. */
static void settings_section(FILE *out, const nnx_run *run)
{
    const nnx_json *s = nnx_json_get(run->summary, "settings");
    if (!s || s->type != NNX_JSON_OBJECT || !s->n)
        return;
    nnx_exp_param *list = calloc(s->n, sizeof *list);
    if (!list)
        return;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].type == NNX_JSON_STRING) {
            list[n].path = s->keys[i];          /* borrowed, only read */
            list[n++].value = s->items[i].string;
        }
    const nnx_exp_param *lists[1] = { list };
    const char *labels[1] = { "value" };
    fputs("<h3>Settings</h3>\n", out);
    report_settings_table(out, lists, &n, labels, 1);
    free(list);
}

/* Everything about one run: facts, curves with the diagnosis beside them. */
static void run_body(FILE *out, const nnx_run *run)
{
    nnx_curves c;
    nnx_rt_error err = { { 0 } };
    if (nnx_run_curves(run, &c, &err) < 0) {
        fputs("<p class=\"missing\">", out);
        html_escape(out, err.msg);
        const char *msg = nnx_json_as_string(nnx_json_get(run->summary, "status_message"), NULL);
        if (msg && msg[0]) {
            fputs(" — ", out);
            html_escape(out, msg);
        }
        fputs("</p>\n", out);
        return;
    }
    nnx_findings f = { 0 };
    bool diagnosed = nnx_diagnose(&c, &f, &err) == 0;
    int sel = report_selected_epoch(run, &c), low = report_lowest_loss_epoch(&c);
    const double *epoch = nnx_table_column(&run->metrics, "epoch");

    /* facts */
    char buf[160];
    fputs("<div class=\"row\"><table class=\"facts\">\n", out);
    facts_row(out, "status", run->status);
    const char *msg = nnx_json_as_string(nnx_json_get(run->summary, "status_message"), "");
    if (msg[0])
        facts_row(out, "status message", msg);
    snprintf(buf, sizeof buf, "%zu", c.epochs);
    facts_row(out, "epochs", buf);
    snprintf(buf, sizeof buf, "%s(%s)", run->select_max ? "max" : "min", run->select_metric);
    facts_row(out, "select", buf);
    if (sel) {
        char v[48];
        report_fmt_num(v, sizeof v, c.select_values ? c.select_values[sel - 1] : NAN);
        snprintf(buf, sizeof buf, "epoch %d (%s = %s)", sel, run->select_metric, v);
        facts_row(out, "selected", buf);
    }
    if (low) {
        char v[48];
        report_fmt_num(v, sizeof v, c.valid_loss[low - 1]);
        snprintf(buf, sizeof buf, "epoch %d (%s)", low, v);
        facts_row(out, "lowest valid loss", buf);
    }
    const nnx_json *metrics = nnx_json_get(run->summary, "metrics");
    for (size_t i = 0; metrics && metrics->type == NNX_JSON_OBJECT && i < metrics->n; i++) {
        if (strncmp(metrics->keys[i], "test.", 5) != 0)
            continue;
        report_fmt_num(buf, sizeof buf, nnx_json_as_number(&metrics->items[i]));
        facts_row(out, metrics->keys[i], buf);
    }
    double total = nnx_json_as_number(nnx_json_get(nnx_json_get(run->summary, "timing"), "total_seconds"));
    if (isfinite(total)) {
        snprintf(buf, sizeof buf, "%.1f s", total);
        facts_row(out, "time", buf);
    }
    fputs("</table>\n<div class=\"findings\">\n", out);
    if (!diagnosed) {
        fputs("<p class=\"missing\">", out);
        html_escape(out, err.msg);
        fputs("</p>\n", out);
    } else if (f.n == 0) {
        fputs("<p class=\"healthy\">Diagnosis: no findings — the curves look healthy.</p>\n", out);
    } else {
        fprintf(out, "<p>Diagnosis: %zu finding%s, each shown beside the plot it speaks of.</p>\n",
                f.n, f.n == 1 ? "" : "s");
    }
    fputs("</div></div>\n", out);

    /* The charts flow in a grid; a chart the diagnosis speaks of gets a row
     * of its own with the findings beside it. */
    fputs("<div class=\"grid\">\n", out);
    svg_chart ch = { .title = "loss", .xlabel = "epoch", .integer_x = true };
    svg_chart_add(&ch, "train.loss", epoch, c.train_loss, c.epochs, 0);
    if (c.valid_loss)
        svg_chart_add(&ch, "valid.loss", epoch, c.valid_loss, c.epochs, 1);
    mark_epochs(&ch, sel, low);
    chart_block(out, &ch, &f, NNX_CURVE_LOSS, -1, "loss");

    /* metrics, grouped (valid.x with train.x), the selected one first */
    const nnx_table *m = &run->metrics;
    const char *groups[64];
    size_t ngroups = 0;
    const char *sel_group = metric_group(run->select_metric);
    if (nnx_table_find(m, run->select_metric) >= 0 && report_is_metric_column(run->select_metric))
        groups[ngroups++] = sel_group;
    for (size_t col = 0; col < m->ncols && ngroups < 64; col++) {
        if (!report_is_metric_column(m->names[col]))
            continue;
        const char *g = metric_group(m->names[col]);
        bool seen = false;
        for (size_t k = 0; k < ngroups; k++)
            seen |= !strcmp(groups[k], g);
        if (!seen)
            groups[ngroups++] = g;
    }
    for (size_t k = 0; k < ngroups; k++) {
        svg_chart mc = { .title = groups[k], .xlabel = "epoch", .integer_x = true };
        int color = 1;
        for (size_t col = 0; col < m->ncols; col++)
            if (report_is_metric_column(m->names[col]) && !strcmp(metric_group(m->names[col]), groups[k]))
                svg_chart_add(&mc, m->names[col], epoch, m->values + col * m->nrows, m->nrows,
                              !strncmp(m->names[col], "train.", 6) ? 0 : color++);
        if (mc.nseries == 1)
            mc.title = mc.series[0].name;
        mark_epochs(&mc, sel, low);
        /* the first group is the selected metric's: its findings go beside it */
        chart_block(out, &mc, &f, k == 0 ? NNX_CURVE_METRIC : -1, -1, "metric");
    }
    if (ngroups == 0 && has_findings(&f, NNX_CURVE_METRIC)) {
        fputs("</div>\n<div class=\"row\"><div class=\"findings\">\n", out);
        report_finding_cards(out, &f, NNX_CURVE_METRIC);
        fputs("</div></div>\n<div class=\"grid\">\n", out);
    }

    /* steps and the lr schedule */
    double *sx = c.steps ? step_positions(&c) : NULL;
    /* a window that grows with the run, so the trend shows through thousands of steps */
    size_t half = c.steps / 100 > NNX_DIAG_NOISE_WINDOW / 2 ? c.steps / 100 : NNX_DIAG_NOISE_WINDOW / 2;
    double *avg = c.steps ? moving_average(c.step_loss, c.steps, half) : NULL;
    if (sx && avg) {
        svg_chart sc = { .title = "train loss per batch", .xlabel = "epoch", .integer_x = true };
        svg_series *raw = svg_chart_add(&sc, "step loss", sx, c.step_loss, c.steps, 0);
        raw->faint = true;
        svg_chart_add(&sc, "moving average", sx, avg, c.steps, 3);
        chart_block(out, &sc, &f, NNX_CURVE_STEPS, -1, "steps");
    }
    const double *step_lr = run->has_steps ? nnx_table_column(&run->steps, "lr") : NULL;
    if (c.lr || (sx && step_lr)) {
        svg_chart lc = { .title = "learning rate", .xlabel = "epoch", .integer_x = true };
        if (sx && step_lr)
            svg_chart_add(&lc, "lr per step", sx, step_lr, c.steps, 5);
        else
            svg_chart_add(&lc, "lr", epoch, c.lr, c.epochs, 5);
        if (sel)
            svg_chart_mark(&lc, sel, "selected", 2);
        /* without a steps chart, step findings go beside the lr */
        chart_block(out, &lc, &f, NNX_CURVE_LR, sx && avg ? -1 : NNX_CURVE_STEPS, "lr");
    } else if (!(sx && avg) && has_findings(&f, NNX_CURVE_STEPS)) {
        fputs("</div>\n<div class=\"row\"><div class=\"findings\">\n", out);
        report_finding_cards(out, &f, NNX_CURVE_STEPS);
        fputs("</div></div>\n<div class=\"grid\">\n", out);
    }
    fputs("</div>\n", out);
    free(sx);
    free(avg);
    settings_section(out, run);
}

static void page_head(FILE *out, const nnx_rundir *d, const char *experiment)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>nnx report: ",
          out);
    html_escape(out, experiment[0] ? experiment : d->path);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", report_page_css);
    fputs("<h1>", out);
    html_escape(out, experiment[0] ? experiment : "(unnamed experiment)");
    fprintf(out, "</h1>\n<p class=\"sub\">%s · <code>", nnx_rundir_kind_name(d->kind));
    html_escape(out, d->path);
    fputs("</code>", out);
    const nnx_json *s = d->kind == NNX_RUNDIR_RUN ? d->run.summary : d->summary;
    const char *version = nnx_json_as_string(nnx_json_get(s, "nnx_version"), NULL);
    const char *source = nnx_json_as_string(nnx_json_get(s, "source"), NULL);
    if (source) {
        fputs(" · from <code>", out);
        html_escape(out, source);
        fputs("</code>", out);
    }
    if (version) {
        fputs(" · nnx ", out);
        html_escape(out, version);
    }
    fputs("</p>\n", out);
}

/* The rule names the diagnosis of a run finds, comma separated, into buf. */
static const char *rules_found(const nnx_run *run, char *buf, size_t n)
{
    nnx_curves c;
    nnx_findings f;
    buf[0] = '\0';
    if (nnx_run_curves(run, &c, NULL) < 0 || nnx_diagnose(&c, &f, NULL) < 0)
        return buf;
    for (size_t i = 0; i < f.n; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s%s", i ? ", " : "", nnx_rule_name(f.items[i].rule));
    }
    return buf;
}

/* A child's note for the tables: why it could not be read, or its status message. */
static const char *child_note(const nnx_rundir *d, size_t i)
{
    if (d->child_errors[i])
        return d->child_errors[i];
    return nnx_json_as_string(nnx_json_get(d->children[i].summary, "status_message"), "");
}

/* A parameter cell of trials.csv, or — where the trial's stage left the
 * path to the base experiment (an empty cell) — the value the trial used:
 * the batch it ran with, or its summary's resolved setting.  *base says
 * which; "" when neither is known. */
static const char *param_value(const nnx_rundir *d, size_t r, size_t col, char *buf, size_t n, bool *base)
{
    const char *cell = nnx_table_cell(&d->trials, r, col);
    *base = false;
    if (cell[0] || r >= d->nchildren)
        return cell;
    const nnx_json *s = d->children[r].summary;
    const char *path = d->trials.names[col];
    double batch = nnx_json_as_number(nnx_json_get(s, "batch"));
    if (!strcmp(path, "batch") && isfinite(batch)) {
        snprintf(buf, n, "%.0f", batch);
        *base = true;
        return buf;
    }
    const char *v = nnx_json_as_string(nnx_json_get(nnx_json_get(s, "settings"), path), NULL);
    *base = v != NULL;
    return v ? v : cell;
}

/* A staged search's stages, one chart each: the select value of the trial
 * standing for each of the stage's values, the kept one marked. */
static void stages_section(FILE *out, const nnx_rundir *d)
{
    const nnx_json *stages = nnx_json_get(d->summary, "stages");
    const nnx_table *t = &d->trials;
    if (!stages || stages->type != NNX_JSON_ARRAY || !stages->n || d->metric_col < 0)
        return;
    fputs("<h2>Stages</h2>\n<p class=\"sub\">Each stage tries its values with the values the stages "
          "before it kept; the value it keeps is marked.</p>\n<div class=\"grid\">\n", out);
    for (size_t k = 0; k < stages->n; k++) {
        const nnx_json *st = &stages->items[k];
        const nnx_json *names = nnx_json_get(st, "trials"), *values = nnx_json_get(st, "values");
        const char *winner = nnx_json_as_string(nnx_json_get(st, "winner"), "");
        size_t n = names && names->type == NNX_JSON_ARRAY ? names->n : 0;
        if (!n || n > 64)
            continue;
        double x[64], y[64], ky[64], order[64];
        char labels[64][40];
        const char *cats[64], *tips[64];
        bool numeric = true;
        for (size_t i = 0; i < n; i++) {
            const nnx_json *v = nnx_json_at(values, i);
            if (v && v->type == NNX_JSON_NUMBER)
                snprintf(labels[i], sizeof labels[i], "%.6g", v->number);
            else
                snprintf(labels[i], sizeof labels[i], "%s", nnx_json_as_string(v, "?"));
            numeric &= v && v->type == NNX_JSON_NUMBER;
            order[i] = v && v->type == NNX_JSON_NUMBER ? v->number : (double)i;
        }
        /* the values left to right in numeric order (epochs 20, 40, 80), else as written */
        for (size_t i = 0; i < n; i++) {
            size_t rank = 0;
            for (size_t q = 0; q < n; q++)
                rank += numeric ? (order[q] < order[i] || (order[q] == order[i] && q < i)) : q < i;
            x[i] = (double)rank;
            cats[rank] = labels[i];
        }
        for (size_t i = 0; i < n; i++) {
            const char *name = nnx_json_as_string(nnx_json_at(names, i), "");
            y[i] = ky[i] = NAN;
            tips[i] = name;
            for (size_t r = 0; r < t->nrows; r++)
                if (!strcmp(nnx_table_cell(t, r, 0), name))
                    y[i] = t->values[(size_t)d->metric_col * t->nrows + r];
            if (!strcmp(name, winner))
                ky[i] = y[i];
        }
        char title[160];
        snprintf(title, sizeof title, "stage %zu: %s", k + 1, nnx_json_as_string(nnx_json_get(st, "param"), "?"));
        svg_chart ch = { .title = title, .xlabel = nnx_json_as_string(nnx_json_get(st, "param"), ""),
                         .xcats = cats, .ncats = n };
        svg_series *s = svg_chart_add(&ch, d->select_metric, x, y, n, 0);
        if (s) {
            s->scatter = true;
            s->tips = tips;
        }
        s = svg_chart_add(&ch, "kept", x, ky, n, 2);
        if (s) {
            s->scatter = true;
            s->tips = tips;
        }
        fprintf(out, "<div data-stage=\"%zu\">", k + 1);
        svg_chart_write(out, &ch);
        fputs("</div>\n", out);
    }
    fputs("</div>\n", out);
}

static void search_body(FILE *out, const nnx_rundir *d)
{
    const nnx_table *t = &d->trials;
    size_t *order = report_leaderboard(d);
    if (!order)
        return;
    const char *winner = nnx_json_as_string(nnx_json_get(d->summary, "winner"), NULL);
    long win = -1;
    for (size_t r = 0; r < t->nrows; r++)
        if (winner && !strcmp(nnx_table_cell(t, r, 0), winner))
            win = (long)r;
    if (win < 0 && t->nrows && d->metric_col >= 0 &&
        isfinite(t->values[(size_t)d->metric_col * t->nrows + order[0]]))
        win = (long)order[0];

    const char *kind = nnx_json_as_string(nnx_json_get(d->summary, "search"), "");
    fprintf(out, "<p>%s search over %zu trial%s, ranked by <code>%s(", kind[0] ? kind : "a",
            t->nrows, t->nrows == 1 ? "" : "s", d->select_max ? "max" : "min");
    html_escape(out, d->select_metric ? d->select_metric : "?");
    fputs(")</code>", out);
    if (win >= 0) {
        fputs("; the winner is <b>", out);
        html_escape(out, nnx_table_cell(t, (size_t)win, 0));
        fputs("</b>", out);
    }
    fputs(".</p>\n", out);

    /* leaderboard */
    fputs("<h2>Leaderboard</h2>\n<table class=\"leaderboard\">\n<colgroup><col style=\"width:2.6em\">", out);
    for (size_t col = 0; col < t->ncols; col++)
        fputs(col == 0 ? "<col style=\"width:15%\">"
              : d->status_col >= 0 && col == (size_t)d->status_col ? "<col style=\"width:7.6em\">" : "<col>", out);
    fputs("<col style=\"width:11%\"><col style=\"width:11%\"></colgroup>\n<tr><th>#</th>", out);
    for (size_t col = 0; col < t->ncols; col++) {
        fprintf(out, "<th%s>", col == 0 ? " class=\"name\"" : "");
        /* a dotted name may break after its dots, not inside a word */
        for (const char *c = t->names[col]; *c; c++) {
            char one[2] = { *c, 0 };
            html_escape(out, one);
            if (*c == '.')
                fputs("<wbr>", out);
        }
        fputs("</th>", out);
    }
    fputs("<th class=\"name\">diagnosis</th><th class=\"name\">note</th></tr>\n", out);
    for (size_t k = 0; k < t->nrows; k++) {
        size_t r = order[k];
        const char *status = d->status_col >= 0 ? nnx_table_cell(t, r, (size_t)d->status_col) : "";
        bool bad = strcmp(status, "completed") != 0 && strcmp(status, "stopped") != 0;
        fprintf(out, "<tr%s><td>%zu</td>", (long)r == win ? " class=\"winner\"" : bad ? " class=\"bad\"" : "",
                k + 1);
        for (size_t col = 0; col < t->ncols; col++) {
            char pbuf[64];
            bool base = false;
            const char *cell = col >= 1 && col <= d->nparams ? param_value(d, r, col, pbuf, sizeof pbuf, &base)
                                                             : nnx_table_cell(t, r, col);
            if (col == 0) {
                fputs("<td class=\"name\" title=\"", out);
                html_escape(out, cell);
                fputs("\">", out);
            } else
                fprintf(out, "<td%s>", base ? " class=\"base\" title=\"the base experiment's value\"" : "");
            if (col == 0 || (d->status_col >= 0 && col == (size_t)d->status_col))
                html_escape(out, cell);
            else
                cell_out(out, cell);
            fputs("</td>", out);
        }
        /* one line per row: long text is cut, whole in the tooltip */
        char rules[256] = "";
        if (r < d->nchildren)
            rules_found(&d->children[r], rules, sizeof rules);
        const char *note = r < d->nchildren ? child_note(d, r) : "";
        fputs("<td class=\"name\" title=\"", out);
        html_escape(out, rules);
        fputs("\">", out);
        html_escape(out, rules);
        fputs("</td><td class=\"name\" title=\"", out);
        html_escape(out, note);
        fputs("\">", out);
        html_escape(out, note);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
    report_search_overview(out, d, win);

    /* the selected metric against each searched parameter */
    if (d->metric_col >= 0 && d->nparams) {
        fputs("<h2>", out);
        html_escape(out, d->select_metric);
        fputs(" against each searched parameter</h2>\n<div class=\"grid\">\n", out);
        const double *y = t->values + (size_t)d->metric_col * t->nrows;
        const char **tips = calloc(t->nrows + 1, sizeof *tips);
        const char **cats = calloc(t->nrows + 1, sizeof *cats);
        double *x = calloc(t->nrows + 1, sizeof *x);
        double *wy = calloc(t->nrows + 1, sizeof *wy);
        double *pxv = calloc(t->nrows + 1, sizeof *pxv);
        char (*pcells)[64] = calloc(t->nrows + 1, sizeof *pcells);
        for (size_t p = 1; tips && cats && x && wy && pxv && pcells && p <= d->nparams; p++) {
            /* the value each trial used (a stage that left it: the base's) */
            const double *px = pxv;
            bool numeric = true;
            for (size_t r = 0; r < t->nrows; r++) {
                bool base;
                const char *v = param_value(d, r, p, pcells[r], sizeof pcells[r], &base);
                if (v != pcells[r])
                    snprintf(pcells[r], sizeof pcells[r], "%s", v);
                char *end;
                pxv[r] = strtod(pcells[r], &end);
                if (!pcells[r][0] || *end)
                    pxv[r] = NAN;
                numeric &= isfinite(px[r]);
                tips[r] = nnx_table_cell(t, r, 0);
            }
            size_t ncats = 0;
            if (numeric && !report_spans_decades(px, t->nrows)) {
                /* a handful of grid values (batch 64, 128, 256) read best as categories */
                size_t distinct = 0;
                for (size_t r = 0; r < t->nrows; r++) {
                    bool seen = false;
                    for (size_t q = 0; q < r; q++)
                        seen |= px[q] == px[r];
                    distinct += !seen;
                }
                if (distinct <= 10) {
                    for (size_t r = 0; r < t->nrows; r++) {
                        size_t rank = 0;   /* how many distinct values are smaller */
                        for (size_t q = 0; q < t->nrows; q++) {
                            bool first = true;
                            for (size_t z = 0; z < q; z++)
                                first &= px[z] != px[q];
                            rank += first && px[q] < px[r];
                        }
                        x[r] = (double)rank;
                        cats[rank] = pcells[r];
                    }
                    ncats = distinct;
                    numeric = false;
                }
            }
            if (ncats) {
                /* categories already laid out */
            } else if (!numeric) {
                for (size_t r = 0; r < t->nrows; r++) {
                    const char *cell = pcells[r];
                    size_t k = 0;
                    while (k < ncats && strcmp(cats[k], cell))
                        k++;
                    if (k == ncats)
                        cats[ncats++] = cell;
                    x[r] = (double)k;
                }
            } else {
                memcpy(x, px, t->nrows * sizeof *x);
            }
            for (size_t r = 0; r < t->nrows; r++)
                wy[r] = (long)r == win ? y[r] : NAN;
            svg_chart pc = { .title = t->names[p], .xlabel = t->names[p],
                             .log_x = numeric && report_spans_decades(x, t->nrows),
                             .xcats = numeric ? NULL : cats, .ncats = ncats };
            svg_series *s = svg_chart_add(&pc, "trials", x, y, t->nrows, 0);
            s->scatter = true;
            s->tips = tips;
            if (win >= 0) {
                s = svg_chart_add(&pc, "winner", x, wy, t->nrows, 2);
                s->scatter = true;
                s->tips = tips;
            }
            svg_chart_write(out, &pc);
        }
        free(tips);
        free(cats);
        free(x);
        free(wy);
        free(pxv);
        free(pcells);
        fputs("</div>\n", out);
    }
    stages_section(out, d);

    /* every trial's valid loss, best trials first */
    svg_chart all = { .title = "valid.loss", .xlabel = "epoch", .integer_x = true, .width = 1060, .height = 320 };
    for (size_t k = 0; k < t->nrows && k < d->nchildren && k < SVG_MAX_SERIES; k++) {   /* a legend that fits */
        const nnx_run *run = &d->children[order[k]];
        const double *e = nnx_table_column(&run->metrics, "epoch");
        const double *v = nnx_table_column(&run->metrics, "valid.loss");
        if (run->has_metrics && e && v)
            svg_chart_add(&all, d->child_names[order[k]], e, v, run->metrics.nrows, (int)k);
    }
    if (all.nseries) {
        fputs("<h2>Valid loss of every trial</h2>\n", out);
        svg_chart_write(out, &all);
    }
    report_search_rungs(out, d, order);

    if (win >= 0 && (size_t)win < d->nchildren) {
        fputs("<h2>Winner: ", out);
        html_escape(out, d->child_names[win]);
        fputs("</h2>\n", out);
        run_body(out, &d->children[win]);
    }
    free(order);
}

static void ensemble_body(FILE *out, const nnx_rundir *d)
{
    /* the test metrics named by any member or by the ensemble */
    const char *names[32];
    size_t nnames = 0;
    const nnx_json *ens = nnx_json_get(nnx_json_get(d->summary, "ensemble"), "metrics");
    for (size_t i = 0; i <= d->nchildren; i++) {
        const nnx_json *mm = i < d->nchildren ? nnx_json_get(d->children[i].summary, "metrics") : ens;
        for (size_t k = 0; mm && mm->type == NNX_JSON_OBJECT && k < mm->n && nnames < 32; k++) {
            if (strncmp(mm->keys[k], "test.", 5) != 0)
                continue;
            bool seen = false;
            for (size_t j = 0; j < nnames; j++)
                seen |= !strcmp(names[j], mm->keys[k]);
            if (!seen)
                names[nnames++] = mm->keys[k];
        }
    }
    fprintf(out, "<p>%zu member%s, one per seed, selected by <code>%s(", d->nchildren,
            d->nchildren == 1 ? "" : "s", d->select_max ? "max" : "min");
    html_escape(out, d->select_metric);
    fputs(")</code>; the ensemble averages their probabilities.</p>\n", out);

    fputs("<h2>Members</h2>\n<table class=\"leaderboard\">\n<tr><th class=\"name\">seed</th>"
          "<th class=\"name\">status</th><th>epoch</th><th>", out);
    html_escape(out, d->select_metric);
    fputs("</th>", out);
    for (size_t j = 0; j < nnames; j++) {
        fputs("<th>", out);
        html_escape(out, names[j]);
        fputs("</th>", out);
    }
    fputs("<th class=\"name\">diagnosis</th><th class=\"name\">note</th></tr>\n", out);
    char buf[48], rules[256];
    for (size_t i = 0; i < d->nchildren; i++) {
        const nnx_run *run = &d->children[i];
        fputs("<tr><td class=\"name\">", out);
        html_escape(out, d->child_names[i]);
        fputs("</td><td class=\"name\">", out);
        html_escape(out, run->status ? run->status : "unreadable");
        fprintf(out, "</td><td>%d</td><td>", run->select_epoch);
        report_fmt_num(buf, sizeof buf, nnx_json_as_number(nnx_json_get(nnx_json_get(run->summary, "select"), "value")));
        fputs(buf, out);
        fputs("</td>", out);
        for (size_t j = 0; j < nnames; j++) {
            report_fmt_num(buf, sizeof buf, report_summary_metric(run, names[j]));
            fprintf(out, "<td>%s</td>", buf);
        }
        fputs("<td class=\"name\">", out);
        html_escape(out, rules_found(run, rules, sizeof rules));
        fputs("</td><td class=\"name\">", out);
        html_escape(out, child_note(d, i));
        fputs("</td></tr>\n", out);
    }
    if (ens) {
        fputs("<tr class=\"winner\"><td class=\"name\">ensemble</td><td class=\"name\"></td><td></td><td></td>", out);
        for (size_t j = 0; j < nnames; j++) {
            report_fmt_num(buf, sizeof buf, nnx_json_as_number(nnx_json_get(ens, names[j])));
            fprintf(out, "<td>%s</td>", buf);
        }
        fputs("<td class=\"name\"></td><td class=\"name\">averaged probabilities</td></tr>\n", out);
    }
    fputs("</table>\n", out);

    char labels[SVG_MAX_SERIES][40];
    svg_chart lc = { .title = "loss of every member (train dashed)", .xlabel = "epoch", .integer_x = true };
    svg_chart mc = { .title = d->select_metric, .xlabel = "epoch", .integer_x = true };
    for (size_t i = 0; i < d->nchildren && i < SVG_MAX_SERIES; i++) {     /* a legend that fits */
        const nnx_run *run = &d->children[i];
        const double *e = nnx_table_column(&run->metrics, "epoch");
        if (!run->has_metrics || !e)
            continue;
        const double *v = nnx_table_column(&run->metrics, "valid.loss");
        const double *tr = nnx_table_column(&run->metrics, "train.loss");
        const double *sm = nnx_table_column(&run->metrics, d->select_metric);
        snprintf(labels[i % SVG_MAX_SERIES], sizeof labels[0], "seed %.30s", d->child_names[i]);
        if (v)
            svg_chart_add(&lc, labels[i % SVG_MAX_SERIES], e, v, run->metrics.nrows, (int)i);
        if (tr) {
            svg_series *s = svg_chart_add(&lc, "", e, tr, run->metrics.nrows, (int)i);
            if (s)
                s->dashed = true;
        }
        if (sm)
            svg_chart_add(&mc, labels[i % SVG_MAX_SERIES], e, sm, run->metrics.nrows, (int)i);
    }
    fputs("<h2>Curves of every member</h2>\n<div class=\"grid\">\n", out);
    svg_chart_write(out, &lc);
    if (mc.nseries)
        svg_chart_write(out, &mc);
    fputs("</div>\n", out);

    for (size_t i = 0; i < d->nchildren; i++) {
        fputs("<h2>Member seed ", out);
        html_escape(out, d->child_names[i]);
        fputs("</h2>\n", out);
        if (d->child_errors[i]) {
            fputs("<p class=\"missing\">", out);
            html_escape(out, d->child_errors[i]);
            fputs("</p>\n", out);
        } else {
            run_body(out, &d->children[i]);
        }
    }
}

int nnx_report_html(const nnx_rundir *d, FILE *out, nnx_rt_error *err)
{
    const nnx_json *s = d->kind == NNX_RUNDIR_RUN ? d->run.summary : d->summary;
    const char *experiment = nnx_json_as_string(nnx_json_get(s, "experiment"), "");
    if (!experiment[0] && d->kind == NNX_RUNDIR_RUN)
        experiment = d->run.experiment;
    page_head(out, d, experiment);
    switch (d->kind) {
    case NNX_RUNDIR_RUN:
        run_body(out, &d->run);
        break;
    case NNX_RUNDIR_SEARCH:
        search_body(out, d);
        break;
    case NNX_RUNDIR_ENSEMBLE:
        ensemble_body(out, d);
        break;
    }
    fputs("</main>\n</body>\n</html>\n", out);
    if (fflush(out) != 0 || ferror(out))
        return nnx_rt_fail(err, "writing the report failed");
    return 0;
}
