/* report_html.h — pieces of the HTML report that the comparison page shares (internal to src/report). */
#ifndef NNX_REPORT_HTML_H
#define NNX_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "nnx/diagnose.h"

/* The page's inline style sheet. */
extern const char report_page_css[];
/* A number as the report shows it (%.4g; "–" for NaN). */
void report_fmt_num(char *buf, size_t n, double v);
/* The finding cards of one curve kind. */
void report_finding_cards(FILE *out, const nnx_findings *f, nnx_curve_kind kind);

/* The settings table: a row per path (the union of the lists, in the first
 * list's order; the layers together in one row, those a later list adds or
 * changes against the first in bold), a column per list headed by labels[i];
 * with several lists a row whose values are not all equal has class
 * "differs".  A value a list lacks shows as "–". */
struct nnx_exp_param;
void report_settings_table(FILE *out, const struct nnx_exp_param *const *lists, const size_t *counts,
                           const char *const *labels, size_t n);

#endif
