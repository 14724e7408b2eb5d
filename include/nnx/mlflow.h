/* mlflow.h — record a trial as a run in an MLflow local file store.
 *
 * The layout is the one mlflow.store.tracking.file_store.FileStore writes and
 * reads (`mlflow ui --backend-store-uri file:/path/mlruns` shows it):
 *
 *   <root>/.trash/
 *   <root>/.nnx-lock                          nnx's lock while it looks up or
 *                                             creates an experiment
 *   <root>/0/meta.yaml                        experiment "Default"
 *   <root>/<exp id>/meta.yaml                 artifact_location, creation_time,
 *                                             experiment_id, last_update_time,
 *                                             lifecycle_stage: active, name
 *   <root>/<exp id>/<run id>/meta.yaml        artifact_uri, end_time,
 *       entry_point_name, experiment_id, lifecycle_stage, run_id, run_name,
 *       run_uuid, source_name, source_type, source_version, start_time,
 *       status, tags: [], user_id
 *   <root>/<exp id>/<run id>/params/<key>     the value, no newline
 *   <root>/<exp id>/<run id>/metrics/<key>    one line per point:
 *                                             "<timestamp ms> <value> <step>"
 *   <root>/<exp id>/<run id>/tags/<key>       mlflow.runName, mlflow.user,
 *                                             mlflow.source.name,
 *                                             mlflow.source.type, ...
 *   <root>/<exp id>/<run id>/artifacts/       copies of the run directory
 *
 * Experiment ids are 18-digit decimal numbers as MLflow makes them (0 is the
 * Default experiment), run ids 32 lowercase hex digits (a random UUID4 in
 * hex).  An experiment whose meta.yaml carries the same name is reused; the
 * look-up and creation run under a POSIX record lock, so separate processes
 * starting trials at once share one experiment.  Within one process, calls to
 * nnx_mlflow_start on the same store must not run concurrently (threads share
 * the process's lock); every other call may, on different runs.
 * Keys with a '/' become nested files, as in MLflow.
 *
 * Whole files (meta.yaml, params, tags, artifacts) are written to a temporary
 * name and renamed, so a reader never sees half a file; metric lines are
 * appended and the file closed after each point.
 *
 * Ownership: nnx_mlflow_start returns an nnx_mlflow_run owned by the caller,
 * released only by nnx_mlflow_free.  No string passed in is kept.
 *
 * Errors: functions returning int give 0 or -1 after filling *err (which may
 * be NULL); nnx_mlflow_start returns NULL after filling *err.  Nothing is
 * printed.
 */
#ifndef NNX_MLFLOW_H
#define NNX_MLFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "nnx/util/error.h"

/* MLflow's RunStatus numbers, as stored in a run's meta.yaml. */
typedef enum nnx_mlflow_status {
    NNX_MLFLOW_RUNNING = 1,
    NNX_MLFLOW_SCHEDULED = 2,
    NNX_MLFLOW_FINISHED = 3,
    NNX_MLFLOW_FAILED = 4,
    NNX_MLFLOW_KILLED = 5,
} nnx_mlflow_status;

typedef struct nnx_mlflow_run nnx_mlflow_run;

/* What a run is started with.  Only experiment and run_name are required. */
typedef struct nnx_mlflow_start_opts {
    /* Where the store is: "file:/abs/path", "file:///abs/path", or a plain
     * (possibly relative) path.  NULL means $MLFLOW_TRACKING_URI (the `env`
     * field below), and if that is unset or empty, "./mlruns". */
    const char *tracking_uri;
    /* The value of MLFLOW_TRACKING_URI the caller read (NULL if unset); kept
     * as a field so the library never reads the environment itself. */
    const char *env_tracking_uri;
    const char *experiment;   /* experiment name, e.g. the .nnx experiment */
    const char *run_name;     /* trial name; tag mlflow.runName */
    const char *source_name;  /* the .nnx file; tag mlflow.source.name; may be NULL */
    const char *user;         /* user_id and tag mlflow.user; NULL = "unknown" */
    int64_t start_ms;         /* start_time, unix milliseconds */
} nnx_mlflow_start_opts;

/* Turn a tracking URI (or NULL/"" → env_uri → "./mlruns") into an absolute
 * directory path in out[cap].  Accepts file:/p, file:///p, file://localhost/p
 * and plain paths (relative ones are taken from the current directory); a
 * remote or database URI (http:, https:, databricks, sqlite:, ...) is an
 * error, as is a path that does not fit. */
int nnx_mlflow_resolve_root(const char *uri, const char *env_uri, char *out,
                            size_t cap, nnx_rt_error *err);

/* Make `key` a valid MLflow param/metric/tag name in out[cap]: characters
 * other than ASCII letters, digits, '_', '-', '.', ' ' and '/' become '_';
 * empty path components and leading/trailing '/' are dropped, "." and ".."
 * components become "_" and "__" (MLflow refuses names that normalise to
 * another path); an empty result is "_"; at most 250 bytes.  Never fails for
 * cap >= 2; out is always terminated. */
void nnx_mlflow_sanitize_key(const char *key, char *out, size_t cap);

/* Open (creating if needed) the store, find or create the experiment by name,
 * create the run directory with meta.yaml (status RUNNING), params/, metrics/,
 * artifacts/ and the tags mlflow.runName, mlflow.user, mlflow.source.name,
 * mlflow.source.type = LOCAL. */
nnx_mlflow_run *nnx_mlflow_start(const nnx_mlflow_start_opts *opts,
                                 nnx_rt_error *err);

const char *nnx_mlflow_run_id(const nnx_mlflow_run *run);        /* 32 hex */
const char *nnx_mlflow_experiment_id(const nnx_mlflow_run *run);
const char *nnx_mlflow_run_dir(const nnx_mlflow_run *run);       /* absolute */

/* params/<key> = value (key sanitised).  Writing the same key twice with a
 * different value is an error, as in MLflow (params are immutable). */
int nnx_mlflow_param(nnx_mlflow_run *run, const char *key, const char *value,
                     nnx_rt_error *err);

/* Append "<timestamp_ms> <value> <step>" to metrics/<key> (key sanitised).
 * value is written with 17 significant digits (round-trips a double). */
int nnx_mlflow_metric(nnx_mlflow_run *run, const char *key, double value,
                      int64_t timestamp_ms, int64_t step, nnx_rt_error *err);

/* tags/<key> = value (key sanitised), replacing any earlier value. */
int nnx_mlflow_tag(nnx_mlflow_run *run, const char *key, const char *value,
                   nnx_rt_error *err);

/* Copy every regular file under `dir` (recursively, keeping relative paths)
 * into the run's artifacts/.  Symlinks are skipped, and so is the store
 * itself if it lies inside `dir`. */
int nnx_mlflow_artifacts(nnx_mlflow_run *run, const char *dir,
                         nnx_rt_error *err);

/* Rewrite meta.yaml with the final status and end_time. */
int nnx_mlflow_end(nnx_mlflow_run *run, nnx_mlflow_status status,
                   int64_t end_ms, nnx_rt_error *err);

/* Release the handle (run may be NULL).  Does not touch the files: a run
 * freed without nnx_mlflow_end stays RUNNING, as after a crash. */
void nnx_mlflow_free(nnx_mlflow_run *run);

/* Current unix time in milliseconds (CLOCK_REALTIME). */
int64_t nnx_mlflow_now_ms(void);

#endif
