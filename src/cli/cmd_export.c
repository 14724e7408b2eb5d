/* cmd_export.c — `nnx export RUN -o FILE`: a run's (search winner's, ensemble's) model as an ONNX file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "nnx/util/json.h"
#include "nnx/onnx.h"
#include "nnx/util/file.h"

static const char USAGE[] = "usage: nnx export RUN -o FILE.onnx\n";

static const char *norm_name(nnx_norm_kind k)
{
    switch (k) {
    case NNX_NORM_STANDARD: return "standard";
    case NNX_NORM_MINMAX:   return "minmax";
    case NNX_NORM_NONE:     break;
    }
    return "none";
}

/* summary.json of the first member: the experiment's name and the SHA-256 of
 * its source file, copied into name and sha ("" when absent). */
static void read_summary(const char *dir, char name[256], char sha[65])
{
    name[0] = sha[0] = '\0';
    char *path = nnx_path_join(dir, "summary.json");
    size_t len;
    char *text = path ? nnx_file_read(path, 16u << 20, &len, NULL) : NULL;
    nnx_json_error je;
    nnx_json *root = text ? nnx_json_parse(text, len, &je) : NULL;
    snprintf(name, 256, "%s", nnx_json_as_string(nnx_json_get(root, "experiment"), ""));
    snprintf(sha, 65, "%s", nnx_json_as_string(nnx_json_get(root, "source_sha256"), ""));
    nnx_json_free(root);
    free(text);
    free(path);
}

int cmd_export(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nnx export: -o needs a file name\n%s", USAGE);
                return EXIT_BAD_INPUT;
            }
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "nnx export: unknown flag '%s'\n%s", argv[i], USAGE);
            return EXIT_BAD_INPUT;
        } else if (dir) {
            fprintf(stderr, "nnx export: one directory at a time ('%s' and '%s')\n", dir, argv[i]);
            return EXIT_BAD_INPUT;
        } else {
            dir = argv[i];
        }
    }
    if (!dir || !out) {
        fprintf(stderr, "nnx export: %s\n%s", dir ? "-o FILE is required" : "no run directory",
                USAGE);
        return EXIT_BAD_INPUT;
    }
    nnx_model *m = cli_model_open("export", dir, 1);
    if (!m) {
        cli_hint_rundirs("export", dir);
        return EXIT_BAD_INPUT;
    }
    nnx_rt_error err = { { 0 } };

    const size_t nm = nnx_model_members(m);
    const int32_t classes = nnx_model_classes(m), features = nnx_model_features(m);
    nnx_onnx_member *members = calloc(nm, sizeof *members);
    const char **class_names = calloc(classes > 0 ? (size_t)classes : 1, sizeof *class_names);
    const char **feature_names = calloc((size_t)features, sizeof *feature_names);
    int status = EXIT_OK;
    if (!members || !class_names || !feature_names) {
        fprintf(stderr, "nnx export: out of memory\n");
        status = EXIT_BAD_INPUT;
        goto done;
    }
    for (size_t i = 0; i < nm; i++) {
        const nnx_norm *norm = nnx_model_member_norm(m, i);
        members[i].net = nnx_model_member_net(m, i);
        if (norm->kind != NNX_NORM_NONE) {
            members[i].shift = norm->shift;
            members[i].scale = norm->scale;
        }
    }
    for (int32_t c = 0; c < classes; c++)
        class_names[c] = nnx_model_class_name(m, c);
    bool named = features > 0;
    for (int32_t j = 0; j < features; j++)
        named = named && (feature_names[j] = nnx_model_feature_name(m, j)) != NULL;

    char experiment[256], sha[65];
    read_summary(nnx_model_member_dir(m, 0), experiment, sha);
    nnx_onnx_prop props[4] = {
        { "nnx_version", NNX_VERSION }, { "source", nnx_model_source(m) },
    };
    size_t nprops = 2;
    if (experiment[0])
        props[nprops++] = (nnx_onnx_prop){ "experiment", experiment };
    if (sha[0])
        props[nprops++] = (nnx_onnx_prop){ "source_sha256", sha };

    static const nnx_onnx_head heads[] = {
        [NNX_MODEL_SOFTMAX] = NNX_ONNX_SOFTMAX, [NNX_MODEL_SIGMOID] = NNX_ONNX_SIGMOID,
        [NNX_MODEL_IDENTITY] = NNX_ONNX_IDENTITY,
    };
    const nnx_onnx_spec spec = {
        .members = members, .nmembers = nm,
        .head = heads[nnx_model_output_of(m)],
        .class_names = classes > 0 ? class_names : NULL, .nclasses = (size_t)classes,
        .feature_names = named ? feature_names : NULL, .nfeatures = (size_t)features,
        .normalize = norm_name(nnx_model_member_norm(m, 0)->kind),
        .graph_name = experiment[0] ? experiment : NULL,
        .producer_version = NNX_VERSION,
        .props = props, .nprops = nprops,
    };
    if (nnx_onnx_write(&spec, out, &err) < 0) {
        fprintf(stderr, "nnx export: %s: %s\n", dir, err.msg);
        status = EXIT_BAD_INPUT;
        goto done;
    }
    int32_t shape[3];
    nnx_model_shape(m, shape);
    char in[64];
    if (shape[1] * shape[2] > 1)
        snprintf(in, sizeof in, "[N, %d, %d, %d]", (int)shape[0], (int)shape[1], (int)shape[2]);
    else
        snprintf(in, sizeof in, "[N, %d]", (int)features);
    printf("wrote %s: ONNX opset %d, input %s, %s [N, %d]%s", out, NNX_ONNX_OPSET, in,
           spec.head == NNX_ONNX_IDENTITY ? "output" : "probabilities", nnx_model_outputs(m),
           nm > 1 ? "" : "\n");
    if (nm > 1)
        printf(", the mean of %zu members\n", nm);
done:
    free(members);
    free(class_names);
    free(feature_names);
    nnx_model_free(m);
    return status;
}
