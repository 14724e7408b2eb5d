/* svg_chart.c — lay out axes, ticks, lines, points and marks of one chart as inline SVG. */
#include <math.h>
#include <string.h>

#include "report/svg_chart.h"

static const char *const palette[] = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
};

const char *svg_color(int i)
{
    size_t n = sizeof palette / sizeof palette[0];
    return palette[(size_t)(i < 0 ? -i : i) % n];
}

void html_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default:  fputc(*s, out);
        }
    }
}

svg_series *svg_chart_add(svg_chart *c, const char *name, const double *x, const double *y,
                          size_t n, int color)
{
    if (c->nseries >= SVG_MAX_LINES)
        return NULL;
    svg_series *s = &c->series[c->nseries++];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->x = x;
    s->y = y;
    s->n = n;
    s->color = color;
    return s;
}

void svg_chart_mark(svg_chart *c, double x, const char *label, int color)
{
    if (c->nmarks >= SVG_MAX_MARKS || !isfinite(x))
        return;
    c->marks[c->nmarks++] = (svg_mark){ x, label, color };
}

/* ---- axes ------------------------------------------------------------ */

typedef struct axis {
    double lo, hi;      /* data range shown (log10 of it on a log axis) */
    bool   log;
    double px0, px1;    /* pixel range */
} axis;

static double xval(const svg_series *s, size_t i) { return s->x ? s->x[i] : (double)(i + 1); }

static bool usable(double v, bool log) { return isfinite(v) && (!log || v > 0); }

static double to_axis(const axis *a, double v) { return a->log ? log10(v) : v; }

static double to_px(const axis *a, double v)
{
    double t = (to_axis(a, v) - a->lo) / (a->hi - a->lo);
    return a->px0 + t * (a->px1 - a->px0);
}

/* A step of 1, 2 or 5 times a power of ten giving about `want` intervals. */
static double nice_step(double span, int want)
{
    double raw = span / want, p = pow(10, floor(log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
}

static void fit_axis(axis *a, double lo, double hi, bool log, bool pad)
{
    a->log = log;
    if (log) {
        lo = log10(lo);
        hi = log10(hi);
    }
    if (!(hi > lo)) {
        double d = fabs(lo) > 0 ? fabs(lo) * 0.1 : 0.5;
        lo -= d;
        hi += d;
    } else if (pad) {
        double d = (hi - lo) * 0.06;
        lo -= d;
        hi += d;
    }
    a->lo = lo;
    a->hi = hi;
}

static void fmt_tick(char *buf, size_t n, double v)
{
    if (fabs(v) < 1e-12)
        v = 0;
    snprintf(buf, n, "%.4g", v);
}

/* Tick positions in data units; returns how many.  `integer` keeps a
 * linear axis's ticks on whole numbers. */
static int ticks(const axis *a, bool integer, double *out, int max)
{
    int n = 0;
    if (a->log) {
        for (double e = ceil(a->lo - 1e-9); e <= a->hi + 1e-9 && n < max; e++)
            out[n++] = pow(10, e);
        if (n >= 2)
            return n;
        n = 0;  /* less than two decades: linear ticks in log space */
        double step = nice_step(a->hi - a->lo, 4);
        for (double e = ceil(a->lo / step) * step; e <= a->hi + 1e-9 && n < max; e += step)
            out[n++] = pow(10, e);
        return n;
    }
    double step = nice_step(a->hi - a->lo, 5);
    if (integer && step < 1)
        step = 1;
    for (double v = ceil(a->lo / step) * step; v <= a->hi + step * 1e-9 && n < max; v += step)
        out[n++] = v;
    return n;
}

/* ---- drawing --------------------------------------------------------- */

void svg_chart_write(FILE *out, const svg_chart *c)
{
    int w = c->width ? c->width : 520, h = c->height ? c->height : 260;
    const double left = 62, right = 14, bottom = 42;

    /* The legend flows after the title, wrapping into more rows above the
     * plot, so it never covers data or marks.  Widths are estimates. */
    double lx[SVG_MAX_LINES], ly[SVG_MAX_LINES];
    double flow_x = left + 7.5 * (double)strlen(c->title ? c->title : "") + 24, flow_y = 17;
    for (size_t k = 0; k < c->nseries; k++) {
        const char *name = c->series[k].name;
        double width = 6.4 * (double)strlen(name ? name : "") + 26;
        if (!name || !name[0] || c->series[k].nolegend) {
            lx[k] = -1;
            continue;
        }
        if (flow_x + width > w - right && flow_x > left) {
            flow_x = left;
            flow_y += 14;
        }
        lx[k] = flow_x;
        ly[k] = flow_y;
        flow_x += width;
    }
    const double top = flow_y + 12;

    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t k = 0; k < c->nseries; k++) {
        const svg_series *s = &c->series[k];
        for (size_t i = 0; i < s->n; i++) {
            double x = xval(s, i), y = s->y[i];
            if (!usable(x, c->log_x) || !isfinite(y))
                continue;
            xlo = fmin(xlo, x); xhi = fmax(xhi, x);
            ylo = fmin(ylo, y); yhi = fmax(yhi, y);
        }
    }
    for (size_t k = 0; k < c->nmarks; k++)
        if (usable(c->marks[k].x, c->log_x)) {
            xlo = fmin(xlo, c->marks[k].x);
            xhi = fmax(xhi, c->marks[k].x);
        }
    bool empty = !(xlo <= xhi && ylo <= yhi);
    if (c->xcats && c->ncats) {
        xlo = -0.5;
        xhi = (double)c->ncats - 0.5;
    }
    if (empty) {
        xlo = 0; xhi = 1; ylo = 0; yhi = 1;
    }
    axis ax = { .px0 = left, .px1 = w - right }, ay = { .px0 = h - bottom, .px1 = top };
    bool scatter = false;
    for (size_t k = 0; k < c->nseries; k++)
        scatter |= c->series[k].scatter;
    fit_axis(&ax, xlo, xhi, c->log_x && !c->xcats && !empty, c->xcats == NULL && scatter);
    fit_axis(&ay, ylo, yhi, false, true);

    fprintf(out, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                 "width=\"%d\" height=\"%d\" role=\"img\">\n", w, h, w, h);
    fputs("<title>", out);
    html_escape(out, c->title);
    fputs("</title>\n<text class=\"ctitle\" x=\"", out);
    fprintf(out, "%g\" y=\"17\">", left);
    html_escape(out, c->title);
    fputs("</text>\n", out);

    /* grid and tick labels */
    double tv[32];
    char label[32];
    int nt = ticks(&ay, false, tv, 32);
    for (int i = 0; i < nt; i++) {
        double py = to_px(&ay, tv[i]);
        fmt_tick(label, sizeof label, tv[i]);
        fprintf(out, "<line class=\"grid\" x1=\"%g\" x2=\"%g\" y1=\"%.1f\" y2=\"%.1f\"/>"
                     "<text class=\"tick\" x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                left, w - right, py, py, left - 5, py + 4, label);
    }
    if (c->xcats && c->ncats) {
        for (size_t i = 0; i < c->ncats; i++) {
            double px = to_px(&ax, (double)i);
            fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">", px,
                    h - bottom + 15);
            html_escape(out, c->xcats[i]);
            fputs("</text>\n", out);
        }
    } else {
        nt = ticks(&ax, c->integer_x, tv, 32);
        for (int i = 0; i < nt; i++) {
            double px = to_px(&ax, tv[i]);
            fmt_tick(label, sizeof label, tv[i]);
            fprintf(out, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%g\" y2=\"%g\"/>"
                         "<text class=\"tick\" x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%s</text>\n",
                    px, px, top, h - bottom, px, h - bottom + 15, label);
        }
    }
    fprintf(out, "<rect class=\"frame\" x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\"/>\n", left, top,
            w - right - left, h - bottom - top);
    if (c->xlabel) {
        fprintf(out, "<text class=\"axis\" x=\"%g\" y=\"%d\" text-anchor=\"middle\">",
                (left + w - right) / 2, h - 8);
        html_escape(out, c->xlabel);
        if (c->log_x && !c->xcats)
            fputs(" (log scale)", out);
        fputs("</text>\n", out);
    }
    if (empty)
        fprintf(out, "<text class=\"axis\" x=\"%g\" y=\"%g\" text-anchor=\"middle\">no data</text>\n",
                (left + w - right) / 2, (top + h - bottom) / 2);

    /* marks under the data */
    for (size_t k = 0; k < c->nmarks && !empty; k++) {
        const svg_mark *m = &c->marks[k];
        if (!usable(m->x, ax.log))
            continue;
        double px = to_px(&ax, m->x);
        fprintf(out, "<line class=\"mark\" data-mark=\"");
        html_escape(out, m->label);
        fprintf(out, "\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%g\" y2=\"%g\" stroke=\"%s\"/>", px, px, top,
                h - bottom, svg_color(m->color));
        bool right_side = px > left + 0.7 * (w - right - left);
        fprintf(out, "<text class=\"marklabel\" x=\"%.1f\" y=\"%g\" fill=\"%s\"%s>", px + (right_side ? -4 : 4),
                top + 12 + 12.0 * (double)k, svg_color(m->color), right_side ? " text-anchor=\"end\"" : "");
        html_escape(out, m->label);
        fputs("</text>\n", out);
    }

    /* the data */
    for (size_t k = 0; k < c->nseries && !empty; k++) {
        const svg_series *s = &c->series[k];
        const char *color = svg_color(s->color);
        if (s->scatter) {
            fputs("<g data-series=\"", out);
            html_escape(out, s->name);
            fprintf(out, "\" fill=\"%s\">\n", color);
            for (size_t i = 0; i < s->n; i++) {
                double x = xval(s, i), y = s->y[i];
                if (!usable(x, ax.log) || !isfinite(y))
                    continue;
                fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\">", to_px(&ax, x), to_px(&ay, y));
                if (s->tips && s->tips[i]) {
                    fputs("<title>", out);
                    html_escape(out, s->tips[i]);
                    fputs("</title>", out);
                }
                fputs("</circle>\n", out);
            }
            fputs("</g>\n", out);
            continue;
        }
        fputs("<path data-series=\"", out);
        html_escape(out, s->name);
        fprintf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s%s d=\"", color,
                s->faint ? "0.8" : "2", s->dashed ? " stroke-dasharray=\"6 4\"" : "",
                s->faint ? " stroke-opacity=\"0.45\"" : "");
        bool pen = false;
        size_t drawn = 0;
        for (size_t i = 0; i < s->n; i++) {
            double x = xval(s, i), y = s->y[i];
            if (!usable(x, ax.log) || !isfinite(y)) {
                pen = false;
                continue;
            }
            fprintf(out, "%s%.1f %.1f", pen ? " L" : (drawn ? " M" : "M"), to_px(&ax, x), to_px(&ay, y));
            pen = true;
            drawn++;
        }
        fputs("\"/>\n", out);
        /* a lone point would be invisible as a path */
        if (drawn == 1 || s->n <= 1)
            for (size_t i = 0; i < s->n; i++)
                if (usable(xval(s, i), ax.log) && isfinite(s->y[i]))
                    fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                            to_px(&ax, xval(s, i)), to_px(&ay, s->y[i]), color);
    }

    /* legend: a short sample of each line (or a dot) and its name */
    for (size_t k = 0; k < c->nseries; k++) {
        const svg_series *s = &c->series[k];
        if (lx[k] < 0)
            continue;
        const char *color = svg_color(s->color);
        if (s->scatter)
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>", lx[k] + 8, ly[k] - 4, color);
        else
            fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                         "stroke-width=\"2\"%s%s/>", lx[k], lx[k] + 16, ly[k] - 4, ly[k] - 4, color,
                    s->dashed ? " stroke-dasharray=\"4 3\"" : "", s->faint ? " stroke-opacity=\"0.45\"" : "");
        fprintf(out, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">", lx[k] + 20, ly[k]);
        html_escape(out, s->name);
        fputs("</text>\n", out);
    }
    fputs("</svg>\n", out);
}
