/* cmd_status.c — `nnx status DIR`: a search's trials, done, running, queued and failed, with their Slurm jobs. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/slurm.h"
#include "nnx/util/json.h"
#include "nnx/util/file.h"
#include "nnx/search.h"

/* One trial as status shows it. */
typedef struct entry {
    char name[256];
    nnx_trial_state state;
    nnx_search_row row;             /* ENDED */
    char holder[300];
    int  epochs;                    /* rows of its metrics.csv */
    char slurm[64];                 /* "12_3 RUNNING", or "" */
    bool queued;                    /* pending in Slurm's queue */
} entry;

static int usage(FILE *f, int status)
{
    fprintf(f, "usage: nnx status DIR\n"
               "  the trials of the search or ensemble in DIR: ended (completed, stopped, diverged, failed),\n"
               "  running, queued in Slurm, interrupted, not started; the Slurm job and array task of each\n"
               "  trial `nnx submit` gave to Slurm and its state (squeue; sacct when Slurm keeps accounting);\n"
               "  the best trial so far\n");
    return status;
}

static int metrics_rows(const char *trial_dir)
{
    char *path = nnx_path_join(trial_dir, "metrics.csv");
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    if (!f)
        return 0;
    int lines = 0, ch;
    while ((ch = getc(f)) != EOF)
        lines += ch == '\n';
    fclose(f);
    return lines > 0 ? lines - 1 : 0;
}

static entry *find(entry *e, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i].name, name))
            return &e[i];
    return NULL;
}

static bool add_entry(entry **e, size_t *n, const char *name)
{
    if (find(*e, *n, name) || strlen(name) >= sizeof (*e)->name)
        return true;
    entry *p = realloc(*e, (*n + 1) * sizeof *p);
    if (!p)
        return false;
    *e = p;
    memset(&p[*n], 0, sizeof p[*n]);
    snprintf(p[*n].name, sizeof p[*n].name, "%s", name);
    p[*n].row.value = NAN;
    (*n)++;
    return true;
}

/* The trial directories under root, the trials whose lock is taken (DIR/.locks), and the trials Slurm was given. */
static bool list_trials(const char *dir, const char *root, const slurm_trial_task *tt, size_t ntt, entry **e,
                        size_t *n)
{
    char *locks = nnx_path_join(dir, ".locks");
    DIR *d = locks ? opendir(locks) : NULL;
    free(locks);
    struct dirent *ent;
    bool ok = true;
    while (d && ok && (ent = readdir(d)))
        if (ent->d_name[0] != '.' && !strstr(ent->d_name, ".stale."))
            ok = add_entry(e, n, ent->d_name);
    if (d)
        closedir(d);
    d = opendir(root);
    while (d && ok && (ent = readdir(d)))
        if (ent->d_name[0] != '.') {
            char *p = nnx_path_join(root, ent->d_name);
            DIR *sub = p ? opendir(p) : NULL;
            if (sub) {
                closedir(sub);
                ok = add_entry(e, n, ent->d_name);
            }
            free(p);
        }
    if (d)
        closedir(d);
    for (size_t i = 0; ok && i < ntt; i++)
        ok = add_entry(e, n, tt[i].name);
    return ok;
}

/* The Slurm task of each trial (its last submission) and that task's state. */
static void attach_slurm(entry *e, size_t n, const slurm_trial_task *tt, size_t ntt, bool asked, const slurm_task *q,
                         size_t nq, const slurm_task *acct, size_t nacct)
{
    for (size_t i = 0; i < ntt; i++) {
        entry *x = find(e, n, tt[i].name);
        if (!x)
            continue;
        const char *state = NULL;
        for (size_t k = 0; k < nq && !state; k++)
            if (q[k].job == tt[i].job && q[k].task == tt[i].task)
                state = q[k].state;
        for (size_t k = 0; k < nacct && !state; k++)
            if (acct[k].job == tt[i].job && acct[k].task == tt[i].task)
                state = acct[k].state;
        snprintf(x->slurm, sizeof x->slurm, "%ld_%ld %s", tt[i].job, tt[i].task,
                 state ? state : asked ? "(gone from squeue)" : "");
        x->queued = state && !strcmp(state, "PENDING");
    }
}

static int by_rank(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    if (a->state != b->state)
        return (int)a->state - (int)b->state;
    if (a->state == NNX_TRIAL_ENDED && a->row.index != b->row.index)
        return a->row.index < b->row.index ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* An ensemble's members: ended first, each group in seed order. */
static int by_seed(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    if ((a->state == NNX_TRIAL_ENDED) != (b->state == NNX_TRIAL_ENDED))
        return a->state == NNX_TRIAL_ENDED ? -1 : 1;
    double x = strtod(a->name, NULL), y = strtod(b->name, NULL);
    return x < y ? -1 : x > y;
}

int cmd_status(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return usage(stdout, EXIT_OK);
        if (argv[i][0] == '-' || dir) {
            fprintf(stderr, "nnx status: unexpected argument '%s'\n", argv[i]);
            return usage(stderr, EXIT_BAD_INPUT);
        }
        dir = argv[i];
    }
    if (!dir)
        return usage(stderr, EXIT_BAD_INPUT);
    char *sum_path = nnx_path_join(dir, "summary.json");
    size_t len = 0;
    nnx_rt_error err;
    char *text = sum_path ? nnx_file_read(sum_path, 1 << 24, &len, &err) : NULL;
    nnx_json_error je = { 0 };
    nnx_json *sum = text ? nnx_json_parse(text, len, &je) : NULL;
    free(text);
    const char *kind = nnx_json_as_string(nnx_json_get(sum, "kind"), "");
    if (!sum || (strcmp(kind, "search") && strcmp(kind, "ensemble"))) {
        if (!text && !sum)
            fprintf(stderr, "nnx status: %s is not a search or ensemble directory (%s)\n", dir,
                    sum_path ? err.msg : "out of memory");
        else if (!sum)
            fprintf(stderr, "nnx status: %s:%d:%d: %s\n", sum_path, je.line, je.col, je.msg);
        else
            fprintf(stderr, "nnx status: %s is a single run, not a search or ensemble (nnx report %s shows it)\n",
                    dir, dir);
        free(sum_path);
        nnx_json_free(sum);
        return EXIT_BAD_INPUT;
    }
    free(sum_path);
    bool ensemble = !strcmp(kind, "ensemble");
    const nnx_json *sel = nnx_json_get(sum, "select");
    const char *metric = nnx_json_as_string(nnx_json_get(sel, "metric"), "?");
    bool maximize = !strcmp(nnx_json_as_string(nnx_json_get(sel, "mode"), "max"), "max");
    double planned = nnx_json_as_number(nnx_json_get(sum, "trials_planned"));
    if (ensemble) {
        const nnx_json *seeds = nnx_json_get(sum, "seeds");
        planned = seeds ? (double)seeds->n : NAN;
    }
    char *root = nnx_path_join(dir, ensemble ? "members" : "trials");

    size_t njobs = 0, ntt = 0, nq = 0, nacct = 0, n = 0;
    slurm_job *jobs = slurm_jobs_read(dir, &njobs);
    slurm_trial_task *tt = slurm_tasks_read(dir, &ntt);
    slurm_task *q = NULL, *acct = NULL;
    char why[256] = "";
    bool asked = njobs && slurm_queue(jobs, njobs, &q, &nq, why, sizeof why);
    bool accounting = njobs && slurm_accounting(jobs, njobs, &acct, &nacct);
    entry *e = NULL;
    int status = EXIT_OK;
    if (!root || !list_trials(dir, root, tt, ntt, &e, &n)) {
        fprintf(stderr, "nnx status: out of memory\n");
        status = EXIT_BAD_INPUT;
    }
    for (size_t i = 0; status == EXIT_OK && i < n; i++) {
        if (nnx_search_trial_look(dir, root, e[i].name, &e[i].row, &e[i].state, e[i].holder, sizeof e[i].holder,
                                  &err) < 0) {
            fprintf(stderr, "nnx status: %s\n", err.msg);
            status = EXIT_BAD_INPUT;
        }
        char *td = nnx_path_join(root, e[i].name);
        e[i].epochs = td ? metrics_rows(td) : 0;
        free(td);
    }
    if (status == EXIT_OK) {
        attach_slurm(e, n, tt, ntt, asked, q, nq, acct, nacct);
        /* rank the ended trials by select (nnx_search_rank's order), the others after them */
        nnx_search_row *rows = calloc(n ? n : 1, sizeof *rows);
        size_t nr = 0;
        for (size_t i = 0; rows && i < n; i++)
            if (e[i].state == NNX_TRIAL_ENDED) {
                e[i].row.index = i;
                rows[nr++] = e[i].row;
            }
        if (rows && !ensemble)
            nnx_search_rank(rows, nr, maximize);
        for (size_t k = 0; rows && k < nr; k++)
            e[rows[k].index].row.index = k;
        free(rows);
        qsort(e, n, sizeof *e, ensemble ? by_seed : by_rank);

        size_t ended = 0, failed = 0, running = 0, queued = 0, interrupted = 0, other = 0;
        for (size_t i = 0; i < n; i++) {
            nnx_trial_state st = e[i].state;
            ended += st == NNX_TRIAL_ENDED;
            failed += st == NNX_TRIAL_ENDED && (!strcmp(e[i].row.status, "failed") ||
                                                 !strcmp(e[i].row.status, "diverged"));
            running += st == NNX_TRIAL_RUNNING;
            queued += st != NNX_TRIAL_ENDED && st != NNX_TRIAL_RUNNING && e[i].queued;
            interrupted += st == NNX_TRIAL_INTERRUPTED && !e[i].queued;
            other += (st == NNX_TRIAL_KILLED || st == NNX_TRIAL_NOT_STARTED) && !e[i].queued;
        }
        printf("%-11s %s (%s), each trial selected by %s(%s)\n", ensemble ? "ensemble" : "search",
               nnx_json_as_string(nnx_json_get(sum, "experiment"), "?"),
               ensemble ? "seeds" : nnx_json_as_string(nnx_json_get(sum, "search"), "?"), maximize ? "max" : "min",
               metric);
        printf("directory   %s\n", dir);
        printf("trials      ");
        if (isfinite(planned))
            printf("%.0f planned%s: ", planned,
                   !strcmp(nnx_json_as_string(nnx_json_get(sum, "search"), ""), "staged") ? " in the stages begun" : "");
        printf("%zu ended (%zu failed or diverged), %zu running, %zu queued, %zu interrupted, %zu not started or "
               "killed", ended, failed, running, queued, interrupted, other);
        /* the rest: no directory and no Slurm task yet (a tpe trial not proposed yet, one of a later step) */
        if (isfinite(planned) && planned > (double)n &&
            strcmp(nnx_json_as_string(nnx_json_get(sum, "search"), ""), "staged") != 0)
            printf(", %.0f not begun", planned - (double)n);
        putchar('\n');
        const nnx_json *stages = nnx_json_get(sum, "stages");
        if (stages && stages->n)
            printf("stages      %zu begun; the last: %s\n", stages->n,
                   nnx_json_as_string(nnx_json_get(nnx_json_at(stages, stages->n - 1), "param"), "?"));
        /* a pruned search: how many trials have reached each rung's epoch so far */
        const nnx_json *rungs = nnx_json_get(nnx_json_get(sum, "prune"), "rung_epochs");
        /* nnx submit's unit: a tpe search and the median rule go in steps, halving and hyperband in rungs */
        bool steps = !strcmp(nnx_json_as_string(nnx_json_get(sum, "search"), ""), "tpe") ||
                     !strcmp(nnx_json_as_string(nnx_json_get(nnx_json_get(sum, "prune"), "rule"), ""), "median");
        if (rungs && rungs->type == NNX_JSON_ARRAY && rungs->n) {
            printf("rungs       ");
            for (size_t k = 0; k < rungs->n; k++) {
                int ep = (int)nnx_json_as_number(nnx_json_at(rungs, k));
                size_t reached = 0;
                for (size_t i = 0; i < n; i++)
                    reached += e[i].epochs >= ep;
                printf("%s%zu at epoch %d", k ? ", " : "", reached, ep);
            }
            printf(" (trials that have reached each rung; a pruned trial may still go on)\n");
        }
        if (!njobs)
            printf("slurm       no job submitted with nnx submit\n");
        else {
            printf("slurm       job%s", njobs == 1 ? "" : "s");
            for (size_t k = 0; k < njobs; k++)
                printf(" %ld%s", jobs[k].id, strcmp(jobs[k].kind, "chain") ? "" : steps ? " (next step)"
                       : rungs ? " (next rung)" : " (next stage)");
            printf("; %s; %s\n", asked ? "squeue" : why,
                   accounting ? "sacct" : "no accounting (sacct): a task gone from squeue shows its trial's files");
        }
        const entry *best = n && e[0].state == NNX_TRIAL_ENDED && isfinite(e[0].row.value) && !ensemble ? &e[0] : NULL;
        if (best)
            printf("best        %s  (%s %.6g at epoch %d)\n", best->name, metric, best->row.value, best->row.epoch);
        else if (!ensemble)
            printf("best        none yet\n");
        printf("\n  %-30s %-12s %6s %14s  %s\n", ensemble ? "seed" : "trial", "state", "epoch", metric, "slurm task");
        for (size_t i = 0; i < n; i++) {
            const entry *x = &e[i];
            const char *state = x->state == NNX_TRIAL_ENDED ? x->row.status
                              : x->queued && x->state != NNX_TRIAL_RUNNING ? "queued" : nnx_trial_state_name(x->state);
            printf("  %-30s %-12s", x->name, state);
            if (x->state == NNX_TRIAL_ENDED && x->row.epoch > 0)
                printf(" %6d %14.6g", x->row.epoch, x->row.value);
            else
                printf(" %6s %14s", "", "");
            printf("  %s", x->slurm);
            if (x->state != NNX_TRIAL_ENDED && x->epochs > 0)
                printf("%s%d epoch%s done", x->slurm[0] ? ", " : "", x->epochs, x->epochs == 1 ? "" : "s");
            if (x->holder[0])
                printf(" (held by %s)", x->holder);
            putchar('\n');
        }
    }
    for (size_t i = 0; i < n; i++)
        if (e[i].state == NNX_TRIAL_ENDED)
            nnx_search_row_free(&e[i].row);
    free(e);
    free(root);
    free(jobs);
    free(tt);
    free(q);
    free(acct);
    nnx_json_free(sum);
    return status;
}
