/* slurm.h — what `nnx submit` and `nnx status` ask of Slurm: run its commands, remember the jobs nnx submitted (slurm.c). */
#ifndef NNX_CLI_SLURM_H
#define NNX_CLI_SLURM_H

#include <stdbool.h>
#include <stddef.h>

/* The full path of `prog` found on $PATH (malloc'd), or NULL. */
char *slurm_which(const char *prog);

/* Run argv[0] (found on $PATH) with argv, its stdin /dev/null; its stdout
 * (up to 1 MB) into *out (malloc'd, NUL-terminated), stderr likewise into
 * *errout when not NULL (else it goes to ours).  Returns the exit status, or
 * -1 when it could not be run (then *out says why). */
int slurm_capture(char *const argv[], char **out, char **errout);

/* One job nnx submitted, a line of DIR/slurm/jobs: "JOBID KIND STAGE". */
typedef struct slurm_job {
    long id;
    char kind[16];      /* "trials" (an array of trials) or "chain" (submits the next stage) */
    int  stage;         /* staged: the 1-based stage the array trains or the chain follows; else 0 */
} slurm_job;

/* The jobs recorded in DIR/slurm/jobs, in order (*n of them; malloc'd, NULL when none). */
slurm_job *slurm_jobs_read(const char *dir, size_t *n);
/* Add one line to DIR/slurm/jobs; false when it cannot be written. */
bool slurm_jobs_add(const char *dir, long id, const char *kind, int stage);

/* Which trial each array task trains, lines of DIR/slurm/tasks: "JOBID TASK NAME". */
typedef struct slurm_trial_task {
    long job, task;
    char name[256];
} slurm_trial_task;

slurm_trial_task *slurm_tasks_read(const char *dir, size_t *n);
bool slurm_tasks_add(const char *dir, long job, const long *tasks, const char *const *names, size_t n);

/* A task of one of those jobs as squeue shows it (pending, running, ...). */
typedef struct slurm_task {
    long job;           /* the array job id (or the job id) */
    long task;          /* the array task id; -1 for a job that is not an array */
    char state[24];     /* PENDING, RUNNING, COMPLETING, ... */
} slurm_task;

/* The tasks of `jobs` that squeue lists now (malloc'd, *n of them).  false
 * when squeue cannot be asked (not installed, no controller): *why says. */
bool slurm_queue(const slurm_job *jobs, size_t njobs, slurm_task **tasks, size_t *n, char *why, size_t whysize);

/* With accounting: the final states of the tasks of `jobs` (sacct), as
 * above; false when sacct is missing or accounting is off. */
bool slurm_accounting(const slurm_job *jobs, size_t njobs, slurm_task **tasks, size_t *n);

#endif
