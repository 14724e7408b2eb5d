/* report_lrfind.c — what `nnx lr-find` leaves behind: the curve as CSV and a one-chart HTML page. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/report.h"
#include "nnx/util/file.h"
#include "report/report_model.h"
#include "rundir/rundir_write.h"
#include "report/svg_chart.h"

/* Write what `fill` prints to dir/name, atomically. */
static int write_file(const char *dir, const char *name, const nnx_lr_find_info *info,
                      const nnx_lr_range *r, void (*fill)(FILE *, const nnx_lr_find_info *,
                                                          const nnx_lr_range *),
                      char **written, nnx_rt_error *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return nnx_rt_fail(err, "out of memory");
    fill(m, info, r);
    if (fclose(m) != 0 || !text) {
        free(text);
        return nnx_rt_fail(err, "out of memory");
    }
    char *path = nnx_path_join(dir, name);
    int rc = path ? nnx_file_write(path, text, len, 0, err) : nnx_rt_fail(err, "out of memory");
    free(text);
    if (rc == 0 && written)
        *written = path;
    else
        free(path);
    return rc;
}

static void fill_csv(FILE *f, const nnx_lr_find_info *info, const nnx_lr_range *r)
{
    (void)info;
    fputs("step,lr,loss,smoothed\n", f);
    for (size_t i = 0; i < r->n; i++) {
        fprintf(f, "%zu,", i + 1);
        nnx_csv_put_number(f, r->lr[i]);
        fputc(',', f);
        nnx_csv_put_number(f, r->loss[i]);
        fputc(',', f);
        nnx_csv_put_number(f, r->smooth[i]);
        fputc('\n', f);
    }
}

static void fill_html(FILE *out, const nnx_lr_find_info *info, const nnx_lr_range *r)
{
    const char *name = info->experiment ? info->experiment : "";
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>nnx lr-find: ",
          out);
    html_escape(out, name);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<h1>lr range test: ",
            report_page_css);
    html_escape(out, name);
    fputs("</h1>\n<p class=\"sub\">", out);
    if (info->source) {
        fputs("from <code>", out);
        html_escape(out, info->source);
        fputs("</code> · ", out);
    }
    fprintf(out, "%zu steps of batch %d, the lr growing from %.3g to %.3g%s</p>\n", r->n,
            info->batch, r->n ? r->lr[0] : NAN, r->n ? r->lr[r->n - 1] : NAN,
            r->diverged ? " (stopped where the loss diverged)" : "");
    svg_chart c = { .title = "train loss against the learning rate", .xlabel = "lr",
                    .log_x = true, .width = 760, .height = 340 };
    svg_series *raw = svg_chart_add(&c, "loss per step", r->lr, r->loss, r->n, 0);
    if (raw)
        raw->faint = true;
    svg_chart_add(&c, "smoothed", r->lr, r->smooth, r->n, 0);
    if (r->steep_at >= 0)
        svg_chart_mark(&c, r->lr_steepest, "steepest", 2);
    if (r->min_at >= 0)
        svg_chart_mark(&c, r->lr_min_loss, "lowest", 3);
    if (isfinite(r->lr_proposed))
        svg_chart_mark(&c, r->lr_proposed, "proposed", 1);
    fputs("<div class=\"chart\">", out);
    svg_chart_write(out, &c);
    fputs("</div>\n", out);
    if (isfinite(r->lr_proposed)) {
        fprintf(out, "<table class=\"facts\">\n<tr><td>proposed lr (the middle, on a log scale, of the "
                "steepest fall and the lowest point / 10)</td><td>%.3g</td></tr>\n"
                "<tr><td>steepest fall</td><td>%.3g</td></tr>\n<tr><td>lowest smoothed loss</td>"
                "<td>%.4g at lr %.3g</td></tr>\n</table>\n", r->lr_proposed, r->lr_steepest,
                r->smooth[r->min_at], r->lr_min_loss);
        fprintf(out, "<p>Train with it: <code>nnx run ");
        html_escape(out, info->source ? info->source : "FILE");
        fputc(' ', out);
        html_escape(out, name);
        fprintf(out, " --set optimizer.lr=%.2g</code></p>\n", r->lr_proposed);
    } else {
        fputs("<p class=\"missing\">The loss did not fall before it diverged: no lr to propose "
              "(look for a problem other than the lr: the data, the labels, the network).</p>\n", out);
    }
    fputs("</main>\n</body>\n</html>\n", out);
}

int nnx_lr_find_write(const char *dir, const nnx_lr_find_info *info, const nnx_lr_range *r,
                      char **written, nnx_rt_error *err)
{
    if (written)
        *written = NULL;
    if (nnx_mkdirs(dir, err) < 0)
        return -1;
    if (write_file(dir, "lr_find.csv", info, r, fill_csv, NULL, err) < 0)
        return -1;
    return write_file(dir, "report.html", info, r, fill_html, written, err);
}
