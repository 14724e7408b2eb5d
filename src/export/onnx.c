/* onnx.c — a trained network or ensemble as an ONNX ModelProto (opset 17), through the pb encoder. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/util/json.h"
#include "nnx/onnx.h"
#include "nnx/util/file.h"
#include "nnx/util/pb.h"

/* Field numbers, from onnx/onnx.proto. */
enum {
    MODEL_IR_VERSION = 1,        /* int64 */
    MODEL_PRODUCER_NAME = 2,     /* string */
    MODEL_PRODUCER_VERSION = 3,  /* string */
    MODEL_DOC_STRING = 6,        /* string */
    MODEL_GRAPH = 7,             /* GraphProto */
    MODEL_OPSET_IMPORT = 8,      /* repeated OperatorSetIdProto */
    MODEL_METADATA_PROPS = 14,   /* repeated StringStringEntryProto */
    OPSET_DOMAIN = 1,            /* string; "" = the default domain */
    OPSET_VERSION = 2,           /* int64 */
    ENTRY_KEY = 1, ENTRY_VALUE = 2,
    GRAPH_NODE = 1,              /* repeated NodeProto */
    GRAPH_NAME = 2,              /* string */
    GRAPH_INITIALIZER = 5,       /* repeated TensorProto */
    GRAPH_INPUT = 11,            /* repeated ValueInfoProto */
    GRAPH_OUTPUT = 12,           /* repeated ValueInfoProto */
    NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4,
    NODE_ATTRIBUTE = 5,          /* repeated AttributeProto */
    ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_INTS = 8, ATTR_TYPE = 20,
    ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_INTS_TYPE = 7,   /* AttributeType values */
    TENSOR_DIMS = 1,             /* repeated int64 */
    TENSOR_DATA_TYPE = 2,        /* int32: DataType */
    TENSOR_NAME = 8,
    TENSOR_RAW_DATA = 9,         /* bytes, little-endian */
    DT_FLOAT = 1, DT_INT64 = 7,
    VALUE_NAME = 1, VALUE_TYPE = 2,
    TYPE_TENSOR = 1,             /* TypeProto.tensor_type */
    TTENSOR_ELEM_TYPE = 1, TTENSOR_SHAPE = 2,
    SHAPE_DIM = 1,               /* repeated Dimension */
    DIM_VALUE = 1, DIM_PARAM = 2,
};

#define NAME_MAX_LEN 64

/* The graph being built.  Nodes and initializers go straight into `graph`
 * (a GraphProto's fields may come in any order); node, attr, tensor are
 * scratch messages reused for each one. */
typedef struct gb {
    nnx_pb graph, node, attr, tensor;
    const char *prefix;         /* "m2." for member 2 of an ensemble, else "" */
    int fresh;                  /* counter for unique value names */
} gb;

/* A fresh value name "<prefix><what><n>" into out. */
static void fresh_name(gb *g, char out[NAME_MAX_LEN], const char *what)
{
    snprintf(out, NAME_MAX_LEN, "%s%s%d", g->prefix, what, ++g->fresh);
}

/* --- nodes ------------------------------------------------------------------ */

static void node_begin(gb *g, const char *op, const char *out)
{
    nnx_pb_clear(&g->node);
    nnx_pb_string_field(&g->node, NODE_OP_TYPE, op);
    nnx_pb_string_field(&g->node, NODE_NAME, out);   /* named after its output */
    nnx_pb_string_field(&g->node, NODE_OUTPUT, out);
}

static void node_in(gb *g, const char *in)
{
    nnx_pb_string_field(&g->node, NODE_INPUT, in);
}

static void attr_int(gb *g, const char *name, int64_t v)
{
    nnx_pb_clear(&g->attr);
    nnx_pb_string_field(&g->attr, ATTR_NAME, name);
    nnx_pb_int64_field(&g->attr, ATTR_TYPE, ATTR_INT);
    nnx_pb_int64_field(&g->attr, ATTR_I, v);
    nnx_pb_message_field(&g->node, NODE_ATTRIBUTE, &g->attr);
}

static void attr_float(gb *g, const char *name, float v)
{
    nnx_pb_clear(&g->attr);
    nnx_pb_string_field(&g->attr, ATTR_NAME, name);
    nnx_pb_int64_field(&g->attr, ATTR_TYPE, ATTR_FLOAT);
    nnx_pb_float_field(&g->attr, ATTR_F, v);
    nnx_pb_message_field(&g->node, NODE_ATTRIBUTE, &g->attr);
}

static void attr_ints(gb *g, const char *name, const int64_t *v, int n)
{
    nnx_pb_clear(&g->attr);
    nnx_pb_string_field(&g->attr, ATTR_NAME, name);
    nnx_pb_int64_field(&g->attr, ATTR_TYPE, ATTR_INTS_TYPE);
    for (int i = 0; i < n; i++)
        nnx_pb_int64_field(&g->attr, ATTR_INTS, v[i]);
    nnx_pb_message_field(&g->node, NODE_ATTRIBUTE, &g->attr);
}

static void node_end(gb *g)
{
    nnx_pb_message_field(&g->graph, GRAPH_NODE, &g->node);
}

/* A node with one or two inputs and no attributes. */
static void node2(gb *g, const char *op, const char *a, const char *b, const char *out)
{
    node_begin(g, op, out);
    node_in(g, a);
    if (b)
        node_in(g, b);
    node_end(g);
}

/* --- initializers ------------------------------------------------------------- */

static void tensor_f32(gb *g, const char *name, const int64_t *dims, int ndims,
                       const float *v, size_t n)
{
    nnx_pb_clear(&g->tensor);
    for (int i = 0; i < ndims; i++)
        nnx_pb_int64_field(&g->tensor, TENSOR_DIMS, dims[i]);
    nnx_pb_int64_field(&g->tensor, TENSOR_DATA_TYPE, DT_FLOAT);
    nnx_pb_string_field(&g->tensor, TENSOR_NAME, name);
    nnx_pb_floats_field(&g->tensor, TENSOR_RAW_DATA, v, n);
    nnx_pb_message_field(&g->graph, GRAPH_INITIALIZER, &g->tensor);
}

static void tensor_i64(gb *g, const char *name, const int64_t *v, int n)
{
    uint8_t raw[8 * 8];
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            raw[8 * i + b] = (uint8_t)((uint64_t)v[i] >> (8 * b));
    nnx_pb_clear(&g->tensor);
    nnx_pb_int64_field(&g->tensor, TENSOR_DIMS, n);
    nnx_pb_int64_field(&g->tensor, TENSOR_DATA_TYPE, DT_INT64);
    nnx_pb_string_field(&g->tensor, TENSOR_NAME, name);
    nnx_pb_bytes_field(&g->tensor, TENSOR_RAW_DATA, raw, 8 * (size_t)n);
    nnx_pb_message_field(&g->graph, GRAPH_INITIALIZER, &g->tensor);
}

/* A rank-0 float constant; its name into out. */
static void scalar(gb *g, char out[NAME_MAX_LEN], float v)
{
    fresh_name(g, out, "const");
    tensor_f32(g, out, NULL, 0, &v, 1);
}

/* --- the tensor flowing through a member ---------------------------------------- */

/* The current value: its name and whether it is [N, c] (rank 2) or
 * [N, c, h, w] (rank 4); c, h, w are nnx's shape of one sample. */
typedef struct flow {
    char name[NAME_MAX_LEN];
    int rank, c, h, w;
} flow;

/* A new node's output becomes the current value. */
static void flow_to(flow *f, const char *name)
{
    snprintf(f->name, sizeof f->name, "%s", name);
}

static void to_rank2(gb *g, flow *f)
{
    if (f->rank == 2)
        return;
    char out[NAME_MAX_LEN];
    fresh_name(g, out, "flatten");
    node_begin(g, "Flatten", out);
    node_in(g, f->name);
    attr_int(g, "axis", 1);
    node_end(g);
    flow_to(f, out);
    f->rank = 2;
}

static void to_rank4(gb *g, flow *f)
{
    if (f->rank == 4)
        return;
    char shape[NAME_MAX_LEN], out[NAME_MAX_LEN];
    fresh_name(g, shape, "shape");
    const int64_t dims[4] = { -1, f->c, f->h, f->w };
    tensor_i64(g, shape, dims, 4);
    fresh_name(g, out, "reshape");
    node2(g, "Reshape", f->name, shape, out);
    flow_to(f, out);
    f->rank = 4;
}

/* The dims of a per-sample constant matching the flow: [c·h·w] or [c, h, w]. */
static int sample_dims(const flow *f, int64_t dims[3])
{
    dims[0] = f->rank == 2 ? (int64_t)f->c * f->h * f->w : f->c;
    if (f->rank == 2)
        return 1;
    dims[1] = f->h;
    dims[2] = f->w;
    return 3;
}

/* --- layers ------------------------------------------------------------------------ */

static void put_act(gb *g, flow *f, enum nnx_act act, float a, const char *lname)
{
    char out[NAME_MAX_LEN];
    fresh_name(g, out, lname);
    switch (act) {
    case NNX_ACT_RELU:    node2(g, "Relu", f->name, NULL, out); break;
    case NNX_ACT_TANH:    node2(g, "Tanh", f->name, NULL, out); break;
    case NNX_ACT_SIGMOID: node2(g, "Sigmoid", f->name, NULL, out); break;
    case NNX_ACT_LEAKY_RELU:
    case NNX_ACT_ELU:
        node_begin(g, act == NNX_ACT_ELU ? "Elu" : "LeakyRelu", out);
        node_in(g, f->name);
        attr_float(g, "alpha", a);
        node_end(g);
        break;
    case NNX_ACT_GELU: {
        /* x · 0.5 · (1 + erf(x / √2)); Gelu itself is opset 20. */
        char k[NAME_MAX_LEN], t1[NAME_MAX_LEN], t2[NAME_MAX_LEN], t3[NAME_MAX_LEN],
            t4[NAME_MAX_LEN];
        scalar(g, k, 0.70710678118654752f);
        fresh_name(g, t1, "gelu_scaled");
        node2(g, "Mul", f->name, k, t1);
        fresh_name(g, t2, "gelu_erf");
        node2(g, "Erf", t1, NULL, t2);
        scalar(g, k, 1.0f);
        fresh_name(g, t3, "gelu_1p");
        node2(g, "Add", t2, k, t3);
        fresh_name(g, t4, "gelu_x");
        node2(g, "Mul", f->name, t3, t4);
        scalar(g, k, 0.5f);
        node2(g, "Mul", t4, k, out);
        break;
    }
    case NNX_ACT_SWISH: {
        /* x · sigmoid(beta · x) */
        char k[NAME_MAX_LEN], bx[NAME_MAX_LEN], s[NAME_MAX_LEN];
        const char *arg = f->name;
        if (a != 1.0f) {
            scalar(g, k, a);
            fresh_name(g, bx, "swish_bx");
            node2(g, "Mul", f->name, k, bx);
            arg = bx;
        }
        fresh_name(g, s, "swish_sigmoid");
        node2(g, "Sigmoid", arg, NULL, s);
        node2(g, "Mul", f->name, s, out);
        break;
    }
    }
    flow_to(f, out);
}

/* Residual blocks: Add, the skip path through a 1x1 Conv or Gemm
 * projection when the block changes the shape. */
/* Bring the body's output and the skip path to the same rank (they have the
 * same C×H×W), then add them. */
static void put_residual_add(gb *g, flow *f, flow *skip)
{
    if (f->rank != skip->rank) {
        if (f->h * f->w == 1) {
            to_rank2(g, f);
            to_rank2(g, skip);
        } else {
            to_rank4(g, f);
            to_rank4(g, skip);
        }
    }
    char out[NAME_MAX_LEN];
    fresh_name(g, out, "residual_add");
    node2(g, "Add", f->name, skip->name, out);
    flow_to(f, out);
}

/* The skip path's projection of a residual add (its parameters: W then b)
 * applied to the block's input `skip`: a 1×1 convolution with a stride, or a
 * dense layer reading it flat. */
static void put_projection(gb *g, flow *skip, const float *p, int li, const nnx_layer_info *L)
{
    char w[NAME_MAX_LEN], b[NAME_MAX_LEN], out[NAME_MAX_LEN], what[32];
    const bool conv = L->kernel == 1;
    const int64_t in = conv ? skip->c : (int64_t)skip->c * skip->h * skip->w;
    if (conv)
        to_rank4(g, skip);
    else
        to_rank2(g, skip);
    snprintf(what, sizeof what, "l%d_proj_W", li);
    fresh_name(g, w, what);
    if (conv)
        tensor_f32(g, w, (const int64_t[]){ L->units, in, 1, 1 }, 4, p, (size_t)(L->units * in));
    else
        tensor_f32(g, w, (const int64_t[]){ L->units, in }, 2, p, (size_t)(L->units * in));
    fresh_name(g, out, conv ? "proj_conv" : "proj_dense");
    node_begin(g, conv ? "Conv" : "Gemm", out);
    node_in(g, skip->name);
    node_in(g, w);
    if (L->bias) {
        snprintf(what, sizeof what, "l%d_proj_b", li);
        fresh_name(g, b, what);
        tensor_f32(g, b, (const int64_t[]){ L->units }, 1, p + L->units * in, (size_t)L->units);
        node_in(g, b);
    }
    if (conv) {
        const int64_t s = L->stride;
        attr_ints(g, "kernel_shape", (const int64_t[]){ 1, 1 }, 2);
        attr_ints(g, "strides", (const int64_t[]){ s, s }, 2);
    } else {
        attr_int(g, "transB", 1);
    }
    node_end(g);
    flow_to(skip, out);
    skip->c = L->out_c, skip->h = L->out_h, skip->w = L->out_w;
}


/* The nodes of layer i of net (1-based number li for names and errors).
 * saved[] holds the flow at each residual block's start, by layer index. */
static int put_layer(gb *g, flow *f, flow *saved, nnx_net *net, int li,
                     const nnx_layer_info *L, nnx_rt_error *err)
{
    const float *p = nnx_net_params(net) + L->param_off;
    const float *st = nnx_net_state(net) + L->state_off;
    (void)saved;   /* residual blocks only */
    char out[NAME_MAX_LEN], w[NAME_MAX_LEN], b[NAME_MAX_LEN], what[32];
    switch (L->kind) {
    case NNX_LAYER_DENSE: {
        to_rank2(g, f);
        const int in = L->in_c * L->in_h * L->in_w;
        snprintf(what, sizeof what, "l%d_dense_W", li);
        fresh_name(g, w, what);
        tensor_f32(g, w, (const int64_t[]){ L->units, in }, 2, p, (size_t)L->units * in);
        fresh_name(g, out, "dense");
        node_begin(g, "Gemm", out);
        node_in(g, f->name);
        node_in(g, w);
        if (L->bias) {
            snprintf(what, sizeof what, "l%d_dense_b", li);
            fresh_name(g, b, what);
            tensor_f32(g, b, (const int64_t[]){ L->units }, 1, p + (size_t)L->units * in,
                       (size_t)L->units);
            node_in(g, b);
        }
        attr_int(g, "transB", 1);
        node_end(g);
        break;
    }
    case NNX_LAYER_CONV: {
        to_rank4(g, f);
        const int64_t k = L->kernel, s = L->stride, pad = L->pad;
        const size_t nw = (size_t)L->units * L->in_c * L->kernel * L->kernel;
        snprintf(what, sizeof what, "l%d_conv_W", li);
        fresh_name(g, w, what);
        tensor_f32(g, w, (const int64_t[]){ L->units, L->in_c, k, k }, 4, p, nw);
        fresh_name(g, out, "conv");
        node_begin(g, "Conv", out);
        node_in(g, f->name);
        node_in(g, w);
        if (L->bias) {
            snprintf(what, sizeof what, "l%d_conv_b", li);
            fresh_name(g, b, what);
            tensor_f32(g, b, (const int64_t[]){ L->units }, 1, p + nw, (size_t)L->units);
            node_in(g, b);
        }
        attr_ints(g, "kernel_shape", (const int64_t[]){ k, k }, 2);
        attr_ints(g, "strides", (const int64_t[]){ s, s }, 2);
        attr_ints(g, "pads", (const int64_t[]){ pad, pad, pad, pad }, 4);
        node_end(g);
        break;
    }
    case NNX_LAYER_MAXPOOL:
    case NNX_LAYER_AVGPOOL: {
        to_rank4(g, f);
        const int64_t k = L->kernel, s = L->stride;
        const bool mx = L->kind == NNX_LAYER_MAXPOOL;
        fresh_name(g, out, mx ? "maxpool" : "avgpool");
        node_begin(g, mx ? "MaxPool" : "AveragePool", out);
        node_in(g, f->name);
        attr_ints(g, "kernel_shape", (const int64_t[]){ k, k }, 2);
        attr_ints(g, "strides", (const int64_t[]){ s, s }, 2);
        node_end(g);
        break;
    }
    case NNX_LAYER_FLATTEN:
        to_rank2(g, f);
        break;
    case NNX_LAYER_DROPOUT:
        break;   /* the identity at inference */
    case NNX_LAYER_BATCHNORM: {
        /* Per channel: [N, C] (features) or [N, C, H, W], as nnx does. */
        const int64_t c = L->in_c;
        char m[NAME_MAX_LEN], v[NAME_MAX_LEN];
        snprintf(what, sizeof what, "l%d_bn_scale", li);
        fresh_name(g, w, what);
        tensor_f32(g, w, &c, 1, p, (size_t)c);
        snprintf(what, sizeof what, "l%d_bn_bias", li);
        fresh_name(g, b, what);
        tensor_f32(g, b, &c, 1, p + c, (size_t)c);
        snprintf(what, sizeof what, "l%d_bn_mean", li);
        fresh_name(g, m, what);
        tensor_f32(g, m, &c, 1, st, (size_t)c);
        snprintf(what, sizeof what, "l%d_bn_var", li);
        fresh_name(g, v, what);
        tensor_f32(g, v, &c, 1, st + c, (size_t)c);
        fresh_name(g, out, "batchnorm");
        node_begin(g, "BatchNormalization", out);
        node_in(g, f->name);
        node_in(g, w);
        node_in(g, b);
        node_in(g, m);
        node_in(g, v);
        attr_float(g, "epsilon", L->eps);
        node_end(g);
        break;
    }
    case NNX_LAYER_ACT:
        put_act(g, f, L->act, L->a, L->name);
        break;
    case NNX_LAYER_LAYERNORM: {
        /* Over all of a sample's values, with a scale and shift per value. */
        int64_t dims[3];
        int nd = sample_dims(f, dims);
        const size_t d = (size_t)L->in_c * L->in_h * L->in_w;
        snprintf(what, sizeof what, "l%d_ln_scale", li);
        fresh_name(g, w, what);
        tensor_f32(g, w, dims, nd, p, d);
        snprintf(what, sizeof what, "l%d_ln_bias", li);
        fresh_name(g, b, what);
        tensor_f32(g, b, dims, nd, p + d, d);
        fresh_name(g, out, "layernorm");
        node_begin(g, "LayerNormalization", out);
        node_in(g, f->name);
        node_in(g, w);
        node_in(g, b);
        attr_int(g, "axis", 1);
        attr_float(g, "epsilon", L->eps);
        node_end(g);
        break;
    }
    case NNX_LAYER_GLOBAL_AVGPOOL:
        to_rank4(g, f);
        fresh_name(g, out, "global_avgpool");
        node2(g, "GlobalAveragePool", f->name, NULL, out);
        break;
    case NNX_LAYER_RESIDUAL:
        saved[li - 1] = *f;   /* the block's input, for its add */
        return 0;
    case NNX_LAYER_RESIDUAL_ADD: {
        flow skip = saved[L->pair];
        if (L->nparams > 0)
            put_projection(g, &skip, p, li, L);
        put_residual_add(g, f, &skip);
        f->c = L->out_c, f->h = L->out_h, f->w = L->out_w;
        return 0;
    }
    default:
        return nnx_rt_fail(err, "layer %d (%s): ONNX export does not support this layer",
                           li, L->name ? L->name : "?");
    }
    if (L->kind != NNX_LAYER_ACT && L->kind != NNX_LAYER_FLATTEN &&
        L->kind != NNX_LAYER_DROPOUT)
        flow_to(f, out);
    f->c = L->out_c, f->h = L->out_h, f->w = L->out_w;
    return 0;
}

/* One member from the graph input to its head; the head's output is named
 * `result`. */
static int put_member(gb *g, const nnx_onnx_spec *s, const nnx_onnx_member *m,
                      const char *result, nnx_rt_error *err)
{
    flow f = { .rank = 2 };
    flow_to(&f, "input");
    nnx_net_in_shape(m->net, &f.c, &f.h, &f.w);
    if (f.h * f.w > 1)
        f.rank = 4;
    const size_t d = (size_t)nnx_net_in_size(m->net);
    if (m->shift && m->scale) {
        int64_t dims[3];
        int nd = sample_dims(&f, dims);
        char k[NAME_MAX_LEN], out[NAME_MAX_LEN];
        fresh_name(g, k, "norm_shift");
        tensor_f32(g, k, dims, nd, m->shift, d);
        fresh_name(g, out, "centred");
        node2(g, "Sub", f.name, k, out);
        flow_to(&f, out);
        fresh_name(g, k, "norm_scale");
        tensor_f32(g, k, dims, nd, m->scale, d);
        fresh_name(g, out, "normalized");
        node2(g, "Mul", f.name, k, out);
        flow_to(&f, out);
    }
    const int n = nnx_net_nlayers(m->net);
    flow *saved = calloc((size_t)n, sizeof *saved);
    if (!saved)
        return nnx_rt_fail(err, "ONNX export: out of memory");
    for (int i = 0; i < n; i++) {
        nnx_layer_info L;
        nnx_net_layer_info(m->net, i, &L);
        if (put_layer(g, &f, saved, m->net, i + 1, &L, err) < 0) {
            free(saved);
            return -1;
        }
    }
    free(saved);
    to_rank2(g, &f);
    switch (s->head) {
    case NNX_ONNX_SOFTMAX:
        node_begin(g, "Softmax", result);
        node_in(g, f.name);
        attr_int(g, "axis", -1);
        node_end(g);
        break;
    case NNX_ONNX_SIGMOID:
        node2(g, "Sigmoid", f.name, NULL, result);
        break;
    case NNX_ONNX_IDENTITY:
        node2(g, "Identity", f.name, NULL, result);
        break;
    }
    return 0;
}

/* --- graph inputs, outputs and the model ------------------------------------------- */

/* A ValueInfoProto of a float tensor [N, dims...] with N dynamic. */
static void value_info(nnx_pb *out, uint32_t field, const char *name, const int64_t *dims,
                       int nd)
{
    nnx_pb shape, dim, tt, type, vi;
    nnx_pb_init(&shape), nnx_pb_init(&dim), nnx_pb_init(&tt), nnx_pb_init(&type);
    nnx_pb_init(&vi);
    nnx_pb_string_field(&dim, DIM_PARAM, "N");
    nnx_pb_message_field(&shape, SHAPE_DIM, &dim);
    for (int i = 0; i < nd; i++) {
        nnx_pb_clear(&dim);
        nnx_pb_int64_field(&dim, DIM_VALUE, dims[i]);
        nnx_pb_message_field(&shape, SHAPE_DIM, &dim);
    }
    nnx_pb_int64_field(&tt, TTENSOR_ELEM_TYPE, DT_FLOAT);
    nnx_pb_message_field(&tt, TTENSOR_SHAPE, &shape);
    nnx_pb_message_field(&type, TYPE_TENSOR, &tt);
    nnx_pb_string_field(&vi, VALUE_NAME, name);
    nnx_pb_message_field(&vi, VALUE_TYPE, &type);
    nnx_pb_message_field(out, field, &vi);
    nnx_pb_free(&shape), nnx_pb_free(&dim), nnx_pb_free(&tt), nnx_pb_free(&type);
    nnx_pb_free(&vi);
}

static void prop(nnx_pb *model, const char *key, const char *value)
{
    nnx_pb e;
    nnx_pb_init(&e);
    nnx_pb_string_field(&e, ENTRY_KEY, key);
    nnx_pb_string_field(&e, ENTRY_VALUE, value);
    nnx_pb_message_field(model, MODEL_METADATA_PROPS, &e);
    nnx_pb_free(&e);
}

/* A JSON array of n strings, or of n integers when strs is NULL; NULL when
 * out of memory (the caller frees the text). */
static char *json_list(const char *const *strs, const int64_t *ints, size_t n)
{
    nnx_json_writer w;
    nnx_json_writer_to_buffer(&w, 0);
    nnx_json_begin_array(&w);
    for (size_t i = 0; i < n; i++) {
        if (strs)
            nnx_json_string(&w, strs[i]);
        else
            nnx_json_int(&w, (long long)ints[i]);
    }
    nnx_json_end_array(&w);
    if (nnx_json_writer_finish(&w, NULL) < 0) {
        nnx_json_writer_free(&w);
        return NULL;
    }
    return nnx_json_writer_take(&w);
}

static int put_props(nnx_pb *model, const nnx_onnx_spec *s, int c, int h, int w, int k)
{
    const bool image = h * w > 1;
    static const char *const tasks[] = {
        [NNX_ONNX_SOFTMAX] = "classification", [NNX_ONNX_SIGMOID] = "binary",
        [NNX_ONNX_IDENTITY] = "regression",
    };
    int rc = 0;
    char *t;
    const int64_t shape[3] = { c, h, w }, flat = (int64_t)c * h * w;
    if ((t = json_list(NULL, image ? shape : &flat, image ? 3 : 1)) != NULL)
        prop(model, "input_shape", t);
    else
        rc = -1;
    free(t);
    if (s->class_names) {
        if ((t = json_list(s->class_names, NULL, s->nclasses)) != NULL)
            prop(model, "class_names", t);
        else
            rc = -1;
        free(t);
    }
    if (s->feature_names) {
        if ((t = json_list(s->feature_names, NULL, s->nfeatures)) != NULL)
            prop(model, "feature_names", t);
        else
            rc = -1;
        free(t);
    }
    char num[32];
    snprintf(num, sizeof num, "%d", k);
    prop(model, "outputs", num);
    prop(model, "task", tasks[s->head]);
    snprintf(num, sizeof num, "%zu", s->nmembers);
    prop(model, "members", num);
    prop(model, "normalize", s->normalize ? s->normalize : "none");
    for (size_t i = 0; i < s->nprops; i++)
        prop(model, s->props[i].key, s->props[i].value);
    return rc;
}

static int check_spec(const nnx_onnx_spec *s, nnx_rt_error *err)
{
    if (!s->members || s->nmembers == 0)
        return nnx_rt_fail(err, "ONNX export: no network to export");
    if ((unsigned)s->head > NNX_ONNX_IDENTITY)
        return nnx_rt_fail(err, "ONNX export: unknown head %d", (int)s->head);
    int c, h, w, oc, oh, ow;
    nnx_net_in_shape(s->members[0].net, &c, &h, &w);
    const int k = nnx_net_out_size(s->members[0].net);
    for (size_t i = 0; i < s->nmembers; i++) {
        const nnx_onnx_member *m = &s->members[i];
        if (!m->net || nnx_net_max_batch(m->net) == 0)
            return nnx_rt_fail(err, "ONNX export: member %zu has no compiled network", i + 1);
        nnx_net_in_shape(m->net, &oc, &oh, &ow);
        if (oc != c || oh != h || ow != w || nnx_net_out_size(m->net) != k)
            return nnx_rt_fail(err, "ONNX export: member %zu takes %d×%d×%d inputs to %d "
                               "outputs, member 1 %d×%d×%d to %d", i + 1, oc, oh, ow,
                               nnx_net_out_size(m->net), c, h, w, k);
        if (!m->shift != !m->scale)
            return nnx_rt_fail(err, "ONNX export: member %zu has half a normalisation", i + 1);
    }
    if (s->feature_names && s->nfeatures != (size_t)c * h * w)
        return nnx_rt_fail(err, "ONNX export: %zu feature names for %d features",
                           s->nfeatures, c * h * w);
    return 0;
}

int nnx_onnx_encode(const nnx_onnx_spec *s, unsigned char **data, size_t *len,
                    nnx_rt_error *err)
{
    *data = NULL;
    *len = 0;
    if (check_spec(s, err) < 0)
        return -1;
    int c, h, w;
    nnx_net_in_shape(s->members[0].net, &c, &h, &w);
    const int k = nnx_net_out_size(s->members[0].net);
    const char *result = s->head == NNX_ONNX_IDENTITY ? "output" : "probabilities";

    gb g = { .prefix = "" };
    nnx_pb_init(&g.graph), nnx_pb_init(&g.node), nnx_pb_init(&g.attr);
    nnx_pb_init(&g.tensor);
    nnx_pb model, sub;
    nnx_pb_init(&model), nnx_pb_init(&sub);
    int rc = 0;

    nnx_pb_string_field(&g.graph, GRAPH_NAME, s->graph_name ? s->graph_name : "nnx");
    const bool image = h * w > 1;
    if (image)
        value_info(&g.graph, GRAPH_INPUT, "input", (const int64_t[]){ c, h, w }, 3);
    else
        value_info(&g.graph, GRAPH_INPUT, "input", (const int64_t[]){ (int64_t)c * h * w }, 1);
    value_info(&g.graph, GRAPH_OUTPUT, result, (const int64_t[]){ k }, 1);

    char prefix[32], head[NAME_MAX_LEN];
    for (size_t i = 0; rc == 0 && i < s->nmembers; i++) {
        if (s->nmembers > 1) {
            snprintf(prefix, sizeof prefix, "m%zu.", i + 1);
            g.prefix = prefix;
            snprintf(head, sizeof head, "%shead", prefix);
        } else {
            snprintf(head, sizeof head, "%s", result);
        }
        if (put_member(&g, s, &s->members[i], head, err) < 0) {
            if (s->nmembers > 1) {   /* name the member too */
                nnx_rt_error inner = *err;
                nnx_rt_fail(err, "member %zu, %s", i + 1, inner.msg);
            }
            rc = -1;
        }
    }
    if (rc == 0 && s->nmembers > 1) {   /* the ensemble: the mean of the heads */
        node_begin(&g, "Mean", result);
        for (size_t i = 0; i < s->nmembers; i++) {
            snprintf(head, sizeof head, "m%zu.head", i + 1);
            node_in(&g, head);
        }
        node_end(&g);
    }

    if (rc == 0) {
        nnx_pb_int64_field(&model, MODEL_IR_VERSION, NNX_ONNX_IR_VERSION);
        nnx_pb_string_field(&model, MODEL_PRODUCER_NAME, "nnx");
        if (s->producer_version)
            nnx_pb_string_field(&model, MODEL_PRODUCER_VERSION, s->producer_version);
        nnx_pb_string_field(&model, MODEL_DOC_STRING,
                            s->nmembers > 1 ? "an nnx ensemble: the mean of its members"
                                            : "an nnx network");
        nnx_pb_message_field(&model, MODEL_GRAPH, &g.graph);
        nnx_pb_int64_field(&sub, OPSET_VERSION, NNX_ONNX_OPSET);   /* domain "" */
        nnx_pb_message_field(&model, MODEL_OPSET_IMPORT, &sub);
        if (put_props(&model, s, c, h, w, k) < 0)
            model.oom = 1;
        if (!nnx_pb_ok(&model))
            rc = nnx_rt_fail(err, "ONNX export: out of memory");
    }
    if (rc == 0) {
        *data = model.data;
        *len = model.len;
        nnx_pb_init(&model);   /* handed over */
    }
    nnx_pb_free(&model), nnx_pb_free(&sub);
    nnx_pb_free(&g.graph), nnx_pb_free(&g.node), nnx_pb_free(&g.attr);
    nnx_pb_free(&g.tensor);
    return rc;
}

int nnx_onnx_write(const nnx_onnx_spec *s, const char *path, nnx_rt_error *err)
{
    unsigned char *data;
    size_t len;
    if (nnx_onnx_encode(s, &data, &len, err) < 0)
        return -1;
    int rc = nnx_file_write(path, data, len, 0, err);
    free(data);
    return rc;
}
