/* provenance.h — where an experiment's files stand in git: commit, branch, path, dirty, diff.
 *
 * nnx_provenance_collect asks the `git` command (never libgit2, never the
 * .git directory by hand) about the repository that holds the experiment's
 * .nnx file: its HEAD commit, the branch, the file's path in the repository,
 * and whether the file, the files it imports and its hooks file differ from
 * that commit or are not in it (untracked or ignored) — `dirty`.  When dirty,
 * `diff` holds a unified diff of those files against the commit (an
 * untracked file as an addition), which nnx_provenance_save_diff writes to
 * the run directory as source.diff.
 *
 * Only files inside the .nnx file's repository count (an import from the
 * stdlib or another checkout is not this repository's business).  A file
 * outside any repository, or a machine without git, is not an error: `state`
 * says so and `reason` says why, and the run goes on.
 *
 * git runs as a child process (posix_spawnp, no shell): stdin /dev/null,
 * `git -C DIR`, GIT_OPTIONAL_LOCKS=0 (a run never takes the index lock
 * from a user's own git), GIT_DIR and GIT_WORK_TREE dropped, killed after a
 * timeout.  The runtime (src/rt) knows nothing of this.
 *
 * Ownership: an nnx_provenance owns every string and array in it;
 * nnx_provenance_free releases them.
 */
#ifndef NNX_PROVENANCE_H
#define NNX_PROVENANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/util/json.h"
#include "nnx/util/error.h"

typedef enum nnx_prov_state {
    NNX_PROV_NONE,          /* not collected (the struct is zeroed) */
    NNX_PROV_GIT,           /* in a repository: the fields below are set */
    NNX_PROV_NO_REPO,       /* the file is not in a git repository */
    NNX_PROV_NO_GIT,        /* the git command is not installed */
    NNX_PROV_FAILED         /* git failed or timed out; `reason` says how */
} nnx_prov_state;

typedef struct nnx_provenance {
    nnx_prov_state state;
    char  *reason;          /* why there is no commit (every state but GIT), or NULL */
    char  *root;            /* the repository's top directory, absolute */
    char  *commit;          /* HEAD, 40 hex; NULL when the repository has no commit yet */
    char  *branch;          /* "main"; NULL when HEAD is detached */
    char  *path;            /* the .nnx file, relative to root */
    char  *remote;          /* remote.origin.url, or NULL */
    char **files;           /* every file checked (the .nnx file first), relative to root */
    size_t nfiles;
    char **dirty_files;     /* those that differ from the commit or are not in it */
    size_t ndirty;
    bool   dirty;           /* ndirty > 0 */
    char  *diff;            /* when dirty: the unified diff of dirty_files; else NULL */
} nnx_provenance;

/* Collect the provenance of `files` (files[0] the .nnx file, then its imports
 * and hooks file; any path, relative to the current directory or absolute).
 * Returns 0 with p->state set — also when there is no repository or no git —
 * or -1 only when out of memory.  Each git call is killed after
 * `timeout_seconds` (<= 0: 10 s). */
int  nnx_provenance_collect(const char *const *files, size_t nfiles, double timeout_seconds,
                            nnx_provenance *p, nnx_rt_error *err);
void nnx_provenance_free(nnx_provenance *p);

/* The member "git" of a summary.json (docs/run-directory.md): a key and an
 * object; nothing when p is NULL or its state is NONE. */
void nnx_provenance_write_json(const nnx_provenance *p, nnx_json_writer *w);

/* The MLflow tags of a run: mlflow.source.git.commit, mlflow.source.git.branch,
 * mlflow.source.git.repoURL (as MLflow names them), nnx.git.path,
 * nnx.git.dirty, or nnx.git.reason outside a repository.  Errors are ignored
 * (a tag is a record, not the run). */
struct nnx_mlflow_run;
void nnx_provenance_mlflow_tags(const nnx_provenance *p, struct nnx_mlflow_run *run);

/* DIR/source.diff (atomically) when p is dirty; nothing otherwise.  The file
 * name is what summary.json's git.diff names. */
int  nnx_provenance_save_diff(const nnx_provenance *p, const char *dir, nnx_rt_error *err);

/* The commit as `nnx runs` shows it: 8 hex and "+" when dirty ("3f2a9c1b+"),
 * "-" outside a repository, "(none)" in a repository without a commit. */
void nnx_provenance_short(const char *commit, bool dirty, bool in_repo, char *buf, size_t size);

#endif
