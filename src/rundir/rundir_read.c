/* rundir_read.c — read a run, search or ensemble directory (docs/run-directory.md) into structs. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnx/rundir.h"

static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    size_t n = a;
    if (a && dir[a - 1] != '/')
        p[n++] = '/';
    memcpy(p + n, name, b + 1);
    return p;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* True when the whole cell is a number strtod reads (nan and inf included). */
static bool cell_is_number(const char *s)
{
    while (*s == ' ')
        s++;
    char *end;
    strtod(s, &end);
    if (end == s)
        return false;
    while (*end == ' ')
        end++;
    return *end == '\0';
}

/* Every cell of a table must be empty or a number. */
static int check_numeric(const nnx_table *t, const char *path, nnx_rt_error *err)
{
    for (size_t c = 0; c < t->ncols; c++)
        for (size_t r = 0; r < t->nrows; r++) {
            const char *cell = nnx_table_cell(t, r, c);
            if (cell[0] && !cell_is_number(cell))
                return nnx_rt_fail(err, "%s:%zu: column '%s': '%s' is not a number", path,
                                   r + 2, t->names[c], cell);
        }
    return 0;
}

/* A named column must exist and hold increasing positive whole numbers. */
static int check_counter(const nnx_table *t, const char *name, bool required, const char *path,
                         nnx_rt_error *err)
{
    const double *v = nnx_table_column(t, name);
    if (!v)
        return required ? nnx_rt_fail(err, "%s:1: no '%s' column", path, name) : 0;
    for (size_t r = 0; r < t->nrows; r++) {
        if (!isfinite(v[r]) || v[r] < 1 || v[r] != floor(v[r]))
            return nnx_rt_fail(err, "%s:%zu: %s '%s' is not a whole number >= 1", path, r + 2,
                               name, nnx_table_cell(t, r, (size_t)nnx_table_find(t, name)));
        if (r > 0 && v[r] < v[r - 1])
            return nnx_rt_fail(err, "%s:%zu: %s %.0f after %s %.0f (must not decrease)", path,
                               r + 2, name, v[r], name, v[r - 1]);
    }
    return 0;
}

/* A run's metrics.csv or steps.csv.  A run killed while writing a row (kill -9,
 * a crash) leaves a last line without its newline: that unfinished row is left out. */
static int read_run_table(const char *path, nnx_table *t, nnx_rt_error *err)
{
    memset(t, 0, sizeof *t);
    size_t len;
    char *text = nnx_file_read(path, 0, &len, err);
    if (!text)
        return -1;
    size_t end = len;
    while (end && text[end - 1] != '\n')
        end--;
    if (end)                            /* keep the header and every whole row */
        len = end;
    int rc = nnx_table_parse(text, len, path, t, err);
    free(text);
    return rc;
}

static nnx_json *read_summary(const char *path, nnx_rt_error *err)
{
    size_t len;
    char *text = nnx_file_read(path, 0, &len, err);
    if (!text)
        return NULL;
    nnx_json_error jerr;
    nnx_json *v = nnx_json_parse(text, len, &jerr);
    free(text);
    if (!v) {
        nnx_rt_fail(err, "%s:%d:%d: %s", path, jerr.line, jerr.col, jerr.msg);
        return NULL;
    }
    if (v->type != NNX_JSON_OBJECT) {
        nnx_json_free(v);
        nnx_rt_fail(err, "%s: expected a JSON object at the top", path);
        return NULL;
    }
    return v;
}

/* The select metric and direction from a summary's "select" member. */
static void read_select(const nnx_json *summary, const char **metric, bool *max)
{
    const nnx_json *sel = nnx_json_get(summary, "select");
    const char *m = nnx_json_as_string(nnx_json_get(sel, "metric"), NULL);
    const char *mode = nnx_json_as_string(nnx_json_get(sel, "mode"), NULL);
    if (m)
        *metric = m;
    if (mode)
        *max = !strcmp(mode, "max");
}

/* A number of summary.json's "setup", or 0 when absent or not a number. */
static double setup_number(const nnx_json *setup, const char *key)
{
    double v = nnx_json_as_number(nnx_json_get(setup, key));
    return isfinite(v) && v >= 0 && v < 1e15 ? v : 0;
}

static void read_setup(const nnx_json *s, nnx_diag_setup *out)
{
    const nnx_json *j = nnx_json_get(s, "setup");
    const char *source = nnx_json_as_string(nnx_json_get(s, "source"), "");
    const char *name = nnx_json_as_string(nnx_json_get(s, "experiment"), "");
    *out = (nnx_diag_setup){
        .known = j != NULL, .source = source[0] ? source : NULL, .experiment = name[0] ? name : NULL,
        .lr = setup_number(j, "lr"), .batch = (int)setup_number(j, "batch"),
        .train_rows = (long)setup_number(j, "train_rows"),
        .dropout = setup_number(j, "dropout"), .weight_decay = setup_number(j, "weight_decay"),
        .parameters = (long)setup_number(j, "parameters"), .epochs = (int)setup_number(j, "epochs"),
        .prior_loss = setup_number(j, "prior_loss"), .features = (long)setup_number(j, "features"),
        .classes = (int)setup_number(j, "classes"),
    };
}

int nnx_run_read(const char *dir, bool need_metrics, nnx_run *run, nnx_rt_error *err)
{
    memset(run, 0, sizeof *run);
    run->experiment = "";
    run->status = "unknown";
    run->select_metric = "valid.loss";
    run->chance_loss = NAN;
    run->path = strdup(dir);
    if (!run->path)
        return nnx_rt_fail(err, "out of memory");
    if (!is_dir(dir)) {
        nnx_rt_fail(err, "%s: not a directory", dir);
        goto fail;
    }

    char *p = path_join(dir, "metrics.csv");
    if (!p) {
        nnx_rt_fail(err, "out of memory");
        goto fail;
    }
    if (is_file(p)) {
        int rc = read_run_table(p, &run->metrics, err);
        if (!rc)
            rc = check_numeric(&run->metrics, p, err);
        if (!rc)
            rc = check_counter(&run->metrics, "epoch", true, p, err);
        if (!rc && nnx_table_find(&run->metrics, "train.loss") < 0)
            rc = nnx_rt_fail(err, "%s:1: no 'train.loss' column", p);
        run->has_metrics = rc == 0;
        if (rc) {
            free(p);
            goto fail;
        }
    } else if (need_metrics) {
        nnx_rt_fail(err, "%s: no metrics.csv (not a run directory, or the run failed before "
                         "its first epoch)", dir);
        free(p);
        goto fail;
    }
    free(p);

    p = path_join(dir, "steps.csv");
    if (!p) {
        nnx_rt_fail(err, "out of memory");
        goto fail;
    }
    if (is_file(p)) {
        int rc = read_run_table(p, &run->steps, err);
        if (!rc)
            rc = check_numeric(&run->steps, p, err);
        if (!rc)
            rc = check_counter(&run->steps, "step", true, p, err);
        if (!rc)
            rc = check_counter(&run->steps, "epoch", false, p, err);
        if (!rc && nnx_table_find(&run->steps, "loss") < 0)
            rc = nnx_rt_fail(err, "%s:1: no 'loss' column", p);
        run->has_steps = rc == 0;
        if (rc) {
            free(p);
            goto fail;
        }
    }
    free(p);

    p = path_join(dir, "summary.json");
    if (!p) {
        nnx_rt_fail(err, "out of memory");
        goto fail;
    }
    if (is_file(p)) {
        run->summary = read_summary(p, err);
        if (!run->summary) {
            free(p);
            goto fail;
        }
        const nnx_json *s = run->summary;
        run->experiment = nnx_json_as_string(nnx_json_get(s, "experiment"), run->experiment);
        run->status = nnx_json_as_string(nnx_json_get(s, "status"), run->status);
        read_select(s, &run->select_metric, &run->select_max);
        double e = nnx_json_as_number(nnx_json_get(nnx_json_get(s, "select"), "epoch"));
        if (isfinite(e) && e >= 1 && e < 1e9)
            run->select_epoch = (int)e;
        run->chance_loss = nnx_json_as_number(nnx_json_get(s, "chance_loss"));
        read_setup(s, &run->setup);
    }
    free(p);
    return 0;

fail:
    nnx_run_free(run);
    return -1;
}

void nnx_run_free(nnx_run *run)
{
    free(run->path);
    nnx_json_free(run->summary);
    nnx_table_free(&run->metrics);
    nnx_table_free(&run->steps);
    memset(run, 0, sizeof *run);
}

int nnx_run_curves(const nnx_run *run, nnx_curves *c, nnx_rt_error *err)
{
    memset(c, 0, sizeof *c);
    if (!run->has_metrics)
        return nnx_rt_fail(err, "%s: no metrics.csv (status %s)", run->path, run->status);
    if (run->metrics.nrows == 0)
        return nnx_rt_fail(err, "%s: no epochs in metrics.csv", run->path);
    const nnx_table *m = &run->metrics;
    c->epochs = m->nrows;
    c->train_loss = nnx_table_column(m, "train.loss");
    c->valid_loss = nnx_table_column(m, "valid.loss");
    c->lr = nnx_table_column(m, "lr");
    c->select_metric = run->select_metric;
    c->select_max = run->select_max;
    c->select_values = nnx_table_column(m, run->select_metric);
    if (run->has_steps && run->steps.nrows) {
        c->steps = run->steps.nrows;
        c->step_loss = nnx_table_column(&run->steps, "loss");
        c->step_epoch = nnx_table_column(&run->steps, "epoch");
        c->step_lr = nnx_table_column(&run->steps, "lr");
        c->step_loss_sd = nnx_table_column(&run->steps, "loss_sd");
    }
    c->chance_loss = run->chance_loss;
    c->diverged = !strcmp(run->status, "diverged");
    c->setup = run->setup;
    return 0;
}

/* ---- search and ensemble directories ------------------------------------ */

const char *nnx_rundir_kind_name(nnx_rundir_kind k)
{
    switch (k) {
    case NNX_RUNDIR_RUN:      return "run";
    case NNX_RUNDIR_SEARCH:   return "search";
    case NNX_RUNDIR_ENSEMBLE: return "ensemble";
    }
    return "unknown";
}

/* Lower is better for losses and errors; higher for everything else. */
static bool metric_is_max(const char *name)
{
    return !(strstr(name, "loss") || strstr(name, "mae") || strstr(name, "mse") ||
             strstr(name, "error"));
}

static int alloc_children(nnx_rundir *d, size_t n, nnx_rt_error *err)
{
    d->nchildren = n;
    d->child_names = calloc(n + 1, sizeof *d->child_names);
    d->children = calloc(n + 1, sizeof *d->children);
    d->child_errors = calloc(n + 1, sizeof *d->child_errors);
    if (!d->child_names || !d->children || !d->child_errors)
        return nnx_rt_fail(err, "out of memory");
    return 0;
}

/* Read child i from PARENT/SUB/NAME, keeping (not returning) its error. */
static int read_child(nnx_rundir *d, size_t i, const char *sub, const char *name,
                      nnx_rt_error *err)
{
    d->child_names[i] = strdup(name);
    if (!d->child_names[i])
        return nnx_rt_fail(err, "out of memory");
    nnx_rt_error child_err = { { 0 } };
    if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
        snprintf(child_err.msg, sizeof child_err.msg, "'%s' is not a usable directory name", name);
    } else {
        char *subdir = path_join(d->path, sub);
        char *dir = subdir ? path_join(subdir, name) : NULL;
        free(subdir);
        if (!dir)
            return nnx_rt_fail(err, "out of memory");
        nnx_run_read(dir, false, &d->children[i], &child_err);
        free(dir);
    }
    if (child_err.msg[0]) {
        d->child_errors[i] = strdup(child_err.msg);
        if (!d->child_errors[i])
            return nnx_rt_fail(err, "out of memory");
    }
    return 0;
}

static int read_search(nnx_rundir *d, nnx_rt_error *err)
{
    char *p = path_join(d->path, "trials.csv");
    if (!p)
        return nnx_rt_fail(err, "out of memory");
    int rc = nnx_table_read(p, &d->trials, err);
    if (!rc && (d->trials.ncols == 0 || strcmp(d->trials.names[0], "trial") != 0))
        rc = nnx_rt_fail(err, "%s:1: the first column must be 'trial'", p);
    d->status_col = rc ? -1 : nnx_table_find(&d->trials, "status");
    if (!rc && d->status_col < 0)
        rc = nnx_rt_fail(err, "%s:1: no 'status' column", p);
    free(p);
    if (rc)
        return -1;
    d->nparams = (size_t)d->status_col - 1;
    d->epoch_col = nnx_table_find(&d->trials, "epoch");

    d->select_metric = NULL;
    d->select_max = true;
    if (d->summary)
        read_select(d->summary, &d->select_metric, &d->select_max);
    if (d->select_metric)
        d->metric_col = nnx_table_find(&d->trials, d->select_metric);
    else if (d->epoch_col >= 0 && (size_t)d->epoch_col + 1 < d->trials.ncols) {
        d->metric_col = d->epoch_col + 1;
        d->select_metric = d->trials.names[d->metric_col];
        d->select_max = metric_is_max(d->select_metric);
    } else {
        d->metric_col = -1;
    }

    if (alloc_children(d, d->trials.nrows, err) < 0)
        return -1;
    for (size_t r = 0; r < d->trials.nrows; r++)
        if (read_child(d, r, "trials", nnx_table_cell(&d->trials, r, 0), err) < 0)
            return -1;
    return 0;
}

/* Seeds in numeric order ("2" before "10"), other names after, by name. */
static int compare_members(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    char *ex, *ey;
    double vx = strtod(x, &ex), vy = strtod(y, &ey);
    bool nx = *x && !*ex, ny = *y && !*ey;
    if (nx && ny && vx != vy)
        return vx < vy ? -1 : 1;
    if (nx != ny)
        return nx ? -1 : 1;
    return strcmp(x, y);
}

static int read_ensemble(nnx_rundir *d, nnx_rt_error *err)
{
    d->select_metric = "valid.loss";
    d->select_max = false;
    if (d->summary)
        read_select(d->summary, &d->select_metric, &d->select_max);
    d->status_col = d->epoch_col = d->metric_col = -1;

    char *members = path_join(d->path, "members");
    if (!members)
        return nnx_rt_fail(err, "out of memory");
    DIR *dp = opendir(members);
    if (!dp) {
        nnx_rt_fail(err, "%s: %s", members, strerror(errno));
        free(members);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *full = path_join(members, e->d_name);
        bool dir = full && is_dir(full);
        free(full);
        if (!dir)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            char **more = realloc(names, cap * sizeof *names);
            if (!more) {
                rc = nnx_rt_fail(err, "out of memory");
                break;
            }
            names = more;
        }
        names[n] = strdup(e->d_name);
        if (!names[n]) {
            rc = nnx_rt_fail(err, "out of memory");
            break;
        }
        n++;
    }
    closedir(dp);
    if (!rc && n == 0)
        rc = nnx_rt_fail(err, "%s: no member directories", members);
    free(members);
    if (!rc) {
        qsort(names, n, sizeof *names, compare_members);
        rc = alloc_children(d, n, err);
    }
    for (size_t i = 0; !rc && i < n; i++)
        rc = read_child(d, i, "members", names[i], err);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int nnx_rundir_read(const char *path, nnx_rundir *d, nnx_rt_error *err)
{
    memset(d, 0, sizeof *d);
    d->status_col = d->epoch_col = d->metric_col = -1;
    d->path = strdup(path);
    if (!d->path)
        return nnx_rt_fail(err, "out of memory");
    if (!is_dir(path)) {
        nnx_rt_fail(err, "%s: %s", path, errno == ENOENT ? "no such directory" : "not a directory");
        nnx_rundir_free(d);
        return -1;
    }
    char *trials = path_join(path, "trials.csv");
    char *members = path_join(path, "members");
    char *summary = path_join(path, "summary.json");
    int rc = 0;
    if (!trials || !members || !summary) {
        rc = nnx_rt_fail(err, "out of memory");
    } else if (is_file(trials) || is_dir(members)) {
        d->kind = is_file(trials) ? NNX_RUNDIR_SEARCH : NNX_RUNDIR_ENSEMBLE;
        if (is_file(summary)) {
            d->summary = read_summary(summary, err);
            if (!d->summary)
                rc = -1;
        }
        if (!rc)
            rc = d->kind == NNX_RUNDIR_SEARCH ? read_search(d, err) : read_ensemble(d, err);
    } else {
        d->kind = NNX_RUNDIR_RUN;
        rc = nnx_run_read(path, true, &d->run, err);
    }
    free(trials);
    free(members);
    free(summary);
    if (rc)
        nnx_rundir_free(d);
    return rc;
}

void nnx_rundir_free(nnx_rundir *d)
{
    free(d->path);
    nnx_run_free(&d->run);
    nnx_json_free(d->summary);
    nnx_table_free(&d->trials);
    for (size_t i = 0; i < d->nchildren; i++) {
        if (d->child_names)
            free(d->child_names[i]);
        if (d->children)
            nnx_run_free(&d->children[i]);
        if (d->child_errors)
            free(d->child_errors[i]);
    }
    free(d->child_names);
    free(d->children);
    free(d->child_errors);
    memset(d, 0, sizeof *d);
    d->status_col = d->epoch_col = d->metric_col = -1;
}
