/* run_int.h — the interpreter's parts, shared by the files of src/run (not public).
 *
 *   data_load.c   the data spec → train/valid/test nnx_datasets
 *   build.c       the network, optimizer and schedule of an experiment
 *   measure.c     declared metrics over a split's predictions
 *   model_write.c the run's model.json, for `nnx predict`
 *   rows_write.c  the selected weights' per-row predictions (probs_*.f32, rows_*.csv)
 *   trial.c       the epoch loop (nnx_run_trial)
 */
#ifndef NNX_RUN_INT_H
#define NNX_RUN_INT_H

#include <stdbool.h>

#include "nnx/exp.h"
#include "nnx/lua_host.h"
#include "nnx/rt/data.h"
#include "nnx/rt/loss.h"
#include "nnx/rt/optim.h"
#include "nnx/rt/lr_schedule.h"
#include "nnx/rt/tabcache.h"

/* The network stays opaque here; files that build or train it include
 * nnx/rt.h themselves. */
typedef struct nnx_net nnx_net;

/* A trial's Lua hooks (hooks.c).  Owns the host, the params view and the
 * values logged since the last metrics.csv row. */
typedef struct nnx_run_hooks {
    nnx_lua_host  *host;            /* NULL: no hooks */
    nnx_lua_param *params;          /* views of the trial's searched values */
    size_t         nparams;
    char         **log_names;       /* run:log values waiting for the next row */
    double        *log_values;
    size_t         nlog;
    bool           stop;            /* run:stop was called */
    char          *stop_reason;
    bool           lr_set;          /* run:set_lr was called; the caller clears it */
    double         lr_next;
    char           error[4224];     /* the last failure, with the Lua traceback */
} nnx_run_hooks;

/* Open e->hooks (nothing when NULL) and check that every lua.NAME metric is
 * defined.  -1 with k->error on failure (a syntax error, a missing file). */
int  nnx_run_hooks_open(nnx_run_hooks *k, const nnx_experiment *e, const char *stdlib_dir,
                        const nnx_exp_param *params, size_t nparams,
                        void (*print)(void *, const char *, size_t), void *print_ctx);
void nnx_run_hooks_close(nnx_run_hooks *k);
/* Call a callback (if the hooks define it) and collect what it asked for. */
int  nnx_run_hooks_call(nnx_run_hooks *k, nnx_lua_event ev, nnx_lua_run *run);
void nnx_run_hooks_clear_logs(nnx_run_hooks *k);
/* lua.NAME on a split's predictions (NaN for regression targets). */
int  nnx_run_hooks_metric(nnx_run_hooks *k, const char *name, const nnx_dataset *ds,
                          const float *p, int kout, double *out);

/* What the parsed-data cache did while one experiment's data loaded. */
typedef nnx_tabcache_use nnx_run_cache_use;

/* The three splits in memory.  Owns every present set and the normaliser. */
typedef struct nnx_run_data {
    nnx_dataset split[NNX_XSPLIT_COUNT];
    bool        has[NNX_XSPLIT_COUNT];
    nnx_norm    norm;
    nnx_csv_encoding enc;       /* a CSV train file's column encoding (zeroed otherwise),
                                   applied to the other CSV files */
    char        note[512];      /* what loading decided or met (unseen categories,
                                   filled cells), or "" */
    nnx_run_cache_use cache;
} nnx_run_data;

/* Load, split and normalise the data of `e` (seeded by e->seed), its CSV
 * and IDX files through the parsed-data cache in cache_dir (NULL: none).  Class
 * targets for the classification losses, real targets for mse.  0, or -1
 * with err naming the file and the reason (and `out` zeroed). */
int  nnx_run_data_load(const nnx_experiment *e, const char *cache_dir, nnx_run_data *out,
                       nnx_rt_error *err);
void nnx_run_data_free(nnx_run_data *d);

enum nnx_loss_kind nnx_run_loss_kind(nnx_exp_loss_kind k);

/* A compiled network for the layers of e->net, taking rows of `features`
 * floats (viewed as e->data.shape when that is C×H×W).  NULL with err. */
nnx_net *nnx_run_build_net(const nnx_experiment *e, int32_t features, int max_batch,
                           nnx_rt_error *err);
void nnx_run_optim_conf(const nnx_experiment *e, nnx_optim_conf *c);
/* The schedule for `batches` steps per epoch; -1 with err if it does not check. */
int  nnx_run_sched(const nnx_experiment *e, int64_t batches, nnx_sched *s, nnx_rt_error *err);

/* DIR/model.json (atomically): what `nnx predict` needs beside the weights —
 * the task, loss, classes, input columns and shape, the normalisation fitted
 * on d's train split — for a network of `outputs` outputs evaluated in
 * chunks of eval_batch rows (model_write.c; format in nnx/model.h and
 * docs/run-directory.md). */
int nnx_run_model_write(const char *dir, const nnx_experiment *e, const nnx_run_data *d,
                        int outputs, int eval_batch, nnx_rt_error *err);

/* The per-row outputs of a run's selected weights (loaded in net): for the
 * valid and test splits, DIR/probs_SPLIT.f32 (nnx/probs.h), and for each of
 * them that split() cut from another, DIR/rows_SPLIT.csv, the 0-based rows
 * of the source they came from (rows_write.c). */
int nnx_run_rows_write(const char *dir, const nnx_experiment *e, const nnx_run_data *d,
                       nnx_net *net, nnx_rt_error *err);

/* Value of metric `m` on a split: labels y (class) or targets t (real), n
 * rows of k predictions `p` as nnx_evaluate gives them; `loss` is the
 * split's mean loss (metric `loss`).  NaN when it is undefined (an AUC with
 * one class).  Lua metrics are not computed here (NaN). */
double nnx_run_metric(const nnx_exp_metric *m, const nnx_dataset *ds, const float *p, int k,
                      double loss);

#endif
