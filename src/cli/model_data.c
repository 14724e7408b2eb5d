/* model_data.c — for nnx predict and nnx eval: a run's model and a data file read for it (CSV, IDX or .npy). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "nnx/resolve.h"

char *cli_lua_stdlib(const nnx_program *p)
{
    if (!p->stdlib)
        return NULL;
    size_t len = strlen(p->stdlib) + sizeof "/lua";
    char *dir = malloc(len);
    if (dir)
        snprintf(dir, len, "%s/lua", p->stdlib);
    return dir;
}

nnx_model *cli_model_open(const char *cmd, const char *run, int threads)
{
    nnx_rt_error err = { { 0 } };
    nnx_model *m = nnx_model_load(run, &err);
    if (m && nnx_model_set_threads(m, threads, &err) < 0) {
        nnx_model_free(m);
        m = NULL;
    }
    if (!m)
        fprintf(stderr, "nnx %s: %s\n", cmd, err.msg);
    return m;
}

int cli_model_rows(const char *cmd, const nnx_model *m, const char *data, const char *labels,
                   bool want_labels, bool no_cache, nnx_dataset *out)
{
    nnx_rt_error err = { { 0 } };
    char *cache_dir = cli_data_cache_dir(no_cache);
    nnx_tabcache_use use = { 0 };
    int npy = nnx_model_is_npy(data, &err);
    int idx = npy == 0 ? nnx_model_is_idx(data, &err) : -1;
    int rc = npy == 1 ? 0 : idx;
    if (npy == 1) {
        if (want_labels && !labels) {
            fprintf(stderr, "nnx %s: %s is a .npy array of features: give the .npy file of its "
                    "labels too (nnx %s RUN X.npy Y.npy)\n", cmd, data, cmd);
            free(cache_dir);
            return -1;
        }
        rc = nnx_model_read_npy(m, data, want_labels ? labels : NULL, out, &err);
    } else if (idx == 1) {
        if (want_labels && !labels) {
            fprintf(stderr, "nnx %s: %s is an IDX images file: give its labels file too "
                    "(nnx %s RUN IMAGES LABELS)\n", cmd, data, cmd);
            free(cache_dir);
            return -1;
        }
        rc = nnx_model_read_idx(m, data, want_labels ? labels : NULL, out, cache_dir, &use, &err);
    } else if (idx == 0) {
        if (labels) {
            fprintf(stderr, "nnx %s: %s is a CSV file, which holds its labels: a labels file "
                    "(%s) goes with IDX images or .npy arrays only\n", cmd, data, labels);
            free(cache_dir);
            return -1;
        }
        nnx_model_csv_notes notes;
        rc = nnx_model_read_csv(m, data, want_labels, out, &notes, cache_dir, &use, &err);
        if (rc == 0 && notes.nignored) {
            fprintf(stderr, "note: %s: %zu column%s the model does not read, ignored:", data,
                    notes.nignored, notes.nignored == 1 ? "" : "s");
            for (size_t i = 0; i < notes.nignored && i < 8; i++)
                fprintf(stderr, "%s %s", i ? "," : "", notes.ignored[i]);
            fprintf(stderr, "%s\n", notes.nignored > 8 ? ", ..." : "");
        }
        if (rc == 0 && notes.stats.unseen)
            fprintf(stderr, "note: %s: %lld cell%s of a category the training data lacks, "
                    "encoded as all zeros (the first: %s)\n", data,
                    (long long)notes.stats.unseen, notes.stats.unseen == 1 ? "" : "s",
                    notes.stats.example);
        if (rc == 0 && notes.stats.imputed)
            fprintf(stderr, "note: %s: %lld missing cell%s filled as in training\n", data,
                    (long long)notes.stats.imputed, notes.stats.imputed == 1 ? "" : "s");
        nnx_model_csv_notes_free(&notes);
    }
    if (use.warning[0])
        fprintf(stderr, "nnx %s: warning: data cache: %s\n", cmd, use.warning);
    if (rc < 0)
        fprintf(stderr, "nnx %s: %s\n", cmd, err.msg);
    free(cache_dir);
    return rc;
}
