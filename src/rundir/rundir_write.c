/* rundir_write.c — making a run directory and writing its files (metrics.csv, summary.json, atomic whole files). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nnx/util/json.h"
#include "nnx/provenance.h"
#include "nnx/rundir.h"
#include "nnx/util/file.h"
#include "rundir/rundir_write.h"

#define NNX_VERSION_STRING "0.1.0"

int nnx_rundir_create(const char *out_dir, const char *name, char **path, nnx_rt_error *err)
{
    *path = NULL;
    if (nnx_mkdirs(out_dir, err) < 0)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t h = ((uint64_t)ts.tv_sec * 1000000007ull) ^ (uint64_t)ts.tv_nsec ^
                 ((uint64_t)getpid() << 20);
    size_t len = strlen(out_dir) + strlen(name) + 16;
    char *p = malloc(len);
    if (!p)
        return nnx_rt_fail(err, "out of memory");
    for (int attempt = 0; attempt < 100; attempt++) {
        h ^= h >> 33;                       /* splitmix-style scramble */
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        snprintf(p, len, "%s/%s-%06x", out_dir, name, (unsigned)(h & 0xffffff));
        if (mkdir(p, 0777) == 0) {
            *path = p;
            return 0;
        }
        if (errno != EEXIST) {
            int e = errno;
            nnx_rt_fail(err, "%s: cannot make the run directory: %s", p, strerror(e));
            free(p);
            return -1;
        }
        h += 0x9E3779B97F4A7C15ull;
    }
    free(p);
    return nnx_rt_fail(err, "%s: no free run directory name for '%s'", out_dir, name);
}

void nnx_csv_put_number(FILE *f, double v)
{
    if (isnan(v))
        fputs("nan", f);
    else if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", f);
    else
        fprintf(f, "%.9g", v);
}

/* --- metrics.csv ------------------------------------------------------------ */

static void put_header(FILE *f, char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? "," : "", names[i]);
    fputc('\n', f);
}

static void put_row(FILE *f, const double *v, const bool *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        if (!set || set[i])
            nnx_csv_put_number(f, v[i]);
    }
    fputc('\n', f);
}

int nnx_metrics_log_open(nnx_metrics_log *l, const char *path, const char *const *names,
                         size_t n, nnx_rt_error *err)
{
    memset(l, 0, sizeof *l);
    l->path = malloc(strlen(path) + 1);
    l->names = calloc(n ? n : 1, sizeof *l->names);
    if (!l->path || !l->names)
        goto oom;
    strcpy(l->path, path);
    for (size_t i = 0; i < n; i++) {
        l->names[i] = malloc(strlen(names[i]) + 1);
        if (!l->names[i])
            goto oom;
        strcpy(l->names[i], names[i]);
        l->ncols++;
    }
    if (nnx_append_open(&l->out, path, 1, err) < 0) {
        nnx_metrics_log_close(l);
        return -1;
    }
    put_header(l->out.f, l->names, l->ncols);
    if (nnx_append_flush(&l->out, err) < 0) {
        nnx_metrics_log_close(l);
        return -1;
    }
    return 0;
oom:
    nnx_metrics_log_close(l);
    return nnx_rt_fail(err, "out of memory");
}

/* Write the header and rows held in memory to the file (atomically), then
 * open it for appending. */
static int rewrite_whole(nnx_metrics_log *l, nnx_rt_error *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return nnx_rt_fail(err, "out of memory");
    put_header(m, l->names, l->ncols);
    for (size_t r = 0; r < l->nrows; r++)
        put_row(m, l->vals + r * l->ncols, l->set + r * l->ncols, l->ncols);
    fclose(m);
    nnx_append_abort(&l->out);     /* every row it holds is in `text` */
    int rc = nnx_file_write(l->path, text, len, 0, err);
    free(text);
    if (rc < 0)
        return -1;
    return nnx_append_open(&l->out, l->path, 0, err);
}

int nnx_metrics_log_resume(nnx_metrics_log *l, const char *path, const char *const *names,
                           size_t n, int keep, nnx_rt_error *err)
{
    memset(l, 0, sizeof *l);
    nnx_table t;
    if (nnx_table_read(path, &t, err) < 0)
        return -1;
    int rc = -1;
    bool same = n >= 1 && t.ncols >= n && !strcmp(t.names[t.ncols - 1], names[n - 1]);
    for (size_t i = 0; same && i + 1 < n; i++)
        same = !strcmp(t.names[i], names[i]);
    if (!same) {
        nnx_rt_fail(err, "%s: its columns are not this experiment's", path);
        goto done;
    }
    l->path = malloc(strlen(path) + 1);
    l->names = calloc(t.ncols, sizeof *l->names);
    l->cap = t.nrows ? t.nrows : 1;
    l->vals = malloc(l->cap * t.ncols * sizeof *l->vals);
    l->set = malloc(l->cap * t.ncols * sizeof *l->set);
    if (!l->path || !l->names || !l->vals || !l->set) {
        nnx_rt_fail(err, "out of memory");
        goto done;
    }
    strcpy(l->path, path);
    for (size_t c = 0; c < t.ncols; c++) {
        l->names[c] = malloc(strlen(t.names[c]) + 1);
        if (!l->names[c]) {
            nnx_rt_fail(err, "out of memory");
            goto done;
        }
        strcpy(l->names[c], t.names[c]);
        l->ncols++;
    }
    for (size_t r = 0; r < t.nrows; r++) {
        double epoch = t.values[r];         /* column 0 */
        if (!(epoch >= 1 && epoch <= keep))
            continue;
        if ((double)(l->nrows + 1) != epoch) {
            nnx_rt_fail(err, "%s: epoch %g is out of order", path, epoch);
            goto done;
        }
        for (size_t c = 0; c < t.ncols; c++) {
            l->vals[l->nrows * t.ncols + c] = t.values[c * t.nrows + r];
            l->set[l->nrows * t.ncols + c] = t.cells[c * t.nrows + r][0] != '\0';
        }
        l->nrows++;
    }
    if ((int)l->nrows != keep) {
        nnx_rt_fail(err, "%s: holds %zu complete epochs, the saved state %d", path, l->nrows,
                    keep);
        goto done;
    }
    rc = rewrite_whole(l, err);
done:
    nnx_table_free(&t);
    if (rc < 0)
        nnx_metrics_log_close(l);
    return rc;
}

int nnx_metrics_log_find(const nnx_metrics_log *l, const char *name)
{
    for (size_t i = 0; i < l->ncols; i++)
        if (!strcmp(l->names[i], name))
            return (int)i;
    return -1;
}

int nnx_metrics_log_add_column(nnx_metrics_log *l, const char *name, nnx_rt_error *err)
{
    size_t at = l->ncols ? l->ncols - 1 : 0, nc = l->ncols + 1;
    char *copy = malloc(strlen(name) + 1);
    char **names = realloc(l->names, nc * sizeof *names);
    if (names)
        l->names = names;
    double *vals = malloc((l->cap ? l->cap : 1) * nc * sizeof *vals);
    bool *set = malloc((l->cap ? l->cap : 1) * nc * sizeof *set);
    if (!copy || !names || !vals || !set) {
        free(copy), free(vals), free(set);
        return nnx_rt_fail(err, "out of memory");
    }
    strcpy(copy, name);
    memmove(l->names + at + 1, l->names + at, (l->ncols - at) * sizeof *l->names);
    l->names[at] = copy;
    for (size_t r = 0; r < l->nrows; r++)
        for (size_t c = 0, o = 0; c < nc; c++) {
            if (c == at) {
                vals[r * nc + c] = NAN;
                set[r * nc + c] = false;
                continue;
            }
            vals[r * nc + c] = l->vals[r * l->ncols + o];
            set[r * nc + c] = l->set[r * l->ncols + o];
            o++;
        }
    free(l->vals);
    free(l->set);
    l->vals = vals;
    l->set = set;
    l->ncols = nc;

    /* rewrite the whole file with the new header, then append from there */
    if (rewrite_whole(l, err) < 0)
        return -1;
    return (int)at;
}

int nnx_metrics_log_row(nnx_metrics_log *l, const double *vals, const bool *set,
                        nnx_rt_error *err)
{
    if (l->nrows == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        double *v = realloc(l->vals, cap * l->ncols * sizeof *v);
        if (v)
            l->vals = v;
        bool *s = realloc(l->set, cap * l->ncols * sizeof *s);
        if (s)
            l->set = s;
        if (!v || !s)
            return nnx_rt_fail(err, "out of memory");
        l->cap = cap;
    }
    for (size_t i = 0; i < l->ncols; i++) {
        l->vals[l->nrows * l->ncols + i] = vals[i];
        l->set[l->nrows * l->ncols + i] = set ? set[i] : true;
    }
    if (!l->out.f)
        return nnx_append_flush(&l->out, err);     /* says why it is closed */
    put_row(l->out.f, vals, set, l->ncols);
    if (nnx_append_flush(&l->out, err) < 0)
        return -1;
    l->nrows++;
    return 0;
}

int nnx_metrics_log_finish(nnx_metrics_log *l, nnx_rt_error *err)
{
    return l->out.path ? nnx_append_close(&l->out, err) : 0;
}

void nnx_metrics_log_close(nnx_metrics_log *l)
{
    nnx_append_abort(&l->out);
    for (size_t i = 0; i < l->ncols; i++)
        free(l->names[i]);
    free(l->names);
    free(l->path);
    free(l->vals);
    free(l->set);
    memset(l, 0, sizeof *l);
}

/* --- summary.json ------------------------------------------------------------- */

/* The words summary.json (and the readers of run directories) use for a run's status. */
const char *nnx_run_status_name(nnx_run_status s)
{
    static const char *const names[] = { "completed", "stopped", "diverged", "interrupted",
                                         "failed", "running", "pruned" };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "failed";
}

/* A parameter's canonical text as a JSON number when it is one. */
static void put_param_value(nnx_json_writer *w, const char *text)
{
    char *end;
    double v = strtod(text, &end);
    if (end != text && *end == '\0' && isfinite(v))
        nnx_json_number(w, v);
    else if (!strcmp(text, "true") || !strcmp(text, "false"))
        nnx_json_bool(w, text[0] == 't');
    else
        nnx_json_string(w, text);
}

/* "setup": what the diagnosis needs to know of the experiment (see diagnose.h). */
static void write_setup(nnx_json_writer *w, const nnx_diag_setup *s)
{
    nnx_json_key(w, "setup");
    nnx_json_begin_object(w);
    nnx_json_key_number(w, "lr", s->lr);
    nnx_json_key_int(w, "batch", s->batch);
    nnx_json_key_number(w, "train_rows", (double)s->train_rows);
    nnx_json_key_number(w, "dropout", s->dropout);
    nnx_json_key_number(w, "weight_decay", s->weight_decay);
    nnx_json_key_number(w, "parameters", (double)s->parameters);
    nnx_json_key_int(w, "epochs", s->epochs);
    if (s->prior_loss > 0)
        nnx_json_key_number(w, "prior_loss", s->prior_loss);
    if (s->features > 0)
        nnx_json_key_number(w, "features", (double)s->features);
    if (s->classes > 0)
        nnx_json_key_int(w, "classes", s->classes);
    nnx_json_end_object(w);
}

int nnx_summary_write(const char *dir, const nnx_summary_info *info, const nnx_run_result *r,
                      nnx_rt_error *err)
{
    nnx_json_writer w;
    nnx_json_writer_to_buffer(&w, 2);
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "nnx_version", NNX_VERSION_STRING);
    nnx_json_key_string(&w, "experiment", info->experiment);
    nnx_json_key_string(&w, "source", info->source);
    nnx_json_key_string(&w, "source_sha256", info->source_sha256);
    nnx_json_key_number(&w, "seed", (double)info->seed);
    nnx_json_key_string(&w, "status", nnx_run_status_name(r->status));
    nnx_json_key_string(&w, "status_message", r->message ? r->message : "");
    if (info->trial_index)
        nnx_json_key_int(&w, "trial_index", (long long)info->trial_index);
    if (r->retry)
        nnx_json_key_bool(&w, "retry", true);
    nnx_json_key(&w, "warnings");
    nnx_json_begin_array(&w);
    for (size_t i = 0; i < r->nwarnings; i++)
        nnx_json_string(&w, r->warnings[i]);
    nnx_json_end_array(&w);
    nnx_json_key(&w, "params");
    nnx_json_begin_object(&w);
    for (size_t i = 0; i < info->nparams; i++) {
        nnx_json_key(&w, info->params[i].path);
        put_param_value(&w, info->params[i].value);
    }
    nnx_json_end_object(&w);
    nnx_json_key_int(&w, "epochs_run", r->epochs_run);
    nnx_json_key_int(&w, "batch", r->batch);
    nnx_json_key(&w, "select");
    nnx_json_begin_object(&w);
    nnx_json_key_string(&w, "metric", r->select_name);
    nnx_json_key_string(&w, "mode", r->select_max ? "max" : "min");
    if (r->select_epoch > 0)
        nnx_json_key_int(&w, "epoch", r->select_epoch);
    else
        (nnx_json_key(&w, "epoch"), nnx_json_null(&w));
    nnx_json_key_number(&w, "value", r->select_epoch > 0 ? r->select_value : NAN);
    if (r->select_ties > 1) {
        nnx_json_key_int(&w, "ties", r->select_ties);
        nnx_json_key_string(&w, "tie_break", "lowest valid.loss");
    }
    nnx_json_end_object(&w);
    nnx_json_key(&w, "lowest_valid_loss");
    nnx_json_begin_object(&w);
    if (r->lowest_loss_epoch > 0)
        nnx_json_key_int(&w, "epoch", r->lowest_loss_epoch);
    else
        (nnx_json_key(&w, "epoch"), nnx_json_null(&w));
    nnx_json_key_number(&w, "value", r->lowest_loss_epoch > 0 ? r->lowest_loss : NAN);
    nnx_json_end_object(&w);
    nnx_json_key(&w, "metrics");
    nnx_json_begin_object(&w);
    for (size_t i = 0; i < r->nmetrics; i++)
        nnx_json_key_number(&w, r->metric_names[i], r->metric_values[i]);
    nnx_json_end_object(&w);
    nnx_json_key(&w, "timing");
    nnx_json_begin_object(&w);
    nnx_json_key_number(&w, "total_seconds", r->total_seconds);
    nnx_json_key_number(&w, "seconds_per_epoch", r->seconds_per_epoch);
    nnx_json_end_object(&w);
    if (!isnan(info->chance_loss))
        nnx_json_key_number(&w, "chance_loss", info->chance_loss);
    if (info->class_names) {
        nnx_json_key(&w, "class_names");
        nnx_json_begin_array(&w);
        for (size_t c = 0; c < info->nclasses; c++)
            nnx_json_string(&w, info->class_names[c]);
        nnx_json_end_array(&w);
    }
    if (info->setup)
        write_setup(&w, info->setup);
    nnx_json_key(&w, "diagnosis");
    nnx_findings_write_json(&r->diagnosis, &w);
    if (info->settings) {
        nnx_json_key(&w, "settings");
        nnx_json_begin_object(&w);
        for (size_t i = 0; i < info->nsettings; i++)
            nnx_json_key_string(&w, info->settings[i].path, info->settings[i].value);
        nnx_json_end_object(&w);
    }
    nnx_provenance_write_json(info->provenance, &w);
    nnx_json_end_object(&w);
    char *path = nnx_path_join(dir, "summary.json");
    int rc = path ? nnx_json_writer_save(&w, path, 0, err) : nnx_rt_fail(err, "out of memory");
    nnx_json_writer_free(&w);
    free(path);
    return rc;
}
