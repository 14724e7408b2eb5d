/* runs_list.c — find the run, search and ensemble directories under a directory and read their summary.json. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnx/provenance.h"
#include "nnx/util/file.h"
#include "nnx/rundir.h"
#include "nnx/runs.h"

enum { MAX_DEPTH = 4, MAX_SUMMARY = 16 << 20 };

static int problem(nnx_runs *r, const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    char **p = realloc(r->problems, (r->nproblems + 1) * sizeof *p);
    if (p)
        r->problems = p;
    if (!s || !p) {
        free(s);
        return -1;
    }
    snprintf(s, n, fmt, a, b);
    r->problems[r->nproblems++] = s;
    return 0;
}

/* Parse a whole JSON file; NULL with a message in err. */
static nnx_json *read_json(const char *path, nnx_rt_error *err)
{
    size_t len = 0;
    char *text = nnx_file_read(path, MAX_SUMMARY, &len, err);
    if (!text)
        return NULL;
    nnx_json_error je;
    nnx_json *j = nnx_json_parse(text, len, &je);
    free(text);
    if (!j)
        nnx_rt_fail(err, "%s:%d:%d: %s", path, je.line, je.col, je.msg);
    else if (j->type != NNX_JSON_OBJECT) {
        nnx_json_free(j);
        j = NULL;
        nnx_rt_fail(err, "%s: not a JSON object", path);
    }
    return j;
}

static int as_int(const nnx_json *v)
{
    double x = nnx_json_as_number(v);
    return isfinite(x) && x >= 0 && x < 1e9 ? (int)x : 0;
}

/* The fields of an entry from a run's summary (s), or a search winner's. */
static void run_fields(nnx_runs_entry *e, const nnx_json *s)
{
    const nnx_json *sel = nnx_json_get(s, "select");
    e->select_value = nnx_json_as_number(nnx_json_get(sel, "value"));
    e->epoch = as_int(nnx_json_get(sel, "epoch"));
    e->epochs = as_int(nnx_json_get(s, "epochs_run"));
    e->seconds = nnx_json_as_number(nnx_json_get(nnx_json_get(s, "timing"), "total_seconds"));
    e->metrics = nnx_json_get(s, "metrics");
}

/* A search's total time: the seconds of its trials (trials.csv), summed; NaN when none is known. */
static double search_seconds(const char *dir)
{
    char *path = nnx_path_join(dir, "trials.csv");
    nnx_table t = { 0 };
    nnx_rt_error err;
    double sum = NAN;
    if (path && nnx_table_read(path, &t, &err) == 0) {
        const double *sec = nnx_table_column(&t, "seconds");
        for (size_t i = 0; sec && i < t.nrows; i++)
            if (isfinite(sec[i]))
                sum = isnan(sum) ? sec[i] : sum + sec[i];
        nnx_table_free(&t);
    }
    free(path);
    return sum;
}

/* An ensemble's total time: its members' total_seconds, summed; NaN when none is known. */
static double members_seconds(const char *dir, const nnx_json *seeds)
{
    double sum = NAN;
    for (size_t i = 0; seeds && seeds->type == NNX_JSON_ARRAY && i < seeds->n; i++) {
        const nnx_json *sd = nnx_json_at(seeds, i);
        char seed[64];
        if (sd->type == NNX_JSON_NUMBER)
            snprintf(seed, sizeof seed, "%.17g", nnx_json_as_number(sd));
        else
            snprintf(seed, sizeof seed, "%s", nnx_json_as_string(sd, ""));
        if (!seed[0] || strchr(seed, '/') || !strcmp(seed, ".."))
            continue;
        char sub[96];
        snprintf(sub, sizeof sub, "members/%s/summary.json", seed);
        char *path = nnx_path_join(dir, sub);
        nnx_json *m = path ? read_json(path, NULL) : NULL;
        double x = nnx_json_as_number(nnx_json_get(nnx_json_get(m, "timing"), "total_seconds"));
        if (isfinite(x))
            sum = isnan(sum) ? x : sum + x;
        nnx_json_free(m);
        free(path);
    }
    return sum;
}

static int add_entry(nnx_runs *r, const char *dir, const char *summary_path, double when)
{
    nnx_rt_error err = { { 0 } };
    nnx_json *s = read_json(summary_path, &err);
    if (!s)
        return problem(r, "%s%s", err.msg, "");
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        nnx_runs_entry *it = realloc(r->items, cap * sizeof *it);
        if (!it) {
            nnx_json_free(s);
            return -1;
        }
        r->items = it;
        r->cap = cap;
    }
    nnx_runs_entry *e = &r->items[r->n];
    memset(e, 0, sizeof *e);
    e->path = malloc(strlen(dir) + 1);
    if (!e->path) {
        nnx_json_free(s);
        return -1;
    }
    strcpy(e->path, dir);
    r->n++;
    e->summary = s;
    e->when = when;
    e->select_value = NAN;
    e->seconds = NAN;
    e->experiment = nnx_json_as_string(nnx_json_get(s, "experiment"), "");
    const nnx_json *sel = nnx_json_get(s, "select");
    e->select = nnx_json_as_string(nnx_json_get(sel, "metric"), "");
    e->select_max = !strcmp(nnx_json_as_string(nnx_json_get(sel, "mode"), ""), "max");
    e->git = nnx_json_get(s, "git");
    const char *kind = nnx_json_as_string(nnx_json_get(s, "kind"), "run");
    if (!strcmp(kind, "search")) {
        e->kind = "search";
        snprintf(e->status, sizeof e->status, "%d/%d trials", as_int(nnx_json_get(s, "trials_done")),
                 as_int(nnx_json_get(s, "trials_planned")));
        const char *win = nnx_json_as_string(nnx_json_get(s, "winner"), NULL);
        if (win && !strchr(win, '/') && strcmp(win, "..")) {
            size_t n = strlen(dir) + strlen(win) + 32;
            char *wp = malloc(n);
            if (!wp)
                return -1;
            snprintf(wp, n, "%s/trials/%s/summary.json", dir, win);
            e->winner = read_json(wp, NULL);
            free(wp);
        }
        if (e->winner)
            run_fields(e, e->winner);
        e->select_value = nnx_json_as_number(nnx_json_get(s, "winner_value"));
        e->seconds = search_seconds(dir);     /* every trial's, not the winner's */
    } else if (!strcmp(kind, "ensemble")) {
        e->kind = "ensemble";
        const nnx_json *m = nnx_json_get(s, "members");
        int ok = 0, n = m && m->type == NNX_JSON_ARRAY ? (int)m->n : 0;
        for (int i = 0; i < n; i++) {
            const char *st = nnx_json_as_string(nnx_json_get(nnx_json_at(m, (size_t)i), "status"), "");
            ok += !strcmp(st, "completed") || !strcmp(st, "stopped");
        }
        int seeds = 0;
        const nnx_json *sd = nnx_json_get(s, "seeds");
        seeds = sd && sd->type == NNX_JSON_ARRAY ? (int)sd->n : n;
        snprintf(e->status, sizeof e->status, "%d/%d members", ok, seeds > n ? seeds : n);
        e->metrics = nnx_json_get(nnx_json_get(s, "ensemble"), "metrics");
        e->select_value = nnx_json_as_number(nnx_json_get(e->metrics, e->select));
        e->seconds = members_seconds(dir, sd);
    } else {
        e->kind = "run";
        snprintf(e->status, sizeof e->status, "%s", nnx_json_as_string(nnx_json_get(s, "status"), "unknown"));
        run_fields(e, s);
    }
    return 0;
}

static int scan(const char *dir, int depth, nnx_runs *r)
{
    char *sp = nnx_path_join(dir, "summary.json");
    if (!sp)
        return -1;
    struct stat st;
    if (stat(sp, &st) == 0 && S_ISREG(st.st_mode)) {
        double when = (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
        int rc = add_entry(r, dir, sp, when);
        free(sp);
        return rc;
    }
    free(sp);
    if (depth >= MAX_DEPTH)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    /* sorted, so that equal times list in name order */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *ent;
    int rc = 0;
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        if (!(names[n] = malloc(strlen(ent->d_name) + 1))) {
            rc = -1;
            break;
        }
        strcpy(names[n++], ent->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *sub = nnx_path_join(dir, names[i]);
        if (!sub) {
            rc = -1;
            break;
        }
        struct stat ss;
        if (stat(sub, &ss) == 0 && S_ISDIR(ss.st_mode))
            rc = scan(sub, depth + 1, r);
        free(sub);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int nnx_runs_scan(const char *dir, nnx_runs *r, nnx_rt_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return nnx_rt_fail(err, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return nnx_rt_fail(err, "%s: not a directory", dir);
    size_t len = strlen(dir);
    char *d = malloc(len + 1);
    if (!d)
        return nnx_rt_fail(err, "out of memory");
    strcpy(d, dir);
    while (len > 1 && d[len - 1] == '/')
        d[--len] = 0;
    int rc = scan(d, 0, r);
    free(d);
    return rc < 0 ? nnx_rt_fail(err, "out of memory listing %s", dir) : 0;
}

void nnx_runs_free(nnx_runs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].path);
        nnx_json_free(r->items[i].summary);
        nnx_json_free(r->items[i].winner);
    }
    free(r->items);
    for (size_t i = 0; i < r->nproblems; i++)
        free(r->problems[i]);
    free(r->problems);
    memset(r, 0, sizeof *r);
}

double nnx_runs_metric(const nnx_runs_entry *e, const char *name)
{
    const nnx_json *v = nnx_json_get(e->metrics, name);
    if (v)
        return nnx_json_as_number(v);
    if (e->select[0] && !strcmp(name, e->select))
        return e->select_value;
    return NAN;
}

void nnx_runs_commit(const nnx_runs_entry *e, char *buf, size_t size)
{
    const nnx_json *g = e->git;
    const nnx_json *c = nnx_json_get(g, "commit");
    bool in_repo = g && nnx_json_get(g, "repository");
    const nnx_json *dirty = nnx_json_get(g, "dirty");
    nnx_provenance_short(c && c->type == NNX_JSON_STRING ? c->string : NULL,
                         dirty && dirty->type == NNX_JSON_BOOL && dirty->boolean, in_repo, buf, size);
}
