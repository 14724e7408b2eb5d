/* fuzz_model.c — fuzz model.json as nnx predict and nnx eval read it (nnx_model_load), and the rows read for the model it describes (nnx_model_read_csv, src/model/model_read.c).
 *
 * Input: a flags byte (bit 0: read the rows with their labels, as nnx eval
 * does), then model.json.  It is written into a run directory beside a
 * fixed weights.nnxw (2 inputs, dense(8) relu dense(2); made by the target),
 * so that mutations of the JSON reach the checks against the network, the
 * classes, the normalisation and the column encoding.  A model that loads
 * reads a fixed CSV file (columns height, weight, color, kind) and predicts
 * its rows.  The seeds are the model.json files nnx run writes
 * (tests/fuzz/corpus/model).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/model.h"
#include "nnx/rt/checkpoint.h"
#include "nnx/rt/net.h"

#include "fuzz_io.h"

static const char rows[] = "height,weight,color,kind\n1.5,2,red,cat\n3,,blue,dog\n"
                           "0.25,-1e3,green,cat\n";

static void make_run(void)
{
    nnx_rt_error err;
    nnx_net *n = nnx_net_new(2, 1, 1, &err);
    char *w = fuzz_path("run/weights.nnxw");
    char *probe = fuzz_write("run/probe", "", 0);     /* makes run/ */
    if (!n || nnx_net_add_dense(n, 8, true, &err) || nnx_net_add_act(n, NNX_ACT_RELU, 0, &err) ||
        nnx_net_add_dense(n, 2, true, &err) || nnx_net_compile(n, 4, 1, &err) ||
        !probe || nnx_net_save(n, w, &err) < 0)
        abort();
    nnx_net_free(n);
    free(w);
    free(probe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int made;
    if (!made++)
        make_run();
    if (size < 1)
        return 0;
    char *json = fuzz_write("run/model.json", data + 1, size - 1);
    char *csv = fuzz_write("rows.csv", rows, sizeof rows - 1);
    char *dir = fuzz_path("run");
    if (!json || !csv || !dir)
        abort();
    nnx_rt_error err;
    nnx_model *m = nnx_model_load(dir, &err);
    if (m) {
        nnx_dataset ds;
        nnx_model_csv_notes notes;
        if (nnx_model_read_csv(m, csv, data[0] & 1, &ds, &notes, NULL, NULL, &err) == 0) {
            float *p = malloc((size_t)ds.n * (size_t)nnx_model_outputs(m) * sizeof *p + 1);
            if (!p)
                abort();
            bool cls = nnx_model_predict(m, ds.x, ds.n, p, &err) == 0 &&
                       nnx_model_task_of(m) == NNX_MODEL_CLASSIFICATION;
            for (int32_t i = 0; cls && i < ds.n; i++)
                if (!nnx_model_class_name(m, nnx_model_class_of(m, p + (size_t)i *
                                                                (size_t)nnx_model_outputs(m))))
                    abort();
            free(p);
            nnx_model_csv_notes_free(&notes);
            nnx_dataset_free(&ds);
        }
        nnx_model_free(m);
    }
    free(json);
    free(csv);
    free(dir);
    return 0;
}
