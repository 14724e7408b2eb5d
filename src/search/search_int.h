/* search_int.h — the parts of src/search shared between its files (not public).
 *
 *   fs.c        exists, rm -rf
 *   row.c       a trial's row read back from its summary.json; ranking
 *   board.c     trials.csv and summary.json of a search or an ensemble
 *   search.c ... staged.c  nnx_search_run and its parts (work.h lists them)
 *   probs.c     saved probabilities and their ensemble average
 *   ens_metrics.c  the declared metrics of averaged probabilities
 *   lr_reading.c   the one-line reading of an lr search
 *   lock.c      per-trial lock files (nnx run --trial), safe on NFS
 *   trial_state.c  what a trial's directory and lock say of it (nnx status)
 */
#ifndef NNX_SEARCH_INT_H
#define NNX_SEARCH_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/util/error.h"
#include "nnx/util/file.h"
#include "nnx/search.h"

/* Paths are joined by nnx_path_join and made by nnx_mkdirs (nnx/util/file.h). */

/* Remove path and everything below it (symlinks are removed, not followed).
 * A missing path is not an error. */
int srch_remove_tree(const char *path, nnx_rt_error *err);
bool srch_exists(const char *path);

/* True for the statuses a finished trial may end with: not run again. */
bool srch_status_final(const char *status);

/* nnx_search_row_read, and from the same reading of summary.json the
 * epochs a trial that has not ended is known to have reached into *reached:
 * for "running" those its attempt under way began from (0 for a first
 * attempt, the epoch of the resume.state it went on from), for
 * "interrupted" those it ran (its resume.state's); -1 for any other status
 * or none. */
int srch_row_read(const char *dir, nnx_search_row *row, int *reached, nnx_rt_error *err);

/* The row group used for ranking: 0 = a final status (not pruned) and a
 * finite value; 1 = pruned with a finite value (ranked after every trial
 * that trained on); 2 = the rest. */
int srch_row_group(const nnx_search_row *r);

/* The one ranking of trials, used by the leaderboard and by each stage of a
 * staged search: group, then the select value (nnx_select_compare: equal to
 * the printed precision is a tie), then the lower valid loss at the selected
 * epoch, then the trial order.  < 0 when a ranks before b. */
int srch_row_compare(const nnx_search_row *a, const nnx_search_row *b, bool maximize);
/* The row's valid.loss at its selected epoch (summary.json metrics), or NaN. */
double srch_row_valid_loss(const nnx_search_row *r);

/* Write DIR/trials.csv and DIR/summary.json for the rows so far; `order`
 * gives the ranked row indices.  Ensembles write summary.json only. */
typedef struct srch_board {
    const char *dir, *version, *experiment, *search_kind;
    const char *select;
    bool select_max;
    nnx_search_kind kind;
    char *const *paths;
    size_t nparams;
    const nnx_search_row *const *rows;  /* ranked, best first */
    size_t nrows;
    size_t planned;
    const nnx_search_stage *stages;
    size_t nstages;
    const nnx_ensemble_stats *ens;      /* ENSEMBLE, or NULL */
    const char *message;
    const nnx_exp_prune *prune;         /* search: kind NONE unless it prunes */
    int epochs;                         /* the experiment's epochs (a trial's most) */
    const int *rung_epochs;             /* prune: the epoch each rung trains to, in order */
    size_t nrungs;
    const nnx_exp_search *tpe;          /* a tpe search (its startup, lag, seed), or NULL */
    char *const *warnings;              /* optional outputs that failed (the report) */
    size_t nwarnings;
    const struct nnx_provenance *provenance;   /* "git", or NULL */
} srch_board;

int srch_board_write(const srch_board *b, nnx_rt_error *err);

/* Ensemble statistics of the finished member rows (mean, std of the valid.*
 * and test.* metrics) and, when every member saved its probabilities, the
 * metrics of their average, computed as the experiment declares them. */
int srch_ensemble_stats(const nnx_experiment *e, const char *lua_stdlib, const nnx_search_row *const *rows,
                        const char *const *dirs, size_t n, nnx_ensemble_stats *out,
                        nnx_rt_error *err);
void srch_ensemble_stats_free(nnx_ensemble_stats *s);

/* Per-trial locks: DIR/.locks/NAME, made by link() and holding "host pid"
 * from the start, so that processes on many machines sharing DIR over NFS
 * never train one trial at once. */
typedef enum srch_lock_state {
    SRCH_LOCK_FREE,         /* no lock file */
    SRCH_LOCK_LIVE,         /* held by a live process of this host */
    SRCH_LOCK_STALE,        /* its process is gone from this host */
    SRCH_LOCK_ELSEWHERE     /* held by a process of another host (cannot be checked) */
} srch_lock_state;

typedef struct srch_lock_holder {
    char host[256];
    long pid;
} srch_lock_holder;

/* Take the lock of trial `name`: 1 taken (a stale lock of this host is taken
 * over), 0 held by another (`h` says who), -1 with err. */
int  srch_lock_take(const char *dir, const char *name, srch_lock_holder *h, nnx_rt_error *err);
/* Remove the lock if it is this process's. */
void srch_lock_release(const char *dir, const char *name);
/* Who holds the lock of `name`, without taking it (h may be NULL). */
srch_lock_state srch_lock_probe(const char *dir, const char *name, srch_lock_holder *h);

#endif
