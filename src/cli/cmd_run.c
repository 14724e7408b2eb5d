/* cmd_run.c — `nnx run FILE [NAME]`: check the experiment, train it, show progress, say how it went. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nnx/check.h"
#include "nnx/diagnose.h"
#include "nnx/exp.h"
#include "nnx/resolve.h"
#include "nnx/run.h"

enum { EXIT_INTERRUPTED = 130, MAX_SETS = 64 };

/* Raised by SIGINT; the trial polls it after every batch.  A signal handler
 * can reach nothing else, so this one flag is process-wide. */
static volatile sig_atomic_t interrupt_flag;

static void on_sigint(int sig)
{
    (void)sig;
    interrupt_flag = 1;
}

typedef struct view {
    bool   quiet, verbose, tty;
    bool   in_plan;         /* a trial of a search or ensemble: a short header */
    FILE  *out;
    double last_draw;
    bool   bar_shown;
    size_t ncols;
    const nnx_experiment *e;
} view;

/* The Lua stdlib (nnx/metrics.lua): stdlib/lua beside the binary, or the
 * installed one, found as the resolver finds stdlib/ for imports.  NULL if
 * none; the result is malloc'd. */
static char *find_lua_stdlib(void)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *tails[] = { "stdlib/lua", "../share/nnx/stdlib/lua" };
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        for (size_t i = 0; slash && i < 2; i++) {
            size_t len = (size_t)(slash - exe) + strlen(tails[i]) + 2;
            char *dir = malloc(len);
            if (!dir)
                return NULL;
            snprintf(dir, len, "%.*s/%s", (int)(slash - exe), exe, tails[i]);
            struct stat st;
            if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
                return dir;
            free(dir);
        }
    }
    const char *installed = "/usr/local/share/nnx/stdlib/lua";
    struct stat st;
    if (stat(installed, &st) == 0 && S_ISDIR(st.st_mode)) {
        char *dir = malloc(strlen(installed) + 1);
        if (dir)
            strcpy(dir, installed);
        return dir;
    }
    return NULL;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void clear_bar(view *v)
{
    if (v->bar_shown) {
        fputs("\r\033[K", v->out);
        v->bar_shown = false;
    }
}

/* --- the header ------------------------------------------------------------------- */

static void describe_schedule(const nnx_experiment *e, char *buf, size_t n)
{
    const nnx_exp_schedule *s = &e->schedule;
    size_t k = 0;
    if (s->warmup > 0)
        k += (size_t)snprintf(buf + k, n - k, "warmup %g epoch%s, ", s->warmup,
                              s->warmup == 1 ? "" : "s");
    switch (s->decay) {
    case NNX_XDECAY_NONE: snprintf(buf + k, n - k, "constant"); break;
    case NNX_XDECAY_COSINE: snprintf(buf + k, n - k, "cosine to %g", s->min_lr); break;
    case NNX_XDECAY_LINEAR: snprintf(buf + k, n - k, "linear to %g", s->min_lr); break;
    case NNX_XDECAY_POLY: snprintf(buf + k, n - k, "poly(%g) to %g", s->power, s->min_lr); break;
    case NNX_XDECAY_STEP: snprintf(buf + k, n - k, "x%g every %g epochs", s->gamma, s->every); break;
    case NNX_XDECAY_MULTISTEP: snprintf(buf + k, n - k, "x%g at %zu milestones", s->gamma, s->nat); break;
    case NNX_XDECAY_EXP: snprintf(buf + k, n - k, "x%g per epoch", s->gamma); break;
    case NNX_XDECAY_PLATEAU: {
        char on[64];
        nnx_exp_metric_ref_str(e, s->on, on, sizeof on);
        snprintf(buf + k, n - k, "x%g after %d epochs without progress of %s", s->factor,
                 s->patience, on);
        break;
    }
    }
}

static void print_header(view *v, const nnx_run_setup *s)
{
    const nnx_experiment *e = v->e;
    FILE *o = v->out;
    char sel[64], buf[256];
    fprintf(o, "experiment  %s  (%s)\n", e->name, e->file ? e->file : "?");
    for (size_t i = 0; i < e->nparams; i++)
        fprintf(o, "  --set     %s = %s\n", e->params[i].path, e->params[i].value);
    fprintf(o, "data        %s: %d train", e->data.name, (int)s->rows[NNX_XSPLIT_TRAIN]);
    if (s->rows[NNX_XSPLIT_VALID])
        fprintf(o, ", %d valid", (int)s->rows[NNX_XSPLIT_VALID]);
    if (s->rows[NNX_XSPLIT_TEST])
        fprintf(o, ", %d test", (int)s->rows[NNX_XSPLIT_TEST]);
    fprintf(o, " rows, %d features", (int)s->features);
    if (s->classes)
        fprintf(o, ", %d classes", (int)s->classes);
    fputc('\n', o);
    fprintf(o, "network     %s: %zu layers, %zu parameters\n", e->net.name, e->net.nlayers,
            s->nparams);
    if (v->verbose)
        for (size_t i = 0; i < e->net.nlayers; i++) {
            const nnx_exp_layer *l = &e->net.layers[i];
            fprintf(o, "  %-10s ", nnx_exp_op_name(l->op));
            for (int r = 0; r < l->out.rank; r++)
                fprintf(o, "%s%d", r ? "x" : "-> ", l->out.d[r]);
            fputc('\n', o);
        }
    fprintf(o, "training    %s, %s(lr = %g", nnx_exp_loss_name(e->loss.kind),
            nnx_exp_optim_name(e->optim.kind), e->optim.lr);
    if (e->optim.weight_decay > 0)
        fprintf(o, ", weight_decay = %g", e->optim.weight_decay);
    describe_schedule(e, buf, sizeof buf);
    fprintf(o, "), %s; %d epochs, batch %d%s (%d steps/epoch), seed %llu\n", buf, e->epochs,
            (int)s->batch, s->batch_auto ? " (auto: about sqrt of the train rows)" : "",
            (int)s->batches, (unsigned long long)e->seed);
    nnx_exp_metric_ref_str(e, e->select, sel, sizeof sel);
    fprintf(o, "select      %s(%s)", e->select.maximize ? "max" : "min", sel);
    if (e->early_stop.enabled) {
        nnx_exp_metric_ref_str(e, e->early_stop.on, buf, sizeof buf);
        fprintf(o, ", early stop after %d epochs without progress of %s", e->early_stop.patience,
                buf);
    }
    fputc('\n', o);
    fprintf(o, "run dir     %s\n\n", s->dir);
}

static void print_table_header(view *v, const char *const *cols, size_t n)
{
    FILE *o = v->out;
    fprintf(o, "%5s", "epoch");
    for (size_t i = 1; i < n; i++)
        fprintf(o, " %*s", i + 1 == n ? 8 : 12, cols[i]);
    fputc('\n', o);
    v->ncols = n;
}

/* --- callbacks --------------------------------------------------------------------- */

static void cb_setup(void *user, const nnx_run_setup *s)
{
    view *v = user;
    if (s->batch_auto && v->quiet)
        fprintf(v->out, "batch = auto: %d\n", (int)s->batch);
    if (v->quiet)
        return;
    if (v->in_plan)
        fprintf(v->out, "run dir     %s\n", s->dir);
    else
        print_header(v, s);
    print_table_header(v, s->columns, s->ncolumns);
    fflush(v->out);
}

static void cb_progress(void *user, const nnx_run_progress *p)
{
    view *v = user;
    if (v->quiet || !v->tty)
        return;
    double t = now_seconds();
    if (p->batch != p->batches && t - v->last_draw < 0.1)
        return;
    v->last_draw = t;
    enum { W = 24 };
    int fill = (int)((double)W * p->batch / p->batches);
    char bar[W + 1];
    for (int i = 0; i < W; i++)
        bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[W] = '\0';
    double rate = p->seconds > 0 ? (double)p->rows_done / p->seconds : 0;
    double eta = p->batch > 0 ? p->seconds * (p->batches - p->batch) / p->batch : 0;
    fprintf(v->out, "\r\033[Kepoch %d/%d [%s] %d/%d  loss %.4f  %.0f samples/s  ETA %.0fs",
            p->epoch, p->epochs, bar, (int)p->batch, (int)p->batches, p->running_loss, rate,
            eta);
    fflush(v->out);
    v->bar_shown = true;
}

static void cb_epoch(void *user, const nnx_run_epoch *ev)
{
    view *v = user;
    if (v->quiet)
        return;
    clear_bar(v);
    if (ev->ncolumns != v->ncols)
        print_table_header(v, ev->columns, ev->ncolumns);
    FILE *o = v->out;
    fprintf(o, "%5d", ev->epoch);
    for (size_t i = 1; i < ev->ncolumns; i++) {
        double x = ev->values[i];
        if (i + 1 == ev->ncolumns)
            fprintf(o, " %7.2fs", x);
        else if (isnan(x) && strcmp(ev->columns[i], "train.loss"))
            fprintf(o, " %12s", "");
        else
            fprintf(o, " %12.6g", x);
    }
    fputs(ev->best ? "  *\n" : "\n", o);
    fflush(o);
}

static void cb_note(void *user, const char *text)
{
    view *v = user;
    if (v->quiet && strncmp(text, "logging failed", 14) && strncmp(text, "weights not", 11))
        return;
    clear_bar(v);
    fprintf(v->out, "  %s\n", text);
    fflush(v->out);
}

/* --- the end ---------------------------------------------------------------------- */

static void print_summary(view *v, const nnx_run_result *r)
{
    FILE *o = v->out;
    clear_bar(v);
    fputc('\n', o);
    fprintf(o, "status      %s%s%s\n", nnx_run_status_name(r->status),
            r->message && r->message[0] ? ": " : "", r->message ? r->message : "");
    if (r->select_epoch > 0) {
        fprintf(o, "selected    epoch %d of %d: %s(%s) = %.6g", r->select_epoch, r->epochs_run,
                r->select_max ? "max" : "min", r->select_name, r->select_value);
        if (r->lowest_loss_epoch > 0 && r->lowest_loss_epoch != r->select_epoch)
            fprintf(o, " (the lowest loss, %.6g, was at epoch %d)", r->lowest_loss,
                    r->lowest_loss_epoch);
        fputc('\n', o);
        bool any = false;
        for (size_t i = 0; i < r->nmetrics; i++)
            if (!strncmp(r->metric_names[i], "test.", 5)) {
                fprintf(o, "%s%s = %.6g", any ? ", " : "test        ", r->metric_names[i],
                        r->metric_values[i]);
                any = true;
            }
        if (any)
            fputc('\n', o);
    } else {
        fprintf(o, "selected    no epoch completed; no weights kept\n");
    }
    if (r->epochs_run > 0)
        fprintf(o, "time        %.2fs (%.3fs per epoch)\n", r->total_seconds,
                r->seconds_per_epoch);
    if (r->dir)
        fprintf(o, "run dir     %s\n", r->dir);
    if (r->diagnosis.n) {
        fprintf(o, "diagnosis\n");
        for (size_t i = 0; i < r->diagnosis.n; i++) {
            const nnx_finding *f = &r->diagnosis.items[i];
            fprintf(o, "  %-7s [%s] %s\n", nnx_severity_name(f->severity),
                    nnx_rule_name(f->rule), f->message);
        }
    } else if (r->epochs_run > 0) {
        fprintf(o, "diagnosis   nothing to report: the curves look healthy\n");
    }
    fflush(o);
}

/* --- searches and ensembles ------------------------------------------------------ */

static void cb_trial_begin(void *user, const nnx_run_trial_event *t)
{
    view *v = user;
    v->e = t->e;
    if (v->quiet)
        return;
    fprintf(v->out, "\n[%zu/%zu] %s %s", t->index, t->total,
            v->e && v->e->nensemble ? "member seed" : "trial", t->name);
    if (t->stages)
        fprintf(v->out, "  (stage %d of %d)", t->stage, t->stages);
    fputc('\n', v->out);
    fflush(v->out);
}

static void cb_trial_end(void *user, const nnx_run_trial_event *t)
{
    view *v = user;
    const nnx_run_trial_row *r = t->row;
    clear_bar(v);
    fprintf(v->out, "%s%s: %s", v->quiet ? "" : "  -> ", r->name, nnx_run_status_name(r->status));
    if (r->select_epoch > 0)
        fprintf(v->out, ", epoch %d, select %.6g", r->select_epoch, r->select_value);
    if (r->message && r->message[0] && r->status != NNX_RUN_COMPLETED)
        fprintf(v->out, " (%s)", r->message);
    fputc('\n', v->out);
    fflush(v->out);
}

static void cb_stage_end(void *user, int stage, const char *path, const char *value)
{
    view *v = user;
    fprintf(v->out, "stage %d keeps %s = %s\n", stage, path, value);
    fflush(v->out);
}

static void print_leaderboard(view *v, const nnx_experiment *e, const nnx_run_plan_result *r)
{
    FILE *o = v->out;
    char sel[64];
    nnx_exp_metric_ref_str(e, e->select, sel, sizeof sel);
    fprintf(o, "\n%-32s %-11s %5s %12s", e->nensemble ? "seed" : "trial", "status", "epoch", sel);
    for (size_t i = 0; i < r->ntest; i++)
        fprintf(o, " %12s", r->test_names[i]);
    fputc('\n', o);
    /* best first; trials without a value last, in run order */
    size_t *order = malloc((r->ntrials ? r->ntrials : 1) * sizeof *order);
    if (!order)
        return;
    size_t n = 0;
    for (size_t i = 0; i < r->ntrials; i++)
        order[n++] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0; j--) {
            double a = r->trials[order[j]].select_value, b = r->trials[order[j - 1]].select_value;
            bool swap = !isnan(a) && (isnan(b) || (e->select.maximize ? a > b : a < b));
            if (!swap)
                break;
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t k = 0; k < n; k++) {
        const nnx_run_trial_row *t = &r->trials[order[k]];
        fprintf(o, "%-32s %-11s", t->name, nnx_run_status_name(t->status));
        if (t->select_epoch > 0)
            fprintf(o, " %5d %12.6g", t->select_epoch, t->select_value);
        else
            fprintf(o, " %5s %12s", "", "");
        for (size_t i = 0; i < r->ntest; i++)
            fprintf(o, " %12.6g", t->test[i]);
        fputs((long)order[k] == r->winner && !e->nensemble ? "  <- best\n" : "\n", o);
    }
    free(order);
    if (r->ensemble_test) {
        fprintf(o, "%-32s %-11s %5s %12s", "ensemble (mean probabilities)", "", "", "");
        for (size_t i = 0; i < r->ntest; i++)
            fprintf(o, " %12.6g", r->ensemble_test[i]);
        fputc('\n', o);
    }
    fprintf(o, "\nstatus      %s%s%s\n", nnx_run_status_name(r->status),
            r->message && r->message[0] ? ": " : "", r->message ? r->message : "");
    fprintf(o, "run dir     %s\n", r->dir);
    fflush(o);
}

static int run_plan(view *v, nnx_checker *c, const char *name, const nnx_override *sets,
                    size_t nsets, const nnx_experiment *e, nnx_run_opts *o, bool color)
{
    nnx_diags d = { 0 };
    nnx_run_plan_callbacks pcb = { .user = v, .trial_begin = cb_trial_begin,
                                   .trial_end = cb_trial_end, .stage_end = cb_stage_end };
    v->in_plan = true;
    char sel[64];
    nnx_exp_metric_ref_str(e, e->select, sel, sizeof sel);
    if (e->nensemble)
        fprintf(v->out, "experiment  %s: an ensemble of %zu seeds, each selected by %s(%s)\n",
                e->name, e->nensemble, e->select.maximize ? "max" : "min", sel);
    else
        fprintf(v->out, "experiment  %s: %s search, best by %s(%s)\n", e->name,
                nnx_exp_search_name(e->search.kind), e->select.maximize ? "max" : "min", sel);
    fflush(v->out);
    nnx_run_plan_result r;
    int status;
    if (nnx_run_plan(c, name, sets, nsets, e, o, &pcb, &r, &d) < 0) {
        nnx_diags_print(&d, stderr, color);
        fprintf(stderr, "nnx run: %s; nothing was trained\n", r.message ? r.message : "failed");
        status = EXIT_BAD_INPUT;
    } else {
        print_leaderboard(v, e, &r);
        status = r.status == NNX_RUN_INTERRUPTED ? EXIT_INTERRUPTED
               : r.status == NNX_RUN_COMPLETED   ? EXIT_OK
                                                 : EXIT_RUN_FAILED;
    }
    nnx_run_plan_result_free(&r);
    nnx_diags_free(&d);
    return status;
}

static int usage(FILE *f, int status)
{
    fprintf(f,
            "usage: nnx run FILE [NAME] [--set path=value]... [-j N] [--out DIR] [--quiet | --verbose]\n"
            "  check and train experiment NAME of FILE (the only one when NAME is left out),\n"
            "  writing a run directory under DIR (default runs/)\n"
            "  --set path=value   override a setting, checked like a line of the file (repeatable)\n"
            "  -j N               BLAS threads (default 1)\n"
            "  --quiet            print only the final summary;  --verbose  also the layers\n"
            "exit status: 0 trained, 1 the run diverged or failed, 2 bad input, 130 interrupted\n");
    return status;
}

static int run_status_exit(nnx_run_status s)
{
    switch (s) {
    case NNX_RUN_COMPLETED: case NNX_RUN_STOPPED: return EXIT_OK;
    case NNX_RUN_INTERRUPTED: return EXIT_INTERRUPTED;
    case NNX_RUN_DIVERGED: case NNX_RUN_FAILED: break;
    }
    return EXIT_RUN_FAILED;
}

int cmd_run(int argc, char **argv)
{
    const char *file = NULL, *name = NULL, *out_dir = "runs";
    nnx_override sets[MAX_SETS];
    size_t nsets = 0;
    int threads = 1;
    view v = { .out = stdout };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout, EXIT_OK);
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            v.quiet = true;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            v.verbose = true;
        } else if (!strcmp(a, "--set") || !strncmp(a, "--set=", 6)) {
            char *arg = a[5] == '=' ? argv[i] + 6 : (i + 1 < argc ? argv[++i] : NULL);
            if (!arg) {
                fprintf(stderr, "nnx run: --set needs path=value\n");
                return EXIT_BAD_INPUT;
            }
            if (nsets == MAX_SETS) {
                fprintf(stderr, "nnx run: at most %d --set options\n", MAX_SETS);
                return EXIT_BAD_INPUT;
            }
            if (!nnx_override_split(arg, &sets[nsets])) {
                fprintf(stderr, "nnx run: --set '%s': expected path=value, e.g. "
                        "--set optimizer.lr=3e-4\n", arg);
                return EXIT_BAD_INPUT;
            }
            nsets++;
        } else if (!strcmp(a, "-j") || !strncmp(a, "-j", 2)) {
            const char *n = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            char *end;
            long j = n ? strtol(n, &end, 10) : 0;
            if (!n || *end || j < 1 || j > 256) {
                fprintf(stderr, "nnx run: -j needs a thread count from 1 to 256\n");
                return EXIT_BAD_INPUT;
            }
            threads = (int)j;
        } else if (!strcmp(a, "--out") || !strncmp(a, "--out=", 6)) {
            out_dir = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : NULL);
            if (!out_dir || !*out_dir) {
                fprintf(stderr, "nnx run: --out needs a directory\n");
                return EXIT_BAD_INPUT;
            }
        } else if (!strcmp(a, "--resume")) {
            fprintf(stderr, "nnx run: --resume is not supported yet\n");
            return EXIT_BAD_INPUT;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nnx run: unknown option '%s'\n", a);
            return usage(stderr, EXIT_BAD_INPUT);
        } else if (!file) {
            file = a;
        } else if (!name) {
            name = a;
        } else {
            fprintf(stderr, "nnx run: unexpected argument '%s'\n", a);
            return usage(stderr, EXIT_BAD_INPUT);
        }
    }
    if (!file)
        return usage(stderr, EXIT_BAD_INPUT);

    bool color = isatty(fileno(stderr));
    nnx_diags d = { 0 };
    nnx_program *p = nnx_program_load(file, NULL, &d);
    nnx_checker *c = p ? nnx_checker_new(p) : NULL;
    nnx_experiment *e = NULL;
    if (c && d.nerrors == 0)
        e = nnx_check_experiment(c, name, sets, nsets, &d);
    if (!e) {
        nnx_diags_print(&d, stderr, color);
        if (!d.nerrors)
            fprintf(stderr, "nnx run: out of memory\n");
        else
            fprintf(stderr, "%s: %d error%s; nothing was trained\n", file, d.nerrors,
                    d.nerrors == 1 ? "" : "s");
        nnx_diags_free(&d);
        nnx_checker_free(c);
        nnx_program_free(p);
        return EXIT_BAD_INPUT;
    }
    nnx_diags_print(&d, stderr, color);     /* warnings */
    v.tty = isatty(fileno(stdout));
    v.e = e;
    struct sigaction sa = { 0 };
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;     /* a second Ctrl-C ends the process at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    nnx_run_callbacks cb = { .user = &v, .setup = cb_setup, .progress = cb_progress,
                             .epoch = cb_epoch, .note = cb_note };
    nnx_run_opts o = { .out_dir = out_dir, .source = file, .threads = threads,
                       .interrupt = &interrupt_flag, .cb = &cb,
                       .mlflow_uri = getenv("MLFLOW_TRACKING_URI") };
    char *lua_stdlib = find_lua_stdlib();
    o.lua_stdlib = lua_stdlib;
    int status;
    if (e->search.kind != NNX_XSEARCH_NONE || e->nensemble) {
        status = run_plan(&v, c, name, sets, nsets, e, &o, color);
    } else {
        nnx_run_result r;
        if (nnx_run_trial(e, &o, &r) < 0) {
            clear_bar(&v);
            fprintf(stderr, "nnx run: %s\nnothing was trained\n", r.message ? r.message : "failed");
            status = EXIT_BAD_INPUT;
        } else {
            print_summary(&v, &r);
            status = run_status_exit(r.status);
        }
        nnx_run_result_free(&r);
    }
    signal(SIGINT, SIG_DFL);
    free(lua_stdlib);
    nnx_experiment_free(e);
    nnx_diags_free(&d);
    nnx_checker_free(c);
    nnx_program_free(p);
    return status;
}
