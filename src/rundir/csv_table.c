/* csv_table.c — read a CSV file with a header row into a column-major table of cells and numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rundir.h"

/* A growing list of strings: the cells of the file in row-major order. */
typedef struct strlist {
    char  **items;
    size_t  n, cap;
} strlist;

static int strlist_push(strlist *l, char *s)
{
    if (!s)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **items = realloc(l->items, cap * sizeof *items);
        if (!items) {
            free(s);
            return -1;
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = s;
    return 0;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
}

/* The number a cell holds: strtod over the whole (trimmed) cell, else NaN. */
static double cell_number(const char *s)
{
    while (*s == ' ')
        s++;
    if (!*s)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    return *end ? NAN : v;
}

/* Parse one cell at text[*pos]; sets *at_eol when the row ended after it. */
static char *parse_cell(const char *text, size_t len, size_t *pos, bool *at_eol,
                        const char *path, int line, nnx_rt_error *err)
{
    size_t i = *pos;
    char *out;
    if (i < len && text[i] == '"') {
        out = malloc(len - i + 1);
        if (!out) {
            nnx_rt_fail(err, "%s:%d: out of memory", path, line);
            return NULL;
        }
        size_t n = 0;
        i++;
        for (;;) {
            if (i >= len) {
                free(out);
                nnx_rt_fail(err, "%s:%d: a quoted cell is not closed", path, line);
                return NULL;
            }
            if (text[i] == '"') {
                if (i + 1 < len && text[i + 1] == '"') {
                    out[n++] = '"';
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            out[n++] = text[i++];
        }
        out[n] = '\0';
        if (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
            free(out);
            nnx_rt_fail(err, "%s:%d: unexpected '%c' after a quoted cell", path, line, text[i]);
            return NULL;
        }
    } else {
        size_t start = i;
        while (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
            if (text[i] == '"') {
                nnx_rt_fail(err, "%s:%d: a quote inside an unquoted cell", path, line);
                return NULL;
            }
            i++;
        }
        out = malloc(i - start + 1);
        if (!out) {
            nnx_rt_fail(err, "%s:%d: out of memory", path, line);
            return NULL;
        }
        memcpy(out, text + start, i - start);
        out[i - start] = '\0';
    }
    *at_eol = true;
    if (i < len && text[i] == ',') {
        *at_eol = false;
        i++;
    } else if (i < len && text[i] == '\r') {
        i++;
        if (i < len && text[i] == '\n')
            i++;
    } else if (i < len && text[i] == '\n') {
        i++;
    }
    *pos = i;
    return out;
}

int nnx_table_parse(const char *text, size_t len, const char *path, nnx_table *t,
                    nnx_rt_error *err)
{
    memset(t, 0, sizeof *t);
    strlist cells = { 0 };
    size_t pos = 0, ncols = 0, nrows = 0;
    int line = 1;
    if (len == 0) {
        nnx_rt_fail(err, "%s: empty file (expected a header row)", path);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        nnx_rt_fail(err, "%s: a NUL byte: not a CSV text file", path);
        return -1;
    }
    while (pos < len) {
        size_t row_cells = 0;
        int row_line = line;
        bool eol = false;
        while (!eol) {
            size_t before = pos;
            char *cell = parse_cell(text, len, &pos, &eol, path, row_line, err);
            if (!cell) {
                strlist_free(&cells);
                return -1;
            }
            if (strlist_push(&cells, cell) < 0) {
                strlist_free(&cells);
                return nnx_rt_fail(err, "%s:%d: out of memory", path, row_line);
            }
            for (size_t k = before; k < pos; k++)
                line += text[k] == '\n';
            row_cells++;
            if (pos >= len)
                eol = true;
        }
        if (nrows == 0 && ncols == 0) {
            ncols = row_cells;
        } else {
            if (row_cells == 1 && !cells.items[cells.n - 1][0]) {
                /* A blank line: allowed only as the very last line. */
                free(cells.items[--cells.n]);
                if (pos < len) {
                    nnx_rt_fail(err, "%s:%d: a blank line inside the table", path, row_line);
                    strlist_free(&cells);
                    return -1;
                }
                continue;
            }
            if (row_cells != ncols) {
                nnx_rt_fail(err, "%s:%d: %zu cells, but the header has %zu columns", path,
                            row_line, row_cells, ncols);
                strlist_free(&cells);
                return -1;
            }
            nrows++;
        }
    }
    for (size_t c = 0; c < ncols; c++) {
        if (!cells.items[c][0]) {
            nnx_rt_fail(err, "%s:1: column %zu has an empty name", path, c + 1);
            strlist_free(&cells);
            return -1;
        }
        for (size_t d = 0; d < c; d++)
            if (!strcmp(cells.items[c], cells.items[d])) {
                nnx_rt_fail(err, "%s:1: column '%s' appears twice", path, cells.items[c]);
                strlist_free(&cells);
                return -1;
            }
    }
    t->ncols = ncols;
    t->nrows = nrows;
    t->names = malloc(ncols * sizeof *t->names);
    t->cells = malloc((ncols * nrows + 1) * sizeof *t->cells);
    t->values = malloc((ncols * nrows + 1) * sizeof *t->values);
    if (!t->names || !t->cells || !t->values) {
        free(t->names);
        free(t->cells);
        free(t->values);
        memset(t, 0, sizeof *t);
        strlist_free(&cells);
        return nnx_rt_fail(err, "%s: out of memory", path);
    }
    for (size_t c = 0; c < ncols; c++)
        t->names[c] = cells.items[c];
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++) {
            char *cell = cells.items[(r + 1) * ncols + c];
            t->cells[c * nrows + r] = cell;
            t->values[c * nrows + r] = cell_number(cell);
        }
    free(cells.items);   /* the strings now belong to the table */
    return 0;
}

int nnx_table_read(const char *path, nnx_table *t, nnx_rt_error *err)
{
    memset(t, 0, sizeof *t);
    size_t len;
    char *text = nnx_file_read(path, 0, &len, err);
    if (!text)
        return -1;
    int rc = nnx_table_parse(text, len, path, t, err);
    free(text);
    return rc;
}

void nnx_table_free(nnx_table *t)
{
    for (size_t c = 0; c < t->ncols; c++)
        free(t->names[c]);
    for (size_t i = 0; i < t->ncols * t->nrows; i++)
        free(t->cells[i]);
    free(t->names);
    free(t->cells);
    free(t->values);
    memset(t, 0, sizeof *t);
}

int nnx_table_find(const nnx_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (!strcmp(t->names[c], name))
            return (int)c;
    return -1;
}

const double *nnx_table_column(const nnx_table *t, const char *name)
{
    int c = nnx_table_find(t, name);
    return c < 0 ? NULL : t->values + (size_t)c * t->nrows;
}

const char *nnx_table_cell(const nnx_table *t, size_t row, size_t col)
{
    if (row >= t->nrows || col >= t->ncols)
        return "";
    return t->cells[col * t->nrows + row];
}
