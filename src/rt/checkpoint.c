/* checkpoint.c — a network's parameters and state to a file and back, with
 * the layer list checked on load and the file replaced atomically on save.
 *
 * Layout, all little-endian:
 *   "NNXCKPT1"  u32 version  u32 in_c in_h in_w  u32 nlayers
 *   per layer:  u32 kind act  i32 units kernel stride pad  u32 bias
 *               f32 a eps  i32 out_c out_h out_w  u64 nparams nstate
 *   u64 nparams nstate  f32 params[nparams]  f32 state[nstate]
 *   u32 crc32 of every byte before it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnx/rt/checkpoint.h"
#include "nnx/util/file.h"
#include "rt/layer.h"

static const char MAGIC[8] = {'N', 'N', 'X', 'C', 'K', 'P', 'T', '1'};
#define LAYER_BYTES (2 * 4 + 4 * 4 + 4 + 2 * 4 + 3 * 4 + 2 * 8)
#define HEAD_BYTES  (8 + 4 + 3 * 4 + 4)

/* --- little-endian bytes --------------------------------------------------- */

typedef struct wbuf {
    unsigned char *p;
    size_t at;
} wbuf;

static void put32(wbuf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->p[b->at++] = (unsigned char)(v >> (8 * i));
}

static void put64(wbuf *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b->p[b->at++] = (unsigned char)(v >> (8 * i));
}

static void putf(wbuf *b, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof v);
    put32(b, v);
}

typedef struct rbuf {
    const unsigned char *p;
    size_t at, len;
} rbuf;

static uint32_t get32(rbuf *b)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)b->p[b->at++] << (8 * i);
    return v;
}

static uint64_t get64(rbuf *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b->p[b->at++] << (8 * i);
    return v;
}

static float getf(rbuf *b)
{
    uint32_t v = get32(b);
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}

/* --- saving ---------------------------------------------------------------- */

static size_t file_size(const nnx_net *net)
{
    return HEAD_BYTES + (size_t)net->nlayers * LAYER_BYTES + 16
         + 4 * (net->nparams + net->nstate) + 4;
}

int nnx_net_save(const nnx_net *net, const char *path, nnx_rt_error *err)
{
    if (!net || !net->compiled)
        return nnx_rt_fail(err, "%s: only a compiled network can be saved", path);
    size_t len = file_size(net);
    wbuf b = {.p = malloc(len)};
    if (!b.p)
        return nnx_rt_fail(err, "%s: out of memory", path);
    memcpy(b.p, MAGIC, sizeof MAGIC);
    b.at = sizeof MAGIC;
    put32(&b, NNX_CHECKPOINT_VERSION);
    put32(&b, (uint32_t)net->in_c);
    put32(&b, (uint32_t)net->in_h);
    put32(&b, (uint32_t)net->in_w);
    put32(&b, (uint32_t)net->nlayers);
    for (int i = 0; i < net->nlayers; i++) {
        const nnx_layer_info *I = &net->layers[i].info;
        put32(&b, (uint32_t)I->kind);
        put32(&b, I->kind == NNX_LAYER_ACT ? (uint32_t)I->act : 0);
        put32(&b, (uint32_t)I->units);
        put32(&b, (uint32_t)I->kernel);
        put32(&b, (uint32_t)I->stride);
        put32(&b, (uint32_t)I->pad);
        put32(&b, I->bias);
        putf(&b, I->a);
        putf(&b, I->eps);
        put32(&b, (uint32_t)I->out_c);
        put32(&b, (uint32_t)I->out_h);
        put32(&b, (uint32_t)I->out_w);
        put64(&b, I->nparams);
        put64(&b, I->nstate);
    }
    put64(&b, net->nparams);
    put64(&b, net->nstate);
    for (size_t i = 0; i < net->nparams; i++)
        putf(&b, net->params[i]);
    for (size_t i = 0; i < net->nstate; i++)
        putf(&b, net->state[i]);
    put32(&b, (uint32_t)crc32_z(0L, b.p, b.at));

    int rc = nnx_file_write(path, b.p, b.at, NNX_FILE_SYNC, err);
    free(b.p);
    return rc;
}

/* --- loading --------------------------------------------------------------- */

static const char *kind_name(uint32_t kind)
{
    static const char *const names[] = {
        [NNX_LAYER_DENSE] = "dense",     [NNX_LAYER_CONV] = "conv",
        [NNX_LAYER_MAXPOOL] = "maxpool", [NNX_LAYER_AVGPOOL] = "avgpool",
        [NNX_LAYER_FLATTEN] = "flatten", [NNX_LAYER_DROPOUT] = "dropout",
        [NNX_LAYER_BATCHNORM] = "batchnorm", [NNX_LAYER_ACT] = "activation",
        [NNX_LAYER_LAYERNORM] = "layernorm", [NNX_LAYER_GLOBAL_AVGPOOL] = "global_avgpool",
        [NNX_LAYER_RESIDUAL] = "residual", [NNX_LAYER_RESIDUAL_ADD] = "a residual add",
    };
    return kind <= NNX_LAYER_RESIDUAL_ADD ? names[kind] : "an unknown layer";
}

/* Compare one stored layer with the network's; 0 or -1 with the difference. */
static int match_layer(rbuf *b, int i, const nnx_layer_info *I, const char *path,
                       nnx_rt_error *err)
{
    uint32_t kind = get32(b), act = get32(b);
    int32_t units = (int32_t)get32(b), kernel = (int32_t)get32(b);
    int32_t stride = (int32_t)get32(b), pad = (int32_t)get32(b);
    uint32_t bias = get32(b);
    float a = getf(b), eps = getf(b);
    int32_t oc = (int32_t)get32(b), oh = (int32_t)get32(b), ow = (int32_t)get32(b);
    uint64_t np = get64(b), ns = get64(b);
    const int at = i + 1;
    if (kind != (uint32_t)I->kind)
        return nnx_rt_fail(err, "%s: layer %d is %s in the file, %s in the network",
                           path, at, kind_name(kind), kind_name(I->kind));
    if (kind == NNX_LAYER_ACT && act != (uint32_t)I->act)
        return nnx_rt_fail(err, "%s: layer %d is a different activation in the file than "
                           "%s in the network", path, at, I->name);
    if (units != I->units)
        return nnx_rt_fail(err, "%s: layer %d: %s has %d %s in the file, %d in the network",
                           path, at, I->name, (int)units,
                           kind == NNX_LAYER_CONV ? "filters" : "units", I->units);
    if (kernel != I->kernel || stride != I->stride || pad != I->pad)
        return nnx_rt_fail(err, "%s: layer %d: %s has size %d stride %d pad %d in the file, "
                           "size %d stride %d pad %d in the network", path, at, I->name,
                           (int)kernel, (int)stride, (int)pad, I->kernel, I->stride, I->pad);
    if ((bias != 0) != I->bias)
        return nnx_rt_fail(err, "%s: layer %d: %s %s a bias in the file but %s in the network",
                           path, at, I->name, bias ? "has" : "has no",
                           I->bias ? "has one" : "not");
    if (kind == NNX_LAYER_ACT && a != I->a)
        return nnx_rt_fail(err, "%s: layer %d: %s has parameter %g in the file, %g in the network",
                           path, at, I->name, (double)a, (double)I->a);
    if ((kind == NNX_LAYER_BATCHNORM || kind == NNX_LAYER_LAYERNORM) && eps != I->eps)
        return nnx_rt_fail(err, "%s: layer %d: %s has eps %g in the file, %g in the network",
                           path, at, I->name, (double)eps, (double)I->eps);
    if (oc != I->out_c || oh != I->out_h || ow != I->out_w)
        return nnx_rt_fail(err, "%s: layer %d: %s outputs %d×%d×%d in the file, %d×%d×%d in "
                           "the network", path, at, I->name, (int)oc, (int)oh, (int)ow,
                           I->out_c, I->out_h, I->out_w);
    if (np != I->nparams || ns != I->nstate)
        return nnx_rt_fail(err, "%s: layer %d: %s has %llu parameters in the file, %zu in the "
                           "network", path, at, I->name, (unsigned long long)np, I->nparams);
    return 0;
}

int nnx_net_load(nnx_net *net, const char *path, nnx_rt_error *err)
{
    if (!net || !net->compiled)
        return nnx_rt_fail(err, "%s: load into a compiled network", path);
    size_t len = 0;
    unsigned char *data = (unsigned char *)nnx_file_read(path, 0, &len, err);
    if (!data)
        return -1;
    rbuf b = {.p = data, .len = len};
    int rc = 0;
    if (len < sizeof MAGIC || memcmp(data, MAGIC, sizeof MAGIC) != 0) {
        rc = nnx_rt_fail(err, "%s: not an nnx checkpoint", path);
        goto out;
    }
    if (len < HEAD_BYTES) {
        rc = nnx_rt_fail(err, "%s: truncated: %zu bytes, not even a whole header", path, len);
        goto out;
    }
    b.at = sizeof MAGIC;
    uint32_t version = get32(&b);
    if (version != NNX_CHECKPOINT_VERSION) {
        rc = nnx_rt_fail(err, "%s: checkpoint version %u, this nnx reads version %d",
                         path, version, NNX_CHECKPOINT_VERSION);
        goto out;
    }
    uint32_t c = get32(&b), h = get32(&b), w = get32(&b), nl = get32(&b);
    if (c != (uint32_t)net->in_c || h != (uint32_t)net->in_h || w != (uint32_t)net->in_w) {
        rc = nnx_rt_fail(err, "%s: input is %u×%u×%u in the file, %d×%d×%d in the network",
                         path, c, h, w, net->in_c, net->in_h, net->in_w);
        goto out;
    }
    if (nl != (uint32_t)net->nlayers) {
        rc = nnx_rt_fail(err, "%s: the file has %u layers, the network %d",
                         path, nl, net->nlayers);
        goto out;
    }
    /* The layer list first (so a different network is named as such), then
     * the numbers. */
    size_t want = file_size(net);
    size_t listed = HEAD_BYTES + (size_t)net->nlayers * LAYER_BYTES + 16;
    if (len < listed) {
        rc = nnx_rt_fail(err, "%s: truncated: %zu bytes, not even the layer list", path, len);
        goto out;
    }
    for (int i = 0; i < net->nlayers && rc == 0; i++)
        rc = match_layer(&b, i, &net->layers[i].info, path, err);
    if (rc)
        goto out;
    uint64_t np = get64(&b), ns = get64(&b);
    if (np != net->nparams || ns != net->nstate) {
        rc = nnx_rt_fail(err, "%s: %llu parameters in the file, %zu in the network",
                         path, (unsigned long long)np, net->nparams);
        goto out;
    }
    if (len < want) {
        rc = nnx_rt_fail(err, "%s: truncated: %zu bytes, a checkpoint of this network has %zu",
                         path, len, want);
        goto out;
    }
    if (len != want) {
        rc = nnx_rt_fail(err, "%s: %zu bytes, expected %zu: trailing data", path, len, want);
        goto out;
    }
    rbuf tail = {.p = data, .at = want - 4, .len = len};
    if (get32(&tail) != (uint32_t)crc32_z(0L, data, want - 4)) {
        rc = nnx_rt_fail(err, "%s: corrupt (checksum mismatch)", path);
        goto out;
    }
    for (size_t i = 0; i < net->nparams; i++)
        net->params[i] = getf(&b);
    for (size_t i = 0; i < net->nstate; i++)
        net->state[i] = getf(&b);
out:
    free(data);
    return rc;
}

/* --- building from the file ------------------------------------------------- */

/* Append the layer described at b (one layer record) to net. */
static int add_stored_layer(nnx_net *net, rbuf *b, int i, const char *path, nnx_rt_error *err)
{
    uint32_t kind = get32(b), act = get32(b);
    int units = (int)(int32_t)get32(b), kernel = (int)(int32_t)get32(b);
    int stride = (int)(int32_t)get32(b), pad = (int)(int32_t)get32(b);
    bool bias = get32(b) != 0;
    float a = getf(b), eps = getf(b);
    b->at += 3 * 4 + 2 * 8;             /* output shape and counts: checked by the load */
    nnx_rt_error lerr;
    int rc;
    switch (kind) {
    case NNX_LAYER_DENSE:     rc = nnx_net_add_dense(net, units, bias, &lerr); break;
    case NNX_LAYER_CONV:      rc = nnx_net_add_conv(net, units, kernel, stride, pad, bias, &lerr); break;
    case NNX_LAYER_MAXPOOL:   rc = nnx_net_add_maxpool(net, kernel, stride, &lerr); break;
    case NNX_LAYER_AVGPOOL:   rc = nnx_net_add_avgpool(net, kernel, stride, &lerr); break;
    case NNX_LAYER_FLATTEN:   rc = nnx_net_add_flatten(net, &lerr); break;
    case NNX_LAYER_DROPOUT:   rc = nnx_net_add_dropout(net, a, &lerr); break;
    case NNX_LAYER_BATCHNORM: rc = nnx_net_add_batchnorm(net, a, eps, &lerr); break;
    case NNX_LAYER_ACT:
        if (!nnx_act_info_of(act))
            return nnx_rt_fail(err, "%s: layer %d: unknown activation %u", path, i + 1, act);
        rc = nnx_net_add_act(net, (enum nnx_act)act, a, &lerr);
        break;
    case NNX_LAYER_LAYERNORM: rc = nnx_net_add_layernorm(net, eps, &lerr); break;
    case NNX_LAYER_GLOBAL_AVGPOOL: rc = nnx_net_add_global_avgpool(net, &lerr); break;
    case NNX_LAYER_RESIDUAL:  rc = nnx_net_begin_residual(net, &lerr); break;
    case NNX_LAYER_RESIDUAL_ADD:   /* the projection follows from the shapes; the load
                                      checks it is the one the file has */
        rc = nnx_net_end_residual(net, true, &lerr);
        break;
    default:
        return nnx_rt_fail(err, "%s: layer %d: unknown layer kind %u", path, i + 1, kind);
    }
    if (rc < 0)
        return nnx_rt_fail(err, "%s: layer %d: %s", path, i + 1, lerr.msg);
    return 0;
}

nnx_net *nnx_net_open(const char *path, int max_batch, nnx_rt_error *err)
{
    size_t len = 0;
    unsigned char *data = (unsigned char *)nnx_file_read(path, 0, &len, err);
    if (!data)
        return NULL;
    rbuf b = {.p = data, .len = len};
    nnx_net *net = NULL;
    if (len < HEAD_BYTES || memcmp(data, MAGIC, sizeof MAGIC) != 0) {
        nnx_rt_fail(err, "%s: not an nnx checkpoint", path);
        goto out;
    }
    b.at = sizeof MAGIC;
    uint32_t version = get32(&b);
    if (version != NNX_CHECKPOINT_VERSION) {
        nnx_rt_fail(err, "%s: checkpoint version %u, this nnx reads version %d", path, version,
                    NNX_CHECKPOINT_VERSION);
        goto out;
    }
    uint32_t c = get32(&b), h = get32(&b), w = get32(&b), nl = get32(&b);
    if (nl == 0 || nl > 100000 || len < HEAD_BYTES + (size_t)nl * LAYER_BYTES + 16) {
        nnx_rt_fail(err, "%s: truncated or corrupt: %u layers in %zu bytes", path, nl, len);
        goto out;
    }
    nnx_rt_error nerr;
    net = nnx_net_new((int)c, (int)h, (int)w, &nerr);
    if (!net) {
        nnx_rt_fail(err, "%s: input %u×%u×%u: %s", path, c, h, w, nerr.msg);
        goto out;
    }
    int rc = 0;
    for (uint32_t i = 0; i < nl && rc == 0; i++)
        rc = add_stored_layer(net, &b, (int)i, path, err);
    /* The layers fix the parameter count: a file too short to hold them is
     * refused before compiling allocates (and initialises) them all. */
    if (rc == 0 && len != file_size(net))
        rc = nnx_rt_fail(err, "%s: %s%zu bytes, a checkpoint of its %u layers has %zu", path,
                         len < file_size(net) ? "truncated: " : "trailing data: ", len, nl,
                         file_size(net));
    if (rc == 0 && nnx_net_compile(net, max_batch, 0, &nerr) < 0)
        rc = nnx_rt_fail(err, "%s: %s", path, nerr.msg);
    if (rc == 0)
        rc = nnx_net_load(net, path, err);
    if (rc < 0) {
        nnx_net_free(net);
        net = NULL;
    }
out:
    free(data);
    return net;
}
