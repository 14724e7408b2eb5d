/* onnx.h — a trained network (or an ensemble of them) as an ONNX model file.
 *
 * The model is ONNX IR version 8 with opset 17 of the default domain: one
 * graph from the raw input rows to the probabilities, in inference mode.
 *
 *   input  "input"          float [N, C, H, W] when the networks take C×H×W
 *                           samples with H·W > 1, else [N, D]; N is the
 *                           dynamic batch dimension "N"
 *   nodes                   per member: the normalisation (Sub, Mul), then
 *                           one group of nodes per layer, then the head;
 *                           an ensemble ends in Mean over its members
 *   output "probabilities"  float [N, K] (softmax, or sigmoid per output), or
 *          "output"         the raw outputs for regression
 *
 * Layers (docs/onnx.md has the table):
 *   dense      Gemm(x, W[units][in], b, transB = 1), after Flatten for a
 *              C×H×W input (nnx reads it flat in C, H, W order, as Flatten does)
 *   conv       Conv(x, W[F][C][k][k], b) with kernel_shape, strides, pads
 *   maxpool    MaxPool, avgpool AveragePool (kernel_shape, strides; no padding,
 *              windows that do not fit dropped: ceil_mode 0)
 *   flatten    Flatten(axis = 1)
 *   batchnorm  BatchNormalization with the running mean and variance
 *   dropout    nothing (the identity at inference)
 *   relu Relu, leaky_relu LeakyRelu(alpha), elu Elu(alpha), tanh Tanh,
 *   sigmoid Sigmoid, gelu x·0.5·(1 + Erf(x/√2)), swish x·Sigmoid(beta·x)
 *   layernorm LayerNormalization(axis 1), global_avgpool GlobalAveragePool,
 *   residual blocks Add(body, skip), the skip through a 1×1 Conv or a Gemm
 *   when the block changes the shape (with branch resnet's runtime)
 * A flat tensor met by a layer that needs C×H×W gets a Reshape.
 *
 * Metadata props (string → string): "class_names" and "feature_names" (JSON
 * arrays, when known), "input_shape" (JSON [C, H, W] or [D]), "task"
 * ("classification", "binary" or "regression"), "members" (the number of
 * networks averaged), "normalize", and any extra pairs the caller gives
 * (nnx puts its version and the experiment's SHA-256 there).
 *
 * Errors: 0, or -1 with err saying why ("member 2, layer 5 (xyz): ONNX export
 * does not support this layer").  Nothing is printed.
 * Ownership: everything in a spec is borrowed for the call.
 */
#ifndef NNX_ONNX_H
#define NNX_ONNX_H

#include <stdbool.h>
#include <stddef.h>

#include "nnx/util/error.h"
#include "nnx/rt/net.h"

#define NNX_ONNX_OPSET 17
#define NNX_ONNX_IR_VERSION 8

/* What follows the last layer. */
typedef enum nnx_onnx_head {
    NNX_ONNX_SOFTMAX,    /* cross-entropy: Softmax over the outputs */
    NNX_ONNX_SIGMOID,    /* binary cross-entropy: Sigmoid of each output */
    NNX_ONNX_IDENTITY,   /* mse: the outputs themselves */
} nnx_onnx_head;

/* One network of the model and the normalisation in front of it:
 * x' = (x - shift) · scale per feature (shift and scale of D floats each,
 * both NULL for none). */
typedef struct nnx_onnx_member {
    nnx_net     *net;        /* compiled, its weights loaded; only read */
    const float   *shift, *scale;
} nnx_onnx_member;

/* One extra metadata pair. */
typedef struct nnx_onnx_prop {
    const char *key, *value;
} nnx_onnx_prop;

typedef struct nnx_onnx_spec {
    const nnx_onnx_member *members;  /* [nmembers] >= 1, all with the same input
                                        shape and output size; more than one
                                        is an ensemble: the mean of their heads */
    size_t nmembers;
    nnx_onnx_head head;
    const char *const *class_names;  /* [nclasses], or NULL */
    size_t nclasses;
    const char *const *feature_names;/* [nfeatures] (= D), or NULL */
    size_t nfeatures;
    const char *normalize;           /* "standard", "minmax", "none" or NULL */
    const char *graph_name;          /* the experiment's name, or NULL */
    const char *producer_version;    /* nnx's version */
    const nnx_onnx_prop *props;      /* [nprops] extra metadata */
    size_t nprops;
} nnx_onnx_spec;

/* The serialized ModelProto of spec: *data (malloc'd, the caller frees it)
 * holds *len bytes. */
int nnx_onnx_encode(const nnx_onnx_spec *spec, unsigned char **data, size_t *len,
                    nnx_rt_error *err);

/* The same, written to path through a temporary file and a rename, so a
 * failure leaves whatever was at path before. */
int nnx_onnx_write(const nnx_onnx_spec *spec, const char *path, nnx_rt_error *err);

#endif
