/* search_int.h — the parts of src/search shared between its files (not public).
 *
 *   fs.c        exists, rm -rf
 *   row.c       a trial's row read back from its summary.json; ranking
 *   board.c     trials.csv and summary.json of a search or an ensemble
 *   sched.c     nnx_search_run: the trial queue, worker processes, stages
 *   probs.c     saved probabilities and their ensemble average
 *   ens_metrics.c  the declared metrics of averaged probabilities
 *   lr_reading.c   the one-line reading of an lr search
 */
#ifndef NNX_SEARCH_INT_H
#define NNX_SEARCH_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/rt/error.h"
#include "nnx/rt/file.h"
#include "nnx/search.h"

/* Paths are joined by nnx_path_join and made by nnx_mkdirs (nnx/rt/file.h). */

/* Remove path and everything below it (symlinks are removed, not followed).
 * A missing path is not an error. */
int srch_remove_tree(const char *path, nnx_rt_error *err);
bool srch_exists(const char *path);

/* True for the statuses a finished trial may end with: not run again. */
bool srch_status_final(const char *status);

/* The row group used for ranking: 0 = a final status and a finite value. */
int srch_row_group(const nnx_search_row *r);

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
    char *const *warnings;              /* optional outputs that failed (the report) */
    size_t nwarnings;
} srch_board;

int srch_board_write(const srch_board *b, nnx_rt_error *err);

/* Ensemble statistics of the finished member rows (mean, std of the valid.*
 * and test.* metrics) and, when every member saved its probabilities, the
 * metrics of their average, computed as the experiment declares them. */
int srch_ensemble_stats(const nnx_experiment *e, const nnx_search_row *const *rows,
                        const char *const *dirs, size_t n, nnx_ensemble_stats *out,
                        nnx_rt_error *err);
void srch_ensemble_stats_free(nnx_ensemble_stats *s);

#endif
