/* lr_reading.c — one line on a learning-rate search: where the best lr is, which ones diverged or were still improving. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/search_int.h"

static bool is_lr_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    return !strcmp(dot ? dot + 1 : path, "lr");
}

/* Append ", X" or "X" to a list being built in buf. */
static void append(char *buf, size_t size, const char *text)
{
    size_t len = strlen(buf);
    if (len + 1 < size)
        snprintf(buf + len, size - len, "%s", text);
}

typedef struct lr_row {
    double lr;
    const nnx_search_row *row;
    const char *text;
} lr_row;

static int by_lr(const void *a, const void *b)
{
    double x = ((const lr_row *)a)->lr, y = ((const lr_row *)b)->lr;
    return x < y ? -1 : x > y;
}

/* Add "<values> <what>" for the rows that `pick` selects. */
static void clause(char *buf, size_t size, const lr_row *r, size_t n, const nnx_search_row *best,
                   bool (*pick)(const lr_row *, const nnx_search_row *), const char *one, const char *many)
{
    size_t k = 0;
    char list[256] = "";
    for (size_t i = 0; i < n; i++)
        if (pick(&r[i], best)) {
            append(list, sizeof list, k++ ? ", " : "");
            append(list, sizeof list, r[i].text);
        }
    if (!k)
        return;
    append(buf, size, "; ");
    append(buf, size, list);
    append(buf, size, k == 1 ? one : many);
}

static bool diverged(const lr_row *r, const nnx_search_row *best)
{
    (void)best;
    return !strcmp(r->row->status, "diverged");
}

static bool failed(const lr_row *r, const nnx_search_row *best)
{
    (void)best;
    return !strcmp(r->row->status, "failed") || !strcmp(r->row->status, "interrupted");
}

static bool improving(const lr_row *r, const nnx_search_row *best)
{
    (void)best;
    return !strcmp(r->row->status, "completed") && r->row->epoch > 0 && r->row->epoch == r->row->epochs_run;
}

void nnx_search_lr_reading(const nnx_search_result *res, char *buf, size_t size)
{
    if (size)
        buf[0] = 0;
    long p = -1;
    for (size_t i = 0; i < res->nparams; i++)
        if (is_lr_path(res->paths[i]))
            p = (long)i;
    if (p < 0 || res->nrows < 2 || res->kind == NNX_SEARCH_ENSEMBLE || size < 2)
        return;
    lr_row *r = malloc(res->nrows * sizeof *r);
    if (!r)
        return;
    size_t n = 0;
    for (size_t i = 0; i < res->nrows; i++) {
        const nnx_search_row *row = &res->rows[i];
        bool others_base = true;    /* the curve is read where only the lr differs */
        for (size_t q = 0; q < row->nvalues; q++)
            if ((long)q != p && row->values[q][0] && res->nparams > 1 && res->kind == NNX_SEARCH_STAGED)
                others_base = false;
        char *end;
        double lr = (size_t)p < row->nvalues ? strtod(row->values[p], &end) : NAN;
        if (!others_base || !isfinite(lr) || *end)
            continue;
        r[n++] = (lr_row){ lr, row, row->values[p] };
    }
    /* in a grid with other axes, read the lr curve at the winner's other values */
    const nnx_search_row *win = res->winner >= 0 ? &res->rows[res->winner] : NULL;
    if (res->kind != NNX_SEARCH_STAGED && res->nparams > 1 && win) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            bool same = true;
            for (size_t q = 0; q < win->nvalues; q++)
                if ((long)q != p && strcmp(r[i].row->values[q], win->values[q]))
                    same = false;
            if (same)
                r[k++] = r[i];
        }
        n = k;
    }
    if (n < 2) {
        free(r);
        return;
    }
    qsort(r, n, sizeof *r, by_lr);
    const lr_row *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (srch_row_group(r[i].row) == 0 &&
            (!best || srch_row_compare(r[i].row, best->row, res->select_max) < 0))
            best = &r[i];
    if (best) {
        snprintf(buf, size, "best at %s (%s %.4g)", best->text, res->select, best->row->value);
        if (best == &r[0])
            append(buf, size, ", the smallest lr tried: try smaller ones");
        else if (best == &r[n - 1])
            append(buf, size, ", the largest lr tried: try larger ones");
    } else
        snprintf(buf, size, "no lr gave a value of %s", res->select);
    clause(buf, size, r, n, best ? best->row : NULL, diverged, " diverged", " diverged");
    clause(buf, size, r, n, NULL, failed, " failed", " failed");
    clause(buf, size, r, n, NULL, improving, " still improving at the last epoch",
           " still improving at the last epoch");
    free(r);
}
