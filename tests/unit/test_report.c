/* test_report.c — the HTML report of the fixture run, search and ensemble, its chart geometry, and the text form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/report.h"
#include "report/svg_chart.h"

static const char *fixture(const char *name)
{
    static char path[1024];
    const char *root = getenv("NNX_ROOT");
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", root && root[0] ? root : ".", name);
    return path;
}

/* The HTML (or text) report of a directory, as a string the caller frees. */
static char *render(const char *dir, bool text)
{
    nnx_rundir d;
    nnx_rt_error err = { { 0 } };
    if (nnx_rundir_read(dir, &d, &err) < 0)
        fail_msg("%s", err.msg);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(text ? nnx_report_text(&d, f, &err) : nnx_report_html(&d, f, &err), 0);
    fclose(f);
    nnx_rundir_free(&d);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void self_contained(const char *html)
{
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "url("));
    assert_null(strstr(html, "@import"));
    /* the only URL is the SVG namespace, which is a name, not a fetch */
    assert_int_equal(count(html, "http"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "</html>\n"));
}

static void run_report_has_every_curve(void **state)
{
    (void)state;
    char *html = render(fixture("run"), false);
    self_contained(html);
    /* one path per curve: 2 losses, 3 metric columns, step loss + average, lr */
    assert_int_equal(count(html, "<path data-series="), 8);
    const char *curves[] = { "train.loss", "valid.loss", "valid.auc", "valid.accuracy", "lr_x1000",
                             "step loss", "moving average", "lr per step" };
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "<path data-series=\"%s\"", curves[i]);
        if (!strstr(html, want))
            fail_msg("no path for %s", curves[i]);
    }
    assert_int_equal(count(html, "<svg class=\"chart\""), 6);
    /* the selected epoch (11) is marked on the loss and every metric chart, and the lr */
    assert_int_equal(count(html, "data-mark=\"selected\""), 5);
    assert_int_equal(count(html, "data-mark=\"lowest valid loss\""), 4);
    /* the overfitting finding sits in the loss row, select-vs-loss in the metric row */
    const char *loss_row = strstr(html, "data-curve=\"loss\"");
    const char *metric_row = strstr(html, "data-curve=\"metric\"");
    const char *overfit = strstr(html, "data-rule=\"overfitting\"");
    const char *select = strstr(html, "data-rule=\"select-vs-loss\"");
    assert_non_null(loss_row);
    assert_non_null(metric_row);
    assert_true(loss_row < overfit && overfit < metric_row);
    assert_true(metric_row < select);
    assert_non_null(strstr(html, "bottomed near epoch 9"));
    free(html);
}

static void search_report_has_leaderboard(void **state)
{
    (void)state;
    char *html = render(fixture("search"), false);
    self_contained(html);
    const char *table = strstr(html, "<table class=\"leaderboard\">");
    assert_non_null(table);
    /* 9 trials + the header row */
    const char *end = strstr(table, "</table>");
    size_t rows = 0;
    for (const char *p = strstr(table, "<tr"); p && p < end; p = strstr(p + 1, "<tr"))
        rows++;
    assert_int_equal(rows, 10);
    /* best first: the winner row leads, the failed trial is last */
    const char *winner = strstr(table, "<tr class=\"winner\"><td>1</td><td class=\"name\" title=\"lr=0.01_batch=64\">"
                                       "lr=0.01_batch=64</td>");
    assert_non_null(winner);
    const char *second = strstr(table, ">lr=0.01_batch=128<");
    const char *worst = strstr(table, ">lr=0.0001_batch=128<");
    const char *failed = strstr(table, ">lr=1_batch=64<");
    assert_true(winner < second && second < worst && worst < failed && failed < end);
    assert_non_null(strstr(html, "the train loss became NaN in the first epoch (step 3)"));
    /* the metric against each parameter: lr on a log axis, batch as categories */
    assert_non_null(strstr(html, "optimizer.lr (log scale)"));
    assert_null(strstr(html, "batch (log scale)"));
    assert_int_equal(count(html, "<g data-series=\"trials\""), 2);
    assert_int_equal(count(html, "<g data-series=\"winner\""), 2);
    /* 8 trials with curves in the overlay, then the winner's own charts */
    assert_non_null(strstr(html, "<path data-series=\"lr=0.1_batch=64\""));
    assert_non_null(strstr(html, "<h2>Winner: lr=0.01_batch=64</h2>"));
    /* the diverged trial's diagnosis is in the table */
    assert_non_null(strstr(table, "<td class=\"name\" title=\"diverged\">diverged</td>"));
    free(html);
}

static void ensemble_report_has_members(void **state)
{
    (void)state;
    char *html = render(fixture("ensemble"), false);
    self_contained(html);
    assert_non_null(strstr(html, "<h2>Members</h2>"));
    assert_non_null(strstr(html, "<td class=\"name\">ensemble</td>"));
    assert_non_null(strstr(html, "0.9731"));
    /* valid loss + dashed train loss per member, and the metric per member */
    assert_int_equal(count(html, "<path data-series=\"seed "), 6);
    assert_int_equal(count(html, "<path data-series=\"\""), 3);
    assert_int_equal(count(html, "<h2>Member seed "), 3);
    free(html);
}

static void chart_geometry_is_exact(void **state)
{
    (void)state;
    const double y[2] = { 2, 1 };
    svg_chart c = { .title = "loss", .xlabel = "epoch" };
    svg_chart_add(&c, "a<b", NULL, y, 2, 0);
    svg_chart_mark(&c, 2, "selected", 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    svg_chart_write(f, &c);
    fclose(f);
    /* plot x 62..506, y 218..29; y range 1..2 padded 6% each side */
    assert_non_null(strstr(buf, "<path data-series=\"a&lt;b\" fill=\"none\" stroke=\"#1f77b4\""));
    assert_non_null(strstr(buf, "d=\"M62.0 39.1 L506.0 207.9\""));
    assert_non_null(strstr(buf, "data-mark=\"selected\" x1=\"506.0\" x2=\"506.0\""));
    free(buf);

    /* NaN breaks the line into two pieces; a log axis spans decades */
    const double x3[4] = { 1e-4, 1e-3, 1e-2, 1e-1 }, y3[4] = { 1, NAN, 2, 3 };
    svg_chart l = { .title = "t", .log_x = true };
    svg_chart_add(&l, "s", x3, y3, 4, 1);
    f = open_memstream(&buf, &len);
    svg_chart_write(f, &l);
    fclose(f);
    assert_int_equal(count(buf, " M"), 1);      /* one restart after the gap */
    assert_int_equal(count(buf, " L"), 1);
    assert_non_null(strstr(buf, ">0.0001</text>"));
    assert_non_null(strstr(buf, ">0.1</text>"));
    free(buf);
}

static void sparkline_levels(void **state)
{
    (void)state;
    char buf[128];
    const double up[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_string_equal(nnx_sparkline(up, 8, 40, buf, sizeof buf), "▁▂▃▄▅▆▇█");
    const double gap[3] = { 0, NAN, 1 };
    assert_string_equal(nnx_sparkline(gap, 3, 40, buf, sizeof buf), "▁ █");
    /* 8 values into 4 columns: pairs averaged */
    assert_string_equal(nnx_sparkline(up, 8, 4, buf, sizeof buf), "▁▃▆█");
    const double flat[2] = { 5, 5 };
    assert_string_equal(nnx_sparkline(flat, 2, 40, buf, sizeof buf), "▅▅");
    /* a buffer too small is cut at a whole character */
    assert_string_equal(nnx_sparkline(up, 8, 40, buf, 8), "▁▂");
}

static void text_report(void **state)
{
    (void)state;
    char *text = render(fixture("run"), true);
    assert_non_null(strstr(text, "baseline - run "));
    assert_non_null(strstr(text, "select max(valid.auc) -> epoch 11 (0.9671)"));
    assert_non_null(strstr(text, "lowest valid loss at epoch 9 (0.5125)"));
    assert_non_null(strstr(text, "  train.loss               2.15    0.1921 (14)"));
    assert_non_null(strstr(text, "█▆▅▄▃▂▂▂▁▁▁▁▁▁"));
    assert_non_null(strstr(text, "warning overfitting: the valid loss bottomed near epoch 9"));
    free(text);
    text = render(fixture("search"), true);
    assert_non_null(strstr(text, "9 trials, ranked by max(valid.auc); winner lr=0.01_batch=64"));
    const char *first = strstr(text, "    1  lr=0.01_batch=64 ");
    const char *last = strstr(text, "    9  lr=1_batch=64 ");
    assert_non_null(first);
    assert_non_null(last);
    assert_true(first < last);
    free(text);
    text = render(fixture("ensemble"), true);
    assert_non_null(strstr(text, "3 members, selected by max(valid.auc)"));
    assert_non_null(strstr(text, "ensemble"));
    assert_non_null(strstr(text, "test.auc 0.9731"));
    free(text);
}

static void hostile_names_are_escaped(void **state)
{
    (void)state;
    char dir[] = "/tmp/nnx-report-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("epoch,lr,train.loss,\"<img src=x>\"\n1,0.1,1.0,2\n2,0.1,0.5,3\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    f = fopen(path, "w");
    fputs("{\"experiment\": \"<script>alert(1)</script>\", \"status\": \"completed\"}", f);
    fclose(f);
    char *html = render(dir, false);
    assert_null(strstr(html, "<script>"));
    assert_null(strstr(html, "<img"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "data-series=\"&lt;img src=x&gt;\""));
    free(html);
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_report_has_every_curve),
        cmocka_unit_test(search_report_has_leaderboard),
        cmocka_unit_test(ensemble_report_has_members),
        cmocka_unit_test(chart_geometry_is_exact),
        cmocka_unit_test(sparkline_levels),
        cmocka_unit_test(text_report),
        cmocka_unit_test(hostile_names_are_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
