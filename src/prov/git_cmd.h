/* git_cmd.h — run one `git -C DIR ...` command as a child process and capture what it prints (src/prov only). */
#ifndef NNX_PROV_GIT_CMD_H
#define NNX_PROV_GIT_CMD_H

#include <stdbool.h>
#include <stddef.h>

/* How a git call ended. */
typedef enum git_outcome {
    GIT_EXITED,         /* `status` holds its exit status */
    GIT_MISSING,        /* no git command on the PATH */
    GIT_TIMEOUT,        /* killed after the timeout */
    GIT_ERROR           /* spawn, pipe or memory failure; `out` says which */
} git_outcome;

typedef struct git_result {
    git_outcome outcome;
    int    status;      /* exit status when EXITED */
    char  *out;         /* stdout, NUL-terminated (owned; NULL when nothing was read) */
    size_t len;
    char  *errtext;     /* stderr, NUL-terminated (owned; may be NULL) */
} git_result;

/* Run `git -C dir args...` (args NULL-terminated) with stdin /dev/null,
 * GIT_OPTIONAL_LOCKS=0, GIT_TERMINAL_PROMPT=0, LC_ALL=C and without GIT_DIR,
 * GIT_WORK_TREE or GIT_INDEX_FILE; killed after `timeout` seconds.  Output
 * beyond 64 MiB is an error.  Free the result with git_result_free. */
void git_run(const char *dir, const char *const *args, double timeout, git_result *r);
void git_result_free(git_result *r);

/* EXITED with status 0. */
static inline bool git_ok(const git_result *r) { return r->outcome == GIT_EXITED && r->status == 0; }

#endif
