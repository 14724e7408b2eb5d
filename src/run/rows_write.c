/* rows_write.c — a run's per-row outputs: the selected weights' predictions on valid and test, and which rows each hold-out split took. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/probs.h"
#include "nnx/rt.h"
#include "nnx/util/buf.h"
#include "nnx/util/file.h"
#include "run/run_int.h"

/* DIR/probs_SPLIT.f32 for one split. */
static int write_probs(const char *dir, const char *split, nnx_net *net, enum nnx_loss_kind loss,
                       float smoothing, const nnx_dataset *ds, nnx_rt_error *err)
{
    int32_t k = (int32_t)nnx_net_out_size(net);
    nnx_probs p = { .rows = ds->n, .cols = k };
    p.p = malloc(((size_t)ds->n * (size_t)k + 1) * sizeof *p.p);
    p.labels = malloc(((size_t)ds->n + 1) * sizeof *p.labels);
    char file[40];
    snprintf(file, sizeof file, "probs_%s.f32", split);
    char *path = nnx_path_join(dir, file);
    int rc = p.p && p.labels && path ? 0 : nnx_rt_fail(err, "out of memory");
    if (rc == 0)
        rc = nnx_evaluate(net, loss, smoothing, ds, nnx_net_max_batch(net), p.p, NULL, err);
    if (rc == 0) {
        for (int32_t i = 0; i < ds->n; i++)
            p.labels[i] = ds->kind == NNX_TARGET_CLASS ? ds->y[i] : -1;
        rc = nnx_probs_write(path, &p, err);
    }
    free(path);
    nnx_probs_free(&p);
    return rc;
}

/* DIR/rows_SPLIT.csv: the source row of each row of a hold-out split. */
static int write_rows(const char *dir, const char *split, const nnx_dataset *ds,
                      nnx_rt_error *err)
{
    nnx_buf b = { 0 };
    nnx_buf_puts(&b, "row\n");
    for (int32_t i = 0; i < ds->n; i++)
        nnx_buf_printf(&b, "%d\n", (int)(ds->source_row ? ds->source_row[i] : i));
    char file[40];
    snprintf(file, sizeof file, "rows_%s.csv", split);
    char *path = nnx_path_join(dir, file);
    int rc = path && !b.oom ? nnx_file_write(path, b.s, b.len, 0, err)
                            : nnx_rt_fail(err, "out of memory");
    free(path);
    free(b.s);
    return rc;
}

int nnx_run_rows_write(const char *dir, const nnx_experiment *e, const nnx_run_data *d,
                       nnx_net *net, nnx_rt_error *err)
{
    enum nnx_loss_kind loss = nnx_run_loss_kind(e->loss.kind);
    for (int s = NNX_XSPLIT_VALID; s < NNX_XSPLIT_COUNT; s++) {
        if (!d->has[s] || d->split[s].n == 0)
            continue;
        const char *name = nnx_exp_split_name((nnx_exp_split)s);
        if (write_probs(dir, name, net, loss, (float)e->loss.label_smoothing, &d->split[s],
                        err) < 0)
            return -1;
        if (e->data.split[s].kind == NNX_XSRC_SPLIT && write_rows(dir, name, &d->split[s], err) < 0)
            return -1;
    }
    return 0;
}
