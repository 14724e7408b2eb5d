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
        put32(&b, (uint32_t)I->act);     /* 0 but for an activation */
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
    const nnx_layer_kind_info *K = nnx_layer_kind_of(kind);
    return K ? K->name : "an unknown layer";
}

/* What a kind calls its units: the name of the argument that sets them
 * (conv: "filters"), else "units". */
static const char *units_name(const nnx_layer_kind_info *K)
{
    for (int j = 0; K && j < NNX_LAYER_MAX_ARGS; j++)
        if (K->args[j].field == NNX_LF_UNITS && K->args[j].name)
            return K->args[j].name;
    return "units";
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
    const nnx_layer_kind_info *K = nnx_layer_kind_of(kind);
    const unsigned match = K ? K->match : 0;
    if ((match & NNX_MATCH_ACT) && act != (uint32_t)I->act)
        return nnx_rt_fail(err, "%s: layer %d is a different activation in the file than "
                           "%s in the network", path, at, I->name);
    if (units != I->units)
        return nnx_rt_fail(err, "%s: layer %d: %s has %d %s in the file, %d in the network",
                           path, at, I->name, (int)units,
                           units_name(K), I->units);
    if (kernel != I->kernel || stride != I->stride || pad != I->pad)
        return nnx_rt_fail(err, "%s: layer %d: %s has size %d stride %d pad %d in the file, "
                           "size %d stride %d pad %d in the network", path, at, I->name,
                           (int)kernel, (int)stride, (int)pad, I->kernel, I->stride, I->pad);
    if ((bias != 0) != I->bias)
        return nnx_rt_fail(err, "%s: layer %d: %s %s a bias in the file but %s in the network",
                           path, at, I->name, bias ? "has" : "has no",
                           I->bias ? "has one" : "not");
    if ((match & NNX_MATCH_A) && a != I->a)
        return nnx_rt_fail(err, "%s: layer %d: %s has parameter %g in the file, %g in the network",
                           path, at, I->name, (double)a, (double)I->a);
    if ((match & NNX_MATCH_EPS) && eps != I->eps)
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
    nnx_layer_spec sp = {0};
    sp.units = (int)(int32_t)get32(b);
    sp.kernel = (int)(int32_t)get32(b);
    sp.stride = (int)(int32_t)get32(b);
    sp.pad = (int)(int32_t)get32(b);
    sp.bias = get32(b) != 0;
    sp.a = getf(b);
    sp.eps = getf(b);
    sp.act = (enum nnx_act)act;
    sp.project = true;                  /* a residual add's projection follows from the
                                           shapes; the load checks it is the file's */
    b->at += 3 * 4 + 2 * 8;             /* output shape and counts: checked by the load */
    const nnx_layer_kind_info *K = nnx_layer_kind_of(kind);
    if (!K)
        return nnx_rt_fail(err, "%s: layer %d: unknown layer kind %u", path, i + 1, kind);
    if ((K->match & NNX_MATCH_ACT) && !nnx_act_info_of(act))
        return nnx_rt_fail(err, "%s: layer %d: unknown activation %u", path, i + 1, act);
    nnx_rt_error lerr;
    int rc = K->add(net, &sp, &lerr);
    if (rc < 0)
        return nnx_rt_fail(err, "%s: layer %d: %s", path, i + 1, lerr.msg);
    return 0;
}

/* Bounds on what compiling a network read from a file allocates besides
 * its parameters (which the file's length bounds): every layer's outputs
 * and their gradients, for each row of a batch.  A corrupt or hostile
 * header can announce, in a few hundred bytes, layers whose activations
 * need gigabytes: a network needing more than OPEN_ROW_BYTES a row (plus
 * OPEN_ROW_PER_BYTE for each byte of the file) is refused as corrupt, and
 * the batch is lowered until it fits OPEN_BATCH_BYTES (the caller reads
 * nnx_net_max_batch: predictions are the same in smaller batches). */
#define OPEN_ROW_BYTES    ((uint64_t)256 << 20)
#define OPEN_ROW_PER_BYTE 64u
#define OPEN_BATCH_BYTES  ((uint64_t)1 << 30)

/* The activation bytes of one row: each layer's outputs and their
 * gradients, with the input. */
static uint64_t row_bytes(const nnx_net *net)
{
    uint64_t floats = (uint64_t)nnx_net_in_size(net);
    for (int i = 0; i < net->nlayers; i++)
        floats += 2 * (uint64_t)net->layers[i].out_size;
    return floats * sizeof(float);
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
    uint64_t row = rc == 0 ? row_bytes(net) : 0;
    if (rc == 0 && row > OPEN_ROW_BYTES + OPEN_ROW_PER_BYTE * (uint64_t)len)
        rc = nnx_rt_fail(err, "%s: corrupt: its %u layers would need %.1f GB of activations "
                         "a row, from a file of %zu bytes", path, nl, (double)row / 1e9, len);
    if (rc == 0 && (uint64_t)max_batch * row > OPEN_BATCH_BYTES)
        max_batch = row >= OPEN_BATCH_BYTES ? 1 : (int)(OPEN_BATCH_BYTES / row);
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
