/* report_compare.c — one HTML page comparing runs: curves overlaid per metric, a runs table, the settings side by side, each diagnosis. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnx/compare.h"
#include "nnx/report.h"
#include "nnx/util/file.h"
#include "report/report_html.h"
#include "report/report_model.h"
#include "report/svg_chart.h"

enum { MAX_CHARTS = 48 };

static const char *value_of(const nnx_exp_param *v, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].path, path))
            return v[i].value;
    return NULL;
}

static bool is_layer(const char *path)
{
    return !strncmp(path, "model[", 6);
}

/* The layers of list k, one a line; with k > 0, those that list 0 lacks (added or
 * changed, aligned as nnx diff aligns them) in bold. */
static void layers_cell(FILE *out, const nnx_exp_param *const *lists, const size_t *counts, size_t k)
{
    nnx_setting_change *c = NULL;
    size_t nc = 0;
    if (k > 0)
        nnx_settings_diff(lists[0], counts[0], lists[k], counts[k], &c, &nc);
    bool first = true;
    for (size_t i = 0, index = 0; i < counts[k]; i++) {
        if (!is_layer(lists[k][i].path))
            continue;
        index++;
        bool changed = false;
        char path[32];
        snprintf(path, sizeof path, "model[%zu]", index);
        for (size_t j = 0; j < nc && !changed; j++)
            changed = c[j].b && !strcmp(c[j].path, path);
        fputs(first ? "" : "<br>", out);
        fputs(changed ? "<b class=\"changed\">" : "", out);
        html_escape(out, lists[k][i].value);
        fputs(changed ? "</b>" : "", out);
        first = false;
    }
    nnx_setting_changes_free(c, nc);
}

/* The layers of two lists are the same. */
static bool same_layers(const nnx_exp_param *a, size_t na, const nnx_exp_param *b, size_t nb)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < na && !is_layer(a[i].path))
            i++;
        while (j < nb && !is_layer(b[j].path))
            j++;
        if (i == na || j == nb)
            return i == na && j == nb;
        if (strcmp(a[i].value, b[j].value))
            return false;
        i++, j++;
    }
}

void report_settings_table(FILE *out, const nnx_exp_param *const *lists, const size_t *counts,
                           const char *const *labels, size_t n)
{
    /* the union of the paths, first list's order, then each later list's new ones */
    size_t cap = 0;
    for (size_t k = 0; k < n; k++)
        cap += counts[k];
    const char **paths = malloc((cap + 1) * sizeof *paths);
    if (!paths)
        return;
    size_t np = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < counts[k]; i++) {
            bool seen = false;
            for (size_t q = 0; q < np && !seen; q++)
                seen = !strcmp(paths[q], lists[k][i].path);
            if (!seen)
                paths[np++] = lists[k][i].path;
        }
    fputs("<table class=\"settings\">\n<tr><th class=\"name\">setting</th>", out);
    for (size_t k = 0; k < n; k++) {
        fputs("<th class=\"name\">", out);
        if (n > 1)
            fprintf(out, "<span class=\"swatch\" style=\"background:%s\"></span>", svg_color((int)k));
        html_escape(out, labels[k]);
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
    bool layers_done = false;
    for (size_t p = 0; p < np; p++) {
        if (is_layer(paths[p])) {
            /* the network's layers in one row, so that a layer added is one difference */
            if (layers_done)
                continue;
            layers_done = true;
            bool differs = false;
            for (size_t k = 1; k < n; k++)
                differs |= !same_layers(lists[0], counts[0], lists[k], counts[k]);
            fprintf(out, "<tr%s><td class=\"name\">model layers</td>", differs ? " class=\"differs\"" : "");
            for (size_t k = 0; k < n; k++) {
                fputs("<td>", out);
                layers_cell(out, lists, counts, k);
                fputs("</td>", out);
            }
            fputs("</tr>\n", out);
            continue;
        }
        const char *first = value_of(lists[0], counts[0], paths[p]);
        bool differs = false;
        for (size_t k = 1; k < n; k++) {
            const char *v = value_of(lists[k], counts[k], paths[p]);
            differs |= !first != !v || (v && strcmp(v, first));
        }
        fprintf(out, "<tr%s><td class=\"name\">", differs ? " class=\"differs\"" : "");
        html_escape(out, paths[p]);
        fputs("</td>", out);
        for (size_t k = 0; k < n; k++) {
            const char *v = value_of(lists[k], counts[k], paths[p]);
            fputs("<td>", out);
            html_escape(out, v ? v : "–");
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    free(paths);
}

/* The curve names to overlay: train.loss, valid.loss, the other metric
 * columns in first-seen order, lr last. */
static size_t curve_names(const nnx_compare_run *r, size_t n, const char **names)
{
    size_t k = 0;
    names[k++] = "train.loss";
    names[k++] = "valid.loss";
    for (size_t i = 0; i < n; i++) {
        const nnx_table *m = &r[i].run->metrics;
        for (size_t c = 0; c < m->ncols && k < MAX_CHARTS - 1; c++) {
            if (!report_is_metric_column(m->names[c]))
                continue;
            bool seen = false;
            for (size_t q = 0; q < k && !seen; q++)
                seen = !strcmp(names[q], m->names[c]);
            if (!seen)
                names[k++] = m->names[c];
        }
    }
    names[k++] = "lr";
    return k;
}

static void runs_table(FILE *out, const nnx_compare_run *r, size_t n)
{
    /* the test metrics of any run */
    const char *tests[16];
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        const nnx_json *m = nnx_json_get(r[i].run->summary, "metrics");
        for (size_t j = 0; m && m->type == NNX_JSON_OBJECT && j < m->n && nt < 16; j++) {
            bool seen = false;
            for (size_t q = 0; q < nt && !seen; q++)
                seen = !strcmp(tests[q], m->keys[j]);
            if (!seen && !strncmp(m->keys[j], "test.", 5))
                tests[nt++] = m->keys[j];
        }
    }
    fputs("<table class=\"leaderboard runs\">\n<tr><th class=\"name\">run</th><th class=\"name\">experiment</th>"
          "<th class=\"name\">status</th><th class=\"name\">commit</th><th>selected epoch</th>"
          "<th class=\"name\">select</th><th>value</th>", out);
    for (size_t k = 0; k < nt; k++) {
        fputs("<th>", out);
        html_escape(out, tests[k]);
        fputs("</th>", out);
    }
    fputs("<th>s/epoch</th></tr>\n", out);
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        const nnx_run *run = r[i].run;
        fprintf(out, "<tr><td class=\"name\"><span class=\"swatch\" style=\"background:%s\"></span>",
                svg_color((int)i));
        html_escape(out, r[i].label);
        fputs("</td><td class=\"name\">", out);
        html_escape(out, run->experiment);
        fputs("</td><td class=\"name\">", out);
        html_escape(out, run->status);
        fputs("</td><td class=\"name\">", out);
        if (!r[i].in_repo)
            fputs("–", out);
        else {
            snprintf(buf, sizeof buf, "%.8s%s", r[i].commit ? r[i].commit : "(none)", r[i].dirty ? "+" : "");
            fputs("<code>", out);
            html_escape(out, buf);
            fputs("</code>", out);
        }
        fprintf(out, "</td><td>%d</td><td class=\"name\">%s(", run->select_epoch, run->select_max ? "max" : "min");
        html_escape(out, run->select_metric);
        report_fmt_num(buf, sizeof buf,
                       nnx_json_as_number(nnx_json_get(nnx_json_get(run->summary, "select"), "value")));
        fprintf(out, ")</td><td>%s</td>", buf);
        for (size_t k = 0; k < nt; k++) {
            report_fmt_num(buf, sizeof buf, report_summary_metric(run, tests[k]));
            fprintf(out, "<td>%s</td>", buf);
        }
        report_fmt_num(buf, sizeof buf,
                       nnx_json_as_number(nnx_json_get(nnx_json_get(run->summary, "timing"), "seconds_per_epoch")));
        fprintf(out, "<td>%s</td></tr>\n", buf);
    }
    fputs("</table>\n", out);
}

static void diagnosis(FILE *out, const nnx_compare_run *r, size_t i)
{
    fprintf(out, "<h3><span class=\"swatch\" style=\"background:%s\"></span>", svg_color((int)i));
    html_escape(out, r[i].label);
    fputs("</h3>\n<div class=\"findings\">\n", out);
    nnx_curves c;
    nnx_findings f;
    nnx_rt_error err = { { 0 } };
    if (nnx_run_curves(r[i].run, &c, &err) < 0 || nnx_diagnose(&c, &f, &err) < 0) {
        fputs("<p class=\"missing\">", out);
        html_escape(out, err.msg);
        fputs("</p>\n", out);
    } else if (f.n == 0) {
        fputs("<p class=\"healthy\">No findings: the curves look healthy.</p>\n", out);
    } else {
        for (int k = NNX_CURVE_LOSS; k <= NNX_CURVE_LR; k++)
            report_finding_cards(out, &f, (nnx_curve_kind)k);
    }
    fputs("</div>\n", out);
}

int nnx_report_compare_html(const nnx_compare_run *r, size_t n, FILE *out, nnx_rt_error *err)
{
    if (n < 2 || n > SVG_MAX_SERIES)
        return nnx_rt_fail(err, "a comparison takes 2 to %d runs", SVG_MAX_SERIES);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>nnx: comparison of runs</title>\n", out);
    fprintf(out, "<style>\n%s</style>\n</head>\n<body>\n<main>\n", report_page_css);
    fprintf(out, "<h1>Comparison of %zu runs</h1>\n<p class=\"sub\">", n);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? " · <code>" : "<code>", out);
        html_escape(out, r[i].label);
        fputs("</code>", out);
    }
    fputs("</p>\n<h2>Runs</h2>\n", out);
    runs_table(out, r, n);

    fputs("<h2>Curves</h2>\n<div class=\"grid\">\n", out);
    const char *names[MAX_CHARTS];
    size_t nc = curve_names(r, n, names);
    for (size_t k = 0; k < nc; k++) {
        svg_chart ch = { .title = names[k], .xlabel = "epoch", .integer_x = true };
        for (size_t i = 0; i < n; i++) {
            const nnx_table *m = &r[i].run->metrics;
            const double *e = nnx_table_column(m, "epoch");
            const double *y = nnx_table_column(m, names[k]);
            if (r[i].run->has_metrics && e && y)
                svg_chart_add(&ch, r[i].label, e, y, m->nrows, (int)i);
        }
        if (ch.nseries)
            svg_chart_write(out, &ch);
    }
    fputs("</div>\n", out);

    fputs("<h2>Settings</h2>\n<p class=\"sub\">From each run's <code>experiment.nnx</code>; "
          "the rows that differ are highlighted.</p>\n", out);
    const nnx_exp_param *lists[SVG_MAX_SERIES] = { 0 };
    size_t counts[SVG_MAX_SERIES] = { 0 };
    const char *labels[SVG_MAX_SERIES] = { 0 };
    for (size_t i = 0; i < n; i++) {
        lists[i] = r[i].settings;
        counts[i] = r[i].nsettings;
        labels[i] = r[i].label;
    }
    report_settings_table(out, lists, counts, labels, n);

    fputs("<h2>Diagnosis</h2>\n", out);
    for (size_t i = 0; i < n; i++)
        diagnosis(out, r, i);
    fputs("</main>\n</body>\n</html>\n", out);
    if (fflush(out) != 0 || ferror(out))
        return nnx_rt_fail(err, "writing the report failed");
    return 0;
}

int nnx_report_compare_write(const nnx_compare_run *runs, size_t n, const char *path, nnx_rt_error *err)
{
    nnx_file_out out;
    if (nnx_file_begin(&out, path, NULL, NNX_FILE_UNIQUE, err) < 0)
        return -1;
    fchmod(fileno(out.f), 0644);
    if (nnx_report_compare_html(runs, n, out.f, err) < 0) {
        nnx_file_abort(&out);
        return -1;
    }
    return nnx_file_commit(&out, err);
}
