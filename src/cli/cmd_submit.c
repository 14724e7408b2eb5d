/* cmd_submit.c — `nnx submit FILE [NAME]`: hand a search's trials to Slurm as job arrays, each task `nnx run --trial`. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run_search.h"
#include "cli/slurm.h"
#include "nnx/check.h"
#include "nnx/exp.h"
#include "nnx/resolve.h"
#include "nnx/util/buf.h"
#include "nnx/util/file.h"
#include "nnx/search.h"

enum { MAX_SBATCH_ARGS = 32, EXIT_SIGTERM = 143 };

typedef struct submit {
    const char *file, *name, *out_dir, *partition, *time, *mem, *from_dir;
    nnx_override flags[CLI_MAX_SETS];               /* the --set flags */
    size_t nflags;
    nnx_override sets[2 * CLI_MAX_SETS];            /* --from's winning values, then the flags */
    const char *origins[2 * CLI_MAX_SETS];
    size_t nsets;
    cli_from from;
    const char *sbatch_args[MAX_SBATCH_ARGS];
    size_t nsbatch_args;
    int  cpus, max_parallel;
    bool dry_run, wait;
    int  after_stage;           /* --after-stage K: the chain job that follows stage K */
    /* found out */
    const nnx_experiment *e;
    const char *unit;           /* one array job each: "stage", "rung" (halving, hyperband), "step" (tpe's
                                   waves, the median rule's epochs), or NULL (one array for the search) */
    char *dir;                  /* the search directory */
    char cwd[PATH_MAX], self[PATH_MAX];
} submit;

static int usage(FILE *f, int status)
{
    fprintf(f,
            "usage: nnx submit FILE [NAME] [--partition P] [--time T] [--cpus-per-trial N] [--mem M]\n"
            "                  [--max-parallel K] [--sbatch-arg ARG]... [--from DIR] [--set path=value]...\n"
            "                  [--out DIR] [--dry-run] [--wait]\n"
            "  submit the trials of a search or ensemble to Slurm, one job array per search (a staged\n"
            "  search: per stage; a pruned search: per rung; a tpe search or the median rule: per step\n"
            "  of trials that can be decided together; each submitted by a small job after the one\n"
            "  before, which decides which trials go on or proposes them), each task\n"
            "  running `nnx run FILE NAME --trial N` into the search directory under DIR (default runs/),\n"
            "  which must be on a file system every node shares, like the data files\n"
            "  --partition P       the partition (default: Slurm's)\n"
            "  --time T            each trial's time limit (sbatch --time); SIGTERM 60 s before it\n"
            "                      stops the trial after its batch, and submitting again continues it\n"
            "  --cpus-per-trial N  CPUs (and threads) per trial (default 1)\n"
            "  --mem M             memory per trial (sbatch --mem)\n"
            "  --max-parallel K    at most K trials at once (--array=...%%K)\n"
            "  --sbatch-arg ARG    one more #SBATCH line, e.g. --sbatch-arg=--qos=long (repeatable)\n"
            "  --from DIR          start from the winning values of the search in DIR, as nnx run\n"
            "                      --from does; the jobs get them as --set flags\n"
            "  --dry-run           print the scripts, submit nothing\n"
            "  --wait              wait until the whole search has ended; exit as nnx run would\n"
            "  --after-stage S     (the scripts' own) submit the next stage (rung, step) only once\n"
            "                      stage (rung, step) S has ended\n"
            "submitting again submits only the trials that have not ended (interrupted ones continue)\n"
            "exit status: 0 submitted (--wait: a trial gave a value), 1 none did, 2 bad input or no Slurm,\n"
            "  143 (--wait) some trials did not end (cancelled, timed out)\n");
    return status;
}

/* s with single quotes for /bin/sh, into b. */
static void put_quoted(nnx_buf *b, const char *s)
{
    if (s[0] && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == strlen(s)) {
        nnx_buf_put(b, s, strlen(s));
        return;
    }
    nnx_buf_put(b, "'", 1);
    for (const char *p = s; *p; p++)
        if (*p == '\'')
            nnx_buf_put(b, "'\\''", 4);
        else
            nnx_buf_put(b, p, 1);
    nnx_buf_put(b, "'", 1);
}

/* The nnx command line the scripts run, from the binary to --out, then `tail`. */
static void put_command(nnx_buf *b, const submit *s, const char *cmd, const char *tail)
{
    put_quoted(b, s->self);
    nnx_buf_printf(b, " %s ", cmd);
    put_quoted(b, s->file);
    nnx_buf_put(b, " ", 1);
    put_quoted(b, s->e->name);
    for (size_t i = 0; i < s->nsets; i++) {
        char set[1024];
        snprintf(set, sizeof set, "%s=%s", s->sets[i].path, s->sets[i].value);
        nnx_buf_put(b, " --set ", 7);
        put_quoted(b, set);
    }
    nnx_buf_put(b, " --out ", 7);
    put_quoted(b, s->out_dir);
    nnx_buf_printf(b, "%s\n", tail);
}

/* The #SBATCH lines every job of the search shares. */
static void put_common(nnx_buf *b, const submit *s, const char *log)
{
    nnx_buf_printf(b, "#SBATCH --job-name=nnx-%s\n", s->e->name);
    nnx_buf_printf(b, "#SBATCH --cpus-per-task=%d\n", s->cpus);
    nnx_buf_printf(b, "#SBATCH --output=%s%s%s/slurm/logs/%s\n", s->dir[0] == '/' ? "" : s->cwd,
                   s->dir[0] == '/' ? "" : "/", s->dir, log);
    if (s->partition)
        nnx_buf_printf(b, "#SBATCH --partition=%s\n", s->partition);
    if (s->time)
        nnx_buf_printf(b, "#SBATCH --time=%s\n", s->time);
    if (s->mem)
        nnx_buf_printf(b, "#SBATCH --mem=%s\n", s->mem);
    for (size_t i = 0; i < s->nsbatch_args; i++)
        nnx_buf_printf(b, "#SBATCH %s\n", s->sbatch_args[i]);
}

/* The numbers (array task ids) as Slurm's --array list: "1-3,5". */
static void put_array(nnx_buf *b, const long *ids, size_t n, int max_parallel)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && ids[j + 1] == ids[j] + 1)
            j++;
        nnx_buf_printf(b, "%s%ld", i ? "," : "", ids[i]);
        if (j > i)
            nnx_buf_printf(b, "-%ld", ids[j]);
        i = j + 1;
    }
    if (max_parallel > 0)
        nnx_buf_printf(b, "%%%d", max_parallel);
}

/* A staged search's stage or a pruned search's rung (step), 1-based; 0 for neither. */
static char *trials_script(const submit *s, const char *what, int stage, const long *ids, size_t n)
{
    bool rung = s->unit && strcmp(s->unit, "stage") != 0;
    nnx_buf b = { 0 };
    nnx_buf_printf(&b, "#!/bin/sh\n# nnx submit: %s of experiment %s (%s), one Slurm array task per trial;\n"
                   "# the task id is the trial's number as `nnx plan` prints it%s.\n",
                   what, s->e->name, s->file, stage && !rung ? " within the stage" : "");
    char log[64];
    if (rung)
        snprintf(log, sizeof log, "%s%d_%%A_%%a.out", s->unit, stage);
    else if (stage)
        snprintf(log, sizeof log, "stage%d_%%A_%%a.out", stage);
    else
        snprintf(log, sizeof log, "trials_%%A_%%a.out");
    put_common(&b, s, log);
    nnx_buf_put(&b, "#SBATCH --array=", 16);
    put_array(&b, ids, n, s->max_parallel);
    nnx_buf_put(&b, "\n", 1);
    /* B: signals the batch shell, which `exec` makes nnx itself */
    nnx_buf_printf(&b, "#SBATCH --signal=B:TERM@60\n"
                   "# SIGTERM (scancel, 60 s before the time limit, preemption) ends the trial after its\n"
                   "# batch with resume.state; `nnx submit` again continues it.  The trial trains on\n"
                   "# $SLURM_CPUS_PER_TASK threads.\n");
    nnx_buf_put(&b, "cd ", 3);
    put_quoted(&b, s->cwd);
    nnx_buf_put(&b, " || exit 2\nexec ", 16);
    char tail[64];
    if (stage && !rung)
        snprintf(tail, sizeof tail, " --trial %d.$SLURM_ARRAY_TASK_ID", stage);
    else
        snprintf(tail, sizeof tail, " --trial $SLURM_ARRAY_TASK_ID");
    put_command(&b, s, "run", tail);
    return b.oom ? (free(b.s), NULL) : b.s;
}

static char *chain_script(const submit *s, int stage, const char *after)
{
    bool rung = !strcmp(s->unit, "rung"), step = !strcmp(s->unit, "step");
    nnx_buf b = { 0 };
    if (rung)
        nnx_buf_printf(&b, "#!/bin/sh\n# nnx submit: after rung %d of the pruned search %s (%s) has ended, decide\n"
                       "# which of its trials go on (the best by select at the rung's epoch, as nnx run decides)\n"
                       "# and submit them as rung %d, continuing from their checkpoints (and a job like this one\n"
                       "# after it).\n", stage, s->e->name, s->file, stage + 1);
    else if (step)
        nnx_buf_printf(&b, "#!/bin/sh\n# nnx submit: after step %d of the search %s (%s) has ended, decide the trials\n"
                       "# of step %d as nnx run decides them (tpe: propose them from the trials that have ended;\n"
                       "# a pruned search: which go on, from their checkpoints) and submit them (and a job like\n"
                       "# this one after it).\n", stage, s->e->name, s->file, stage + 1);
    else
        nnx_buf_printf(&b, "#!/bin/sh\n# nnx submit: after stage %d of the staged search %s (%s) has ended, read its\n"
                       "# winner and submit the next stage (and a job like this one after it).\n", stage, s->e->name,
                       s->file);
    char log[64];
    snprintf(log, sizeof log, "%s%d-next_%%j.out", s->unit, stage);
    put_common(&b, s, log);
    nnx_buf_printf(&b, "#SBATCH --dependency=afterany:%s\n", after);
    nnx_buf_put(&b, "cd ", 3);
    put_quoted(&b, s->cwd);
    nnx_buf_put(&b, " || exit 2\nexec ", 16);
    nnx_buf tail = { 0 };
    nnx_buf_printf(&tail, " --after-stage %d --cpus-per-trial %d", stage, s->cpus);
    const char *opt[] = { "--partition", s->partition, "--time", s->time, "--mem", s->mem };
    for (int i = 0; i < 6; i += 2)
        if (opt[i + 1]) {
            nnx_buf_printf(&tail, " %s ", opt[i]);
            put_quoted(&tail, opt[i + 1]);
        }
    if (s->max_parallel > 0)
        nnx_buf_printf(&tail, " --max-parallel %d", s->max_parallel);
    for (size_t i = 0; i < s->nsbatch_args; i++) {
        nnx_buf_put(&tail, " --sbatch-arg ", 14);
        put_quoted(&tail, s->sbatch_args[i]);
    }
    put_command(&b, s, "submit", tail.s ? tail.s : "");
    free(tail.s);
    return b.oom ? (free(b.s), NULL) : b.s;
}

/* Write the script DIR/slurm/NAME.sbatch; its path (malloc'd) or NULL after a message. */
static char *save_script(const submit *s, const char *name, const char *text)
{
    char file[128];
    snprintf(file, sizeof file, "slurm/%s.sbatch", name);
    char *path = nnx_path_join(s->dir, file);
    nnx_rt_error err;
    if (!path || nnx_file_write(path, text, strlen(text), NNX_FILE_UNIQUE, &err) < 0) {
        fprintf(stderr, "nnx submit: %s\n", path ? err.msg : "out of memory");
        free(path);
        return NULL;
    }
    return path;
}

/* sbatch --parsable SCRIPT: the job id, or -1 after a message. */
static long sbatch(const char *script)
{
    char *out = NULL, *err = NULL;
    char *argv[] = { "sbatch", "--parsable", (char *)script, NULL };
    int rc = slurm_capture(argv, &out, &err);
    char *end = NULL;
    long id = rc == 0 && out ? strtol(out, &end, 10) : -1;
    if (rc != 0 || id <= 0 || (end && *end && *end != ';' && *end != '\n')) {
        const char *msg = err && err[0] ? err : out && out[0] ? out : "no job id";
        fprintf(stderr, "nnx submit: sbatch %s failed: %.*s\n", script, (int)strcspn(msg, "\n"), msg);
        id = -1;
    }
    free(out);
    free(err);
    return id;
}

static void scancel(long id)
{
    char job[32];
    snprintf(job, sizeof job, "%ld", id);
    char *out = NULL, *err = NULL;
    char *argv[] = { "scancel", job, NULL };
    slurm_capture(argv, &out, &err);
    free(out);
    free(err);
}

/* The partition exists: sinfo lists it.  0, or EXIT_BAD_INPUT after a message. */
static int check_partition(const char *p)
{
    char *out = NULL, *err = NULL;
    char *argv[] = { "sinfo", "-h", "-o", "%R", NULL };
    int rc = slurm_capture(argv, &out, &err);
    int status = EXIT_OK;
    if (rc != 0) {
        const char *msg = err && err[0] ? err : out ? out : "failed";
        fprintf(stderr, "nnx submit: cannot ask Slurm for its partitions: sinfo: %.*s\n", (int)strcspn(msg, "\n"),
                msg);
        status = EXIT_BAD_INPUT;
    } else {
        bool found = false;
        for (char *line = strtok(out, "\n"); line && !found; line = strtok(NULL, "\n"))
            found = !strcmp(line, p);
        if (!found) {
            for (char *c = out; *c; c++)
                if (*c == 0 || *c == '\n')
                    *c = ' ';
            fprintf(stderr, "nnx submit: --partition %s: Slurm has no such partition (sinfo lists:%s%s)\n", p,
                    out[0] ? " " : " none", out);
            status = EXIT_BAD_INPUT;
        }
    }
    free(out);
    free(err);
    return status;
}

/* Read the search directory: which trials have ended, which are open. */
static int read_state(submit *s, nnx_checker *c, bool look, nnx_search_result *r)
{
    nnx_search_opts so = { .dir = s->dir, .version = NNX_VERSION, .only = "", .look = look };
    nnx_diags d = { 0 };
    nnx_rt_error err = { { 0 } };
    int rc = nnx_search_run(c, s->name, s->sets, s->nsets, s->e, &so, r, &d, &err);
    if (rc < 0) {
        nnx_diags_print(&d, stderr, isatty(fileno(stderr)));
        fprintf(stderr, "nnx submit: %s\n", err.msg);
    }
    nnx_diags_free(&d);
    return rc;
}

/* Is trial `number` ("3", staged "2.3") queued or running in one of our jobs?
 * A pruned search: in the array of any rung. */
static bool in_queue(const char *number, bool pruned, const slurm_job *jobs, size_t njobs, const slurm_task *tasks,
                     size_t nt)
{
    int stage = 0;
    long n;
    const char *dot = strchr(number, '.');
    if (dot) {
        stage = atoi(number);
        n = atol(dot + 1);
    } else
        n = atol(number);
    for (size_t i = 0; i < nt; i++)
        for (size_t k = 0; k < njobs; k++)
            if (jobs[k].id == tasks[i].job && !strcmp(jobs[k].kind, "trials") && (pruned || jobs[k].stage == stage) &&
                tasks[i].task == n)
                return true;
    return false;
}

/* A chain job following stage `stage` still waits or runs. */
static bool chain_queued(int stage, const slurm_job *jobs, size_t njobs, const slurm_task *tasks, size_t nt)
{
    for (size_t i = 0; i < nt; i++)
        for (size_t k = 0; k < njobs; k++)
            if (jobs[k].id == tasks[i].job && !strcmp(jobs[k].kind, "chain") && jobs[k].stage == stage)
                return true;
    return false;
}

/* Submit what has not ended.  *submitted counts the jobs. */
static int submit_open(submit *s, const nnx_search_result *r, int *submitted)
{
    *submitted = 0;
    bool staged = r->kind == NNX_SEARCH_STAGED, pruned = r->nsteps > 0;
    /* the stage of a staged search, the rung of a pruned one: one array, and a chain job after it */
    int stage = staged ? (int)r->open_stage + 1 : pruned ? (int)r->open_step + 1 : 0;
    size_t nstages = staged ? s->e->search.naxes : r->nsteps;
    size_t njobs = 0, nt = 0;
    slurm_job *jobs = s->dry_run ? NULL : slurm_jobs_read(s->dir, &njobs);
    slurm_task *tasks = NULL;
    char why[256] = "";
    if (njobs && !slurm_queue(jobs, njobs, &tasks, &nt, why, sizeof why)) {
        fprintf(stderr, "nnx submit: %s\n", why);
        free(jobs);
        return EXIT_BAD_INPUT;
    }
    long *ids = calloc(r->npending ? r->npending : 1, sizeof *ids);
    const char **names = calloc(r->npending ? r->npending : 1, sizeof *names);
    size_t n = 0, queued = 0, running = 0;
    for (size_t i = 0; ids && names && i < r->npending; i++) {
        const nnx_search_pending *p = &r->pending[i];
        if (in_queue(p->number, pruned, jobs, njobs, tasks, nt))
            queued++;
        else if (!strcmp(p->state, "running"))
            running++;      /* held by a live process outside Slurm's queue (nnx run --trial) */
        else {
            const char *dot = strchr(p->number, '.');
            names[n] = p->name;
            ids[n++] = atol(dot ? dot + 1 : p->number);
        }
    }
    int status = ids && names ? EXIT_OK : EXIT_BAD_INPUT;
    if (queued || running)
        printf("waiting     %zu trial%s queued or running in Slurm, %zu held by another process: not submitted again\n",
               queued, queued == 1 ? "" : "s", running);
    char what[160];
    if (staged)
        snprintf(what, sizeof what, "stage %d (%s), trials %zu of %zu", stage, r->stages[stage - 1].path, n,
                 r->stages[stage - 1].ntrials);
    else if (pruned)
        snprintf(what, sizeof what, "%s %d of %zu, %zu trial%s (%s%s search)", s->unit, stage, r->nsteps, n,
                 n == 1 ? "" : "s", s->e->prune.kind != NNX_XPRUNE_NONE ? "pruned " : "",
                 nnx_exp_search_name(s->e->search.kind));
    else
        snprintf(what, sizeof what, "%s, %zu of %zu trials", r->kind == NNX_SEARCH_GRID ? "grid search"
                 : r->kind == NNX_SEARCH_RANDOM ? "random search" : "ensemble", n, r->planned);
    char *script = status == EXIT_OK && n ? trials_script(s, what, stage, ids, n) : NULL;
    char name[32];
    if (staged || pruned)
        snprintf(name, sizeof name, "%s%d", s->unit, stage);
    else
        snprintf(name, sizeof name, "%s", r->kind == NNX_SEARCH_GRID ? "grid"
                 : r->kind == NNX_SEARCH_RANDOM ? "random" : "ensemble");
    long job = 0;
    if (n && !script)
        status = EXIT_BAD_INPUT;
    else if (n && s->dry_run)
        printf("\n# --- %s/slurm/%s.sbatch\n%s", s->dir, name, script);
    else if (n) {
        char *path = save_script(s, name, script);
        job = path ? sbatch(path) : -1;
        free(path);
        if (job < 0 || !slurm_jobs_add(s->dir, job, "trials", stage) ||
            !slurm_tasks_add(s->dir, job, ids, names, n)) {
            if (job > 0) {
                fprintf(stderr, "nnx submit: cannot write %s/slurm/jobs or tasks; job %ld cancelled\n", s->dir, job);
                scancel(job);
            }
            status = EXIT_BAD_INPUT;
        } else {
            printf("submitted   job %ld: %s (--array=", job, what);
            nnx_buf a = { 0 };
            put_array(&a, ids, n, s->max_parallel);
            printf("%s)\n", a.s ? a.s : "");
            free(a.s);
            (*submitted)++;
        }
    }
    free(script);
    /* the job that submits the next stage (rung) once this one has ended */
    bool more = (staged || pruned) && (size_t)stage < nstages && !(n == 0 && chain_queued(stage, jobs, njobs, tasks, nt));
    if (status == EXIT_OK && more && (n || queued)) {
        long after = job;
        for (size_t k = 0; !after && k < njobs; k++)
            if (!strcmp(jobs[k].kind, "trials") && jobs[k].stage == stage)
                after = jobs[k].id;     /* the stage's earlier array, still in the queue */
        char after_id[32];
        snprintf(after_id, sizeof after_id, after > 0 ? "%ld" : "JOB", after);
        char *chain = chain_script(s, stage, after_id);
        snprintf(name, sizeof name, "%s%d-next", s->unit, stage);
        if (!chain)
            status = EXIT_BAD_INPUT;
        else if (s->dry_run)
            printf("\n# --- %s/slurm/%s.sbatch\n%s", s->dir, name, chain);
        else {
            char *path = save_script(s, name, chain);
            long cj = path ? sbatch(path) : -1;
            free(path);
            if (cj < 0 || !slurm_jobs_add(s->dir, cj, "chain", stage)) {
                if (job > 0)
                    scancel(job);
                if (cj > 0)
                    scancel(cj);
                fprintf(stderr, "nnx submit: the job after %s %d could not be submitted%s\n",
                        s->unit, stage, job > 0 ? "; its array job was cancelled" : "");
                status = EXIT_BAD_INPUT;
            } else if (!strcmp(s->unit, "rung")) {
                printf("submitted   job %ld: after job %ld ends, decides which trials of rung %d go on and submits "
                       "them as rung %d\n", cj, after, stage, stage + 1);
                (*submitted)++;
            } else if (pruned) {
                printf("submitted   job %ld: after job %ld ends, decides the trials of step %d and submits them\n",
                       cj, after, stage + 1);
                (*submitted)++;
            } else {
                printf("submitted   job %ld: after job %ld ends, reads stage %d's winner and submits stage %d\n", cj,
                       after, stage, stage + 1);
                (*submitted)++;
            }
        }
        free(chain);
    }
    free(ids);
    free(names);
    free(tasks);
    free(jobs);
    return status;
}

/* Block until none of the search's jobs is in Slurm's queue. */
static int wait_jobs(const submit *s)
{
    int failures = 0;
    for (;;) {
        size_t njobs = 0, nt = 0;
        slurm_job *jobs = slurm_jobs_read(s->dir, &njobs);
        slurm_task *tasks = NULL;
        char why[256] = "";
        bool ok = slurm_queue(jobs, njobs, &tasks, &nt, why, sizeof why);
        free(jobs);
        free(tasks);
        /* a chain job records the array it submits before it ends: when squeue no longer
         * lists it, the record read again names that array */
        size_t again = 0;
        free(slurm_jobs_read(s->dir, &again));
        if (ok && nt == 0 && again == njobs)
            return EXIT_OK;
        if (!ok && ++failures >= 30) {
            fprintf(stderr, "nnx submit --wait: %s\n", why);
            return EXIT_BAD_INPUT;
        }
        struct timespec nap = { 1, 0 };
        nanosleep(&nap, NULL);
    }
}

/* After --wait, or when nothing was left to submit: the leaderboard and the exit status nnx run would give. */
static int report_end(const nnx_search_result *r)
{
    cli_print_board(stdout, r);
    if (r->winner >= 0)
        printf("winner      %s  (%s %.6g)\n", r->rows[r->winner].name, r->select, r->rows[r->winner].value);
    if (r->message)
        printf("note        %s\n", r->message);
    if (r->npending) {
        printf("not ended   %zu trial%s (cancelled, timed out or killed): `nnx submit` again continues them\n",
               r->npending, r->npending == 1 ? "" : "s");
        return EXIT_SIGTERM;
    }
    bool any = r->winner >= 0;
    for (size_t i = 0; r->kind == NNX_SEARCH_ENSEMBLE && i < r->nrows; i++)
        any = any || !strcmp(r->rows[i].status, "completed") || !strcmp(r->rows[i].status, "stopped");
    return any ? EXIT_OK : EXIT_RUN_FAILED;
}

static bool search_ended(const nnx_search_result *r)
{
    return r->npending == 0;
}

static int parse(submit *s, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int set = cli_set_flag("submit", argc, argv, &i, s->flags, &s->nflags);   /* as run reads it */
        if (set == 0)
            set = cli_from_flag("submit", argc, argv, &i, &s->from_dir);
        if (set < 0)
            return EXIT_BAD_INPUT;
        if (set > 0)
            continue;
        /* --opt VALUE or --opt=VALUE */
        const char *val = NULL;
        static const char *const with_value[] = { "--partition", "--time", "--cpus-per-trial", "--mem",
                                                  "--max-parallel", "--sbatch-arg", "--out",
                                                  "--after-stage" };
        const char *opt = NULL;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value && !opt; k++) {
            size_t n = strlen(with_value[k]);
            if (!strncmp(a, with_value[k], n) && (a[n] == 0 || a[n] == '=')) {
                opt = with_value[k];
                val = a[n] == '=' ? a + n + 1 : (i + 1 < argc ? argv[++i] : NULL);
                if (!val || !*val) {
                    fprintf(stderr, "nnx submit: %s needs a value\n", opt);
                    return EXIT_BAD_INPUT;
                }
            }
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout, -1);
        if (!opt) {
            if (!strcmp(a, "--dry-run"))
                s->dry_run = true;
            else if (!strcmp(a, "--wait"))
                s->wait = true;
            else if (a[0] == '-' && a[1]) {
                static const char *const known[] = { "--partition", "--time", "--cpus-per-trial",
                                                     "--mem", "--max-parallel", "--sbatch-arg", "--out",
                                                     "--set", "--from", "--after-stage", "--dry-run",
                                                     "--wait", "--help" };
                cli_unknown_flag("submit", a, known, sizeof known / sizeof *known);
                return usage(stderr, EXIT_BAD_INPUT);
            } else if (!s->file)
                s->file = a;
            else if (!s->name)
                s->name = a;
            else {
                fprintf(stderr, "nnx submit: unexpected argument '%s'\n", a);
                return usage(stderr, EXIT_BAD_INPUT);
            }
            continue;
        }
        char *end;
        long n = strtol(val, &end, 10);
        bool number = !*end && n >= 1 && n <= 100000;
        if (!strcmp(opt, "--partition"))
            s->partition = val;
        else if (!strcmp(opt, "--time"))
            s->time = val;
        else if (!strcmp(opt, "--mem"))
            s->mem = val;
        else if (!strcmp(opt, "--out"))
            s->out_dir = val;
        else if (!strcmp(opt, "--cpus-per-trial") || !strcmp(opt, "--max-parallel") ||
                 !strcmp(opt, "--after-stage")) {
            bool cpus = !strcmp(opt, "--cpus-per-trial");
            if (!number || (cpus && n > 256)) {
                fprintf(stderr, "nnx submit: %s needs a whole number from 1%s\n", opt, cpus ? " to 256" : "");
                return EXIT_BAD_INPUT;
            }
            if (cpus)
                s->cpus = (int)n;
            else if (!strcmp(opt, "--max-parallel"))
                s->max_parallel = (int)n;
            else
                s->after_stage = (int)n;
        } else if (!strcmp(opt, "--sbatch-arg")) {
            if (s->nsbatch_args == MAX_SBATCH_ARGS || strchr(val, '\n')) {
                fprintf(stderr, "nnx submit: --sbatch-arg: at most %d, one line each\n", MAX_SBATCH_ARGS);
                return EXIT_BAD_INPUT;
            }
            s->sbatch_args[s->nsbatch_args++] = val;
        }
    }
    if (!s->file)
        return usage(stderr, EXIT_BAD_INPUT);
    return EXIT_OK;
}

int cmd_submit(int argc, char **argv)
{
    submit s = { .out_dir = "runs", .cpus = 1 };
    int status = parse(&s, argc, argv);
    if (status != EXIT_OK)
        return status < 0 ? EXIT_OK : status;
    if (!getcwd(s.cwd, sizeof s.cwd)) {
        fprintf(stderr, "nnx submit: cannot tell the working directory\n");
        return EXIT_BAD_INPUT;
    }
    ssize_t len = readlink("/proc/self/exe", s.self, sizeof s.self - 1);
    if (len <= 0) {
        fprintf(stderr, "nnx submit: cannot find the nnx binary (/proc/self/exe)\n");
        return EXIT_BAD_INPUT;
    }
    s.self[len] = 0;
    if (cli_from_merge("submit", s.from_dir, s.flags, s.nflags, s.sets, s.origins, &s.nsets, &s.from) < 0)
        return EXIT_BAD_INPUT;
    if (s.from_dir)
        cli_from_say(stdout, s.from_dir, &s.from, s.sets);

    bool color = isatty(fileno(stderr));
    nnx_diags d = { 0 };
    nnx_program *p = nnx_program_load(s.file, NULL, &d);
    nnx_checker *c = p && d.nerrors == 0 ? nnx_checker_new(p) : NULL;
    nnx_experiment *e = c ? nnx_check_experiment_from(c, s.name, s.sets, s.origins, s.nsets, &d) : NULL;
    nnx_diags_print(&d, stderr, color);
    nnx_diags_free(&d);
    nnx_search_result r = { 0 };
    if (!e) {
        fprintf(stderr, "%s: the experiment does not check; nothing was submitted\n", s.file);
        status = EXIT_BAD_INPUT;
        goto done;
    }
    s.e = e;
    s.unit = e->search.kind == NNX_XSEARCH_STAGED ? "stage"
           : e->search.kind == NNX_XSEARCH_TPE || e->prune.kind == NNX_XPRUNE_MEDIAN ? "step"
           : e->prune.kind != NNX_XPRUNE_NONE ? "rung" : NULL;
    if (e->search.kind == NNX_XSEARCH_NONE && !e->nensemble) {
        fprintf(stderr, "nnx submit: experiment '%s' has no search and no ensemble: train it with nnx run, "
                "or in one Slurm job (sbatch --wrap 'nnx run %s')\n", e->name, s.file);
        status = EXIT_BAD_INPUT;
        goto done;
    }
    if (!s.dry_run) {
        char *sb = slurm_which("sbatch");
        free(sb);
        if (!sb) {
            fprintf(stderr, "nnx submit: sbatch not found on PATH: Slurm's commands are needed to submit "
                    "(--dry-run prints the scripts without them); nothing was submitted\n");
            status = EXIT_BAD_INPUT;
            goto done;
        }
        if (s.partition && (status = check_partition(s.partition)) != EXIT_OK)
            goto done;
    }
    char dirname[256];
    nnx_search_dir_name(e, dirname, sizeof dirname);
    s.dir = nnx_path_join(s.out_dir, dirname);
    char *logs = s.dir ? nnx_path_join(s.dir, "slurm/logs") : NULL;
    nnx_rt_error err;
    if (!s.dry_run && (!logs || nnx_mkdirs(logs, &err) < 0 || access(logs, W_OK) != 0)) {
        fprintf(stderr, "nnx submit: the search directory is not writable: %s; nothing was submitted\n",
                logs ? err.msg : "out of memory");
        free(logs);
        status = EXIT_BAD_INPUT;
        goto done;
    }
    free(logs);
    if (read_state(&s, c, s.dry_run, &r) < 0) {
        status = EXIT_BAD_INPUT;
        goto done;
    }
    printf("experiment  %s: %s%s\ndirectory   %s (must be on a file system every node shares)\n", e->name,
           r.kind == NNX_SEARCH_ENSEMBLE ? "ensemble" : nnx_exp_search_name(e->search.kind),
           r.kind == NNX_SEARCH_ENSEMBLE ? "" : " search", s.dir);
    bool open_is_after = r.kind == NNX_SEARCH_STAGED ? r.open_stage + 1 == (size_t)s.after_stage
                       : r.nsteps && r.open_step + 1 == (size_t)s.after_stage;
    if (s.after_stage && open_is_after) {
        const char *what = s.unit;
        printf("%s %d has %zu trial%s that did not end (cancelled, timed out, failed to start): the next %s "
               "is not submitted; `nnx submit` again resubmits them\n", what, s.after_stage, r.npending,
               r.npending == 1 ? "" : "s", what);
        status = EXIT_RUN_FAILED;
        goto done;
    }
    if (search_ended(&r)) {
        printf("the search has ended: nothing to submit\n");
        status = report_end(&r);
        goto done;
    }
    int submitted = 0;
    status = submit_open(&s, &r, &submitted);
    if (status != EXIT_OK || s.dry_run || !s.wait)
        goto done;
    printf("waiting     for the search's jobs to end (squeue)\n");
    fflush(stdout);
    if ((status = wait_jobs(&s)) != EXIT_OK)
        goto done;
    nnx_search_result_free(&r);
    /* read only: the trials' own processes wrote the board last (with the git provenance nnx run records) */
    if (read_state(&s, c, true, &r) < 0) {
        status = EXIT_BAD_INPUT;
        goto done;
    }
    status = report_end(&r);
done:
    nnx_search_result_free(&r);
    free(s.dir);
    nnx_experiment_free(e);
    nnx_checker_free(c);
    nnx_program_free(p);
    cli_from_free(&s.from);
    return status;
}
