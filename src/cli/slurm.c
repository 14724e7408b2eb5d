/* slurm.c — running Slurm's commands (sbatch, squeue, sacct) and the record of the jobs nnx submitted. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/slurm.h"
#include "nnx/util/buf.h"
#include "nnx/util/file.h"

char *slurm_which(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0 ? strdup(prog) : NULL;
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        char dir[4096];
        snprintf(dir, sizeof dir, "%.*s", (int)n, n ? p : ".");
        char *full = nnx_path_join(dir, prog);
        struct stat st;
        if (full && stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
            return full;
        free(full);
        p += n + (p[n] == ':');
    }
    return NULL;
}

/* Read fd to its end into b (at most 1 MB kept). */
static void drain(int fd, nnx_buf *b)
{
    char chunk[4096];
    ssize_t k;
    while ((k = read(fd, chunk, sizeof chunk)) > 0 || (k < 0 && errno == EINTR))
        if (k > 0 && b->len < (1u << 20))
            nnx_buf_put(b, chunk, (size_t)k);
}

int slurm_capture(char *const argv[], char **out, char **errout)
{
    *out = NULL;
    if (errout)
        *errout = NULL;
    int po[2], pe[2] = { -1, -1 };
    if (pipe(po) != 0 || (errout && pipe(pe) != 0)) {
        *out = strdup(strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        *out = strdup(strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(po[1], 1);
        if (errout)
            dup2(pe[1], 2);
        close(po[0]);
        close(po[1]);
        if (errout) {
            close(pe[0]);
            close(pe[1]);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]);
    if (errout)
        close(pe[1]);
    nnx_buf o = { 0 }, e = { 0 };
    drain(po[0], &o);       /* the commands nnx runs write little to stderr */
    if (errout)
        drain(pe[0], &e);
    close(po[0]);
    if (errout)
        close(pe[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    nnx_buf_put(&o, "", 1);
    *out = o.s;
    if (errout) {
        nnx_buf_put(&e, "", 1);
        *errout = e.s;
    } else
        free(e.s);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *slurm_file(const char *dir, const char *file)
{
    char *slurm = nnx_path_join(dir, "slurm");
    char *path = slurm ? nnx_path_join(slurm, file) : NULL;
    free(slurm);
    return path;
}

static char *jobs_path(const char *dir)
{
    return slurm_file(dir, "jobs");
}

slurm_trial_task *slurm_tasks_read(const char *dir, size_t *n)
{
    *n = 0;
    char *path = slurm_file(dir, "tasks");
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    if (!f)
        return NULL;
    slurm_trial_task *tasks = NULL;
    char line[400];
    while (fgets(line, sizeof line, f)) {
        slurm_trial_task t = { 0 };
        if (sscanf(line, "%ld %ld %255s", &t.job, &t.task, t.name) != 3)
            continue;
        slurm_trial_task *p = realloc(tasks, (*n + 1) * sizeof *p);
        if (!p)
            break;
        tasks = p;
        tasks[(*n)++] = t;
    }
    fclose(f);
    return tasks;
}

bool slurm_tasks_add(const char *dir, long job, const long *tasks, const char *const *names, size_t n)
{
    char *path = slurm_file(dir, "tasks");
    FILE *f = path ? fopen(path, "a") : NULL;
    free(path);
    if (!f)
        return false;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%ld %ld %s\n", job, tasks[i], names[i]);
    bool ok = !ferror(f);
    return fclose(f) == 0 && ok;
}

slurm_job *slurm_jobs_read(const char *dir, size_t *n)
{
    *n = 0;
    char *path = jobs_path(dir);
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    if (!f)
        return NULL;
    slurm_job *jobs = NULL;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        slurm_job j = { 0 };
        if (sscanf(line, "%ld %15s %d", &j.id, j.kind, &j.stage) != 3)
            continue;
        slurm_job *p = realloc(jobs, (*n + 1) * sizeof *p);
        if (!p)
            break;
        jobs = p;
        jobs[(*n)++] = j;
    }
    fclose(f);
    return jobs;
}

bool slurm_jobs_add(const char *dir, long id, const char *kind, int stage)
{
    char *path = jobs_path(dir);
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
    free(path);
    if (fd < 0)
        return false;
    char line[128];
    int len = snprintf(line, sizeof line, "%ld %s %d\n", id, kind, stage);
    bool ok = write(fd, line, (size_t)len) == len;
    return close(fd) == 0 && ok;
}

static bool ours(const slurm_job *jobs, size_t njobs, long id)
{
    for (size_t i = 0; i < njobs; i++)
        if (jobs[i].id == id)
            return true;
    return false;
}

/* Lines "JOB|TASK|STATE" (TASK a number, or anything else for none) into tasks. */
static void parse_tasks(const char *text, const slurm_job *jobs, size_t njobs, slurm_task **tasks, size_t *n)
{
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[256], task[64] = "", state[64] = "";
        snprintf(buf, sizeof buf, "%.*s", (int)(len < 255 ? len : 255), line);
        long job = 0;
        /* sacct gives JobID "12_3" and State "CANCELLED by 0"; squeue "12|3|RUNNING" */
        char *bar = strchr(buf, '|');
        if (bar) {
            *bar = 0;
            char *under = strchr(buf, '_');
            if (under) {
                *under = 0;
                snprintf(task, sizeof task, "%s", under + 1);
                sscanf(bar + 1, "%63[^|\n]", state);
            } else {
                char *bar2 = strchr(bar + 1, '|');
                if (bar2) {
                    *bar2 = 0;
                    snprintf(task, sizeof task, "%s", bar + 1);
                    sscanf(bar2 + 1, "%63[^|\n]", state);
                } else
                    sscanf(bar + 1, "%63[^|\n]", state);
            }
            job = strtol(buf, NULL, 10);
        }
        char *space = strchr(state, ' ');
        if (space)
            *space = 0;
        char *tend;
        long t = strtol(task, &tend, 10);
        if (job > 0 && state[0] && ours(jobs, njobs, job)) {
            slurm_task *p = realloc(*tasks, (*n + 1) * sizeof *p);
            if (p) {
                *tasks = p;
                p[*n] = (slurm_task){ .job = job, .task = task[0] && !*tend ? t : -1 };
                snprintf(p[*n].state, sizeof p[*n].state, "%.23s", state);
                (*n)++;
            }
        }
        line = end ? end + 1 : NULL;
    }
}

bool slurm_queue(const slurm_job *jobs, size_t njobs, slurm_task **tasks, size_t *n, char *why, size_t whysize)
{
    *tasks = NULL;
    *n = 0;
    char *out = NULL, *err = NULL;
    char *argv[] = { "squeue", "-h", "-r", "-o", "%F|%K|%T", NULL };
    int rc = slurm_capture(argv, &out, &err);
    if (rc != 0) {
        const char *msg = err && err[0] ? err : out ? out : "failed";
        if (!strncmp(msg, "squeue: ", 8))
            msg += 8;
        snprintf(why, whysize, "squeue: %.*s", (int)strcspn(msg, "\n"), msg);
        free(out);
        free(err);
        return false;
    }
    parse_tasks(out, jobs, njobs, tasks, n);
    free(out);
    free(err);
    return true;
}

bool slurm_accounting(const slurm_job *jobs, size_t njobs, slurm_task **tasks, size_t *n)
{
    *tasks = NULL;
    *n = 0;
    if (!njobs)
        return false;
    char *path = slurm_which("sacct");
    free(path);
    if (!path)
        return false;
    nnx_buf ids = { 0 };
    for (size_t i = 0; i < njobs; i++)
        nnx_buf_printf(&ids, "%s%ld", i ? "," : "", jobs[i].id);
    nnx_buf_put(&ids, "", 1);
    if (ids.oom) {
        free(ids.s);
        return false;
    }
    char *out = NULL, *err = NULL;
    char *argv[] = { "sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", ids.s, NULL };
    int rc = slurm_capture(argv, &out, &err);
    free(ids.s);
    bool ok = rc == 0 && out && !strstr(out, "disabled") && !(err && strstr(err, "disabled"));
    if (ok)
        parse_tasks(out, jobs, njobs, tasks, n);
    free(out);
    free(err);
    return ok;
}
