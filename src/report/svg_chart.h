/* svg_chart.h — draw one line or scatter chart as inline SVG (internal to src/report).
 *
 * A chart borrows everything it points at; svg_chart_write only reads it.
 * Each series becomes one <path data-series="NAME"> (lines) or a <g
 * data-series="NAME"> of circles (scatter), so tests and readers can find
 * them; NaN values break a line instead of drawing through it.
 */
#ifndef NNX_REPORT_SVG_CHART_H
#define NNX_REPORT_SVG_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* SVG_MAX_SERIES: the most series a page names in one legend (a comparison's
 * runs); SVG_MAX_LINES: the most a chart holds (lines left out of the legend). */
enum { SVG_MAX_SERIES = 24, SVG_MAX_LINES = 64, SVG_MAX_MARKS = 4 };

typedef struct svg_series {
    const char   *name;         /* legend text */
    const double *x;            /* [n], or NULL for 1..n */
    const double *y;            /* [n] */
    size_t        n;
    const char  *const *tips;   /* [n] hover text per point (scatter), or NULL */
    int           color;        /* index into the palette */
    bool          dashed;
    bool          scatter;      /* circles, no line */
    bool          faint;        /* thin and light (raw step losses) */
    bool          nolegend;     /* drawn, but not named in the legend (a series with n = 0 names a group) */
} svg_series;

typedef struct svg_mark {       /* a vertical line at x with a label */
    double      x;
    const char *label;
    int         color;
} svg_mark;

typedef struct svg_chart {
    const char *title;
    const char *xlabel;
    int         width, height;  /* 0 = 520 x 260 */
    bool        log_x;          /* needs every x > 0 */
    bool        integer_x;      /* x ticks on whole numbers only (epochs) */
    const char *const *xcats;   /* categorical x: x values are 0..ncats-1 */
    size_t      ncats;
    svg_series  series[SVG_MAX_LINES];
    size_t      nseries;
    svg_mark    marks[SVG_MAX_MARKS];
    size_t      nmarks;
} svg_chart;

/* Append a series / mark (ignored when full). */
svg_series *svg_chart_add(svg_chart *c, const char *name, const double *x, const double *y,
                          size_t n, int color);
void svg_chart_mark(svg_chart *c, double x, const char *label, int color);

void svg_chart_write(FILE *out, const svg_chart *c);

/* The palette's CSS colour for an index (wraps around). */
const char *svg_color(int i);

/* Write s with &, <, >, " escaped for HTML text and attributes. */
void html_escape(FILE *out, const char *s);

#endif
