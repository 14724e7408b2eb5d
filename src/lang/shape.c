/* shape.c — instantiate networks into concrete layers and carry the shape through each one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"
#include "nnx/rt/net.h"

enum { MAX_REPEAT = 10000, MAX_LAYERS = 100000 };

void ck_shape_text(nnx_exp_shape s, char *buf, size_t size)
{
    if (s.rank == 1)
        snprintf(buf, size, "%d features", s.d[0]);
    else if (s.rank == 3)
        snprintf(buf, size, "%d×%d×%d", s.d[0], s.d[1], s.d[2]);
    else
        snprintf(buf, size, "unknown");
}

static long volume(nnx_exp_shape s)
{
    return s.rank == 3 ? (long)s.d[0] * s.d[1] * s.d[2] : s.d[0];
}

bool ck_layer_shape(nnx_checker *c, nnx_exp_layer *l)
{
    nnx_exp_shape in = l->in, out = in;
    const char *name = nnx_exp_layer_name(l);
    char text[64];
    ck_shape_text(in, text, sizeof text);
    if (in.rank == 0) {
        l->out = in;
        return true;
    }
    switch (l->op) {
    case NNX_LAYER_DENSE:
        out = (nnx_exp_shape){ 1, { (int)l->arg[0], 0, 0 } };
        break;
    case NNX_LAYER_FLATTEN:
        out = (nnx_exp_shape){ 1, { (int)volume(in), 0, 0 } };
        break;
    case NNX_LAYER_GLOBAL_AVGPOOL:
        if (in.rank != 3) {
            nnx_diag *dg = ck_err(c, l->loc, "global_avgpool needs a C×H×W input, but its input is flat (%s)", text);
            ck_help(dg, "it averages each channel of a conv layer's output; this input has no channels");
            l->out.rank = 0;
            return false;
        }
        out = (nnx_exp_shape){ 1, { in.d[0], 0, 0 } };
        break;
    case NNX_LAYER_CONV:
    case NNX_LAYER_MAXPOOL:
    case NNX_LAYER_AVGPOOL: {
        bool conv = l->op == NNX_LAYER_CONV;
        if (in.rank != 3) {
            nnx_diag *dg = ck_err(c, l->loc, "%s needs a C×H×W input, but its input is flat (%s)", name, text);
            ck_help(dg, conv ? "give the data block a `shape = [C, H, W]` whose product is %d"
                             : "pooling works on the output of a conv layer; this input is flat (%d values)",
                    in.d[0]);
            l->out.rank = 0;
            return false;
        }
        /* conv(filters, kernel, stride, pad), pool(size, stride) */
        int k = (int)(conv ? l->arg[1] : l->arg[0]);
        int st = (int)(conv ? l->arg[2] : l->arg[1]);
        int pad = conv ? (int)l->arg[3] : 0;
        int h = in.d[1] + 2 * pad, w = in.d[2] + 2 * pad;
        if (h < k || w < k) {
            if (conv)
                ck_err(c, l->loc, "conv kernel %d is larger than its %s input (padded to %d×%d)", k, text, h, w);
            else
                ck_err(c, l->loc, "%s(%d) needs an input at least %d×%d, but its input is %s", name, k, k, k, text);
            l->out.rank = 0;
            return false;
        }
        out = (nnx_exp_shape){ 3, { conv ? (int)l->arg[0] : in.d[0], (h - k) / st + 1, (w - k) / st + 1 } };
        break;
    }
    default:
        break;
    }
    if (volume(out) > 0x7fffffffL) {
        ck_err(c, l->loc, "%s gives an output too large to train (%ld values)", name, volume(out));
        l->out.rank = 0;
        return false;
    }
    l->out = out;
    return true;
}

static nnx_exp_layer *push(ck_layers *ls)
{
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 16;
        nnx_exp_layer *v = realloc(ls->v, cap * sizeof *v);
        if (!v)
            return NULL;
        ls->v = v;
        ls->cap = cap;
    }
    nnx_exp_layer *l = &ls->v[ls->n++];
    memset(l, 0, sizeof *l);
    return l;
}

static nnx_exp_shape last_shape(const ck_layers *ls, nnx_exp_shape in, size_t from)
{
    return ls->n > from ? ls->v[ls->n - 1].out : in;
}

static bool builtin_layer(nnx_checker *c, const ck_builtin *b, ck_val *call, nnx_exp_shape in, ck_layers *out)
{
    ck_val *arg[8] = { 0 };
    if (!ck_bind(c, &c->tmp, call, b->name, b->params, b->nparams, arg))
        return false;
    if (out->n >= MAX_LAYERS) {
        ck_err(c, call->loc, "the network has more than %d layers", MAX_LAYERS);
        return false;
    }
    nnx_exp_layer *l = push(out);
    if (!l)
        return false;
    l->op = (nnx_exp_op)b->code;
    l->loc = call->loc;
    l->in = in;
    /* its arguments in the catalog's order; an optional one without a
     * default takes the first one's value (a pool's stride: its size) */
    for (size_t j = 0; j < b->nparams && j < NNX_LAYER_MAX_ARGS; j++) {
        const ck_val *v = arg[j] ? arg[j] : arg[0];
        l->arg[j] = v->kind == CK_BOOL ? v->boolean : v->num;
    }
    if (l->op == NNX_LAYER_ACT)     /* the runtime's activation of this name */
        l->act = (int)nnx_act_info_named(b->name)->code;
    return ck_layer_shape(c, l);
}

static bool shape_eq(nnx_exp_shape a, nnx_exp_shape b)
{
    if (a.rank != b.rank)
        return false;
    for (int i = 0; i < a.rank; i++)
        if (a.d[i] != b.d[i])
            return false;
    return true;
}

/* A shape as the runtime's C, H, W (a flat one is D×1×1). */
static void chw(nnx_exp_shape s, int *c, int *h, int *w)
{
    *c = s.d[0];
    *h = s.rank == 3 ? s.d[1] : 1;
    *w = s.rank == 3 ? s.d[2] : 1;
}

static bool walk(nnx_checker *c, nnx_layer_node *const *body, size_t n, const ck_scope *sc,
                 nnx_exp_shape in, ck_layers *out, size_t from);

/* The end of the residual block that began at layers[begin] with input `in`
 * and whose body ends with shape `body`: the skip path, or an error at the
 * layer that broke the shape (project = false) or at the block (no
 * projection fits). */
static bool residual_end(nnx_checker *c, ck_layers *ls, size_t begin, nnx_exp_shape in,
                         nnx_exp_shape body, nnx_loc loc)
{
    double project = ls->v[begin].arg[0];
    nnx_exp_layer *e = push(ls);
    if (!e)
        return false;
    e->op = NNX_LAYER_RESIDUAL_ADD;
    e->loc = loc;
    e->in = e->out = body;
    e->arg[0] = project;
    e->end.begin = begin;
    e->end.stride = 1;
    if (in.rank == 0 || body.rank == 0)
        return true;
    int ic, ih, iw, oc, oh, ow, stride;
    chw(in, &ic, &ih, &iw);
    chw(body, &oc, &oh, &ow);
    enum nnx_proj kind = nnx_residual_projection(ic, ih, iw, oc, oh, ow, &stride);
    if (kind == NNX_PROJ_IDENTITY)
        return true;
    char a[64], b[64];
    ck_shape_text(in, a, sizeof a);
    ck_shape_text(body, b, sizeof b);
    if (!project) {
        size_t breaks = begin + 1;
        for (size_t i = begin + 1; i + 1 < ls->n; i++)
            if (shape_eq(ls->v[i].out, in))
                breaks = i + 1;
        const nnx_exp_layer *bl = &ls->v[breaks];
        char o[64];
        ck_shape_text(bl->out, o, sizeof o);
        nnx_diag *dg = ck_err(c, bl->loc, "%s changes the shape of a residual(project = false) block "
                              "from %s to %s, so its output cannot be added to the block's input",
                              nnx_exp_layer_name(bl), a, o);
        ck_help(dg, "keep the shape inside the block, or drop `project = false` to put a %s on the skip path",
                kind == NNX_PROJ_DENSE ? "dense projection" : "1×1 conv projection");
        e->out.rank = 0;
        return false;
    }
    if (kind == NNX_PROJ_IMPOSSIBLE) {
        nnx_diag *dg = ck_err(c, loc, "the residual block turns %s into %s, which no projection can match", a, b);
        ck_help(dg, "a projection is a 1×1 conv with a stride s (H and W become (H − 1) / s + 1) or, to "
                    "a flat or 1×1 output, a dense layer");
        e->out.rank = 0;
        return false;
    }
    e->end.proj = kind == NNX_PROJ_CONV ? NNX_XPROJ_CONV : NNX_XPROJ_DENSE;
    e->end.stride = stride;
    if (kind == NNX_PROJ_CONV)
        ck_note(c, loc, "residual: the block turns %s into %s, so the skip path gets a 1×1 conv "
                "projection (%d filters, stride %d)", a, b, oc, stride);
    else
        ck_note(c, loc, "residual: the block turns %s into %s, so the skip path gets a dense "
                "projection (%d units, reading the input flat)", a, b, oc);
    return true;
}

/* `residual(project = ...) { body }`: a RESIDUAL mark, the body's layers,
 * and a RESIDUAL_END. */
static bool block_layer(nnx_checker *c, const nnx_layer_node *ly, const ck_scope *sc,
                        nnx_exp_shape in, ck_layers *out)
{
    ck_val *v = ck_eval(c, &c->tmp, ly->call, sc);
    if (!v)
        return false;
    nnx_loc name_loc = ly->call->kind == NNX_E_CALL ? ly->call->u.call.name_loc : v->loc;
    const ck_builtin *b = NULL;
    if ((v->kind == CK_SYM && !strchr(v->s, '.')) || v->kind == CK_CALL) {
        v = ck_val_as_call(&c->tmp, v);
        b = ck_builtin_find(v->s, CK_B_LAYER);
    }
    if (!b || b->code != NNX_LAYER_RESIDUAL) {
        nnx_diag *dg = v->kind == CK_CALL
            ? ck_err(c, name_loc, "'%s' does not take a block of layers", v->s)
            : ck_err(c, name_loc, "expected a layer that takes a block of layers, got %s",
                     ck_vkind_name(v->kind));
        ck_help(dg, "only residual does: residual { layers } adds the block's input to its output");
        return false;
    }
    ck_val *arg[1] = { 0 };
    if (!ck_bind(c, &c->tmp, v, b->name, b->params, b->nparams, arg))
        return false;
    if (out->n + 2 >= MAX_LAYERS) {
        ck_err(c, v->loc, "the network has more than %d layers", MAX_LAYERS);
        return false;
    }
    if (ly->nbody == 0) {
        nnx_diag *dg = ck_err(c, ly->loc, "the residual block has no layers");
        ck_help(dg, "its output is input + layers(input): put the layers between the braces");
        return false;
    }
    size_t begin = out->n;
    nnx_exp_layer *l = push(out);
    if (!l)
        return false;
    l->op = NNX_LAYER_RESIDUAL;
    l->loc = v->loc;
    l->in = l->out = in;
    l->arg[0] = arg[0]->boolean;
    bool ok = walk(c, ly->body, ly->nbody, sc, in, out, out->n);
    nnx_exp_shape body = last_shape(out, in, begin + 1);
    if (!ok)
        body.rank = 0;
    return residual_end(c, out, begin, in, body, v->loc) && ok;
}

static bool one_layer(nnx_checker *c, const nnx_layer_node *ly, const ck_scope *sc, nnx_exp_shape in,
                      ck_layers *out)
{
    ck_val *v = ck_eval(c, &c->tmp, ly->call, sc);
    if (!v)
        return false;
    if (v->kind != CK_SYM && v->kind != CK_CALL) {
        ck_err(c, v->loc, "expected a layer, got %s", ck_vkind_name(v->kind));
        return false;
    }
    if (v->kind == CK_SYM && strchr(v->s, '.')) {
        ck_err(c, v->loc, "unknown layer '%s'", v->s);
        return false;
    }
    nnx_loc name_loc = ly->call->kind == NNX_E_CALL ? ly->call->u.call.name_loc : v->loc;
    v = ck_val_as_call(&c->tmp, v);
    const ck_builtin *b = ck_builtin_find(v->s, CK_B_LAYER);
    long idx = ck_name_index(c, v->s);
    const nnx_item *net = idx >= 0 && c->prog->names[idx]->kind == NNX_I_NETWORK ? c->prog->names[idx] : NULL;
    if (net)
        return ck_instantiate(c, net, v, in, out);
    if (b && b->code == NNX_LAYER_RESIDUAL) {
        nnx_diag *dg = ck_err(c, name_loc, "residual needs the layers it wraps in braces");
        ck_help(dg, "write residual { layers }, e.g. residual { dense(64) swish }");
        return false;
    }
    if (b)
        return builtin_layer(c, b, v, in, out);
    size_t nn;
    const char **names = ck_builtin_names(&c->tmp, CK_B_LAYER, &nn);
    const char **nets;
    size_t nnets = ck_item_names(c, NNX_I_NETWORK, &nets);
    const char **all = ck_alloc(&c->tmp, (nn + nnets + 1) * sizeof *all);
    if (all) {
        if (nn)
            memcpy(all, names, nn * sizeof *all);
        if (nnets)
            memcpy(all + nn, nets, nnets * sizeof *all);
    }
    if (idx >= 0)
        ck_err_suggest(c, name_loc, v->s, all, all ? nn + nnets : 0, "'%s' is a %s, not a layer",
                       v->s, c->prog->names[idx]->kind == NNX_I_DATA ? "data block" : "experiment");
    else
        ck_err_suggest(c, name_loc, v->s, all, all ? nn + nnets : 0, "unknown layer '%s'", v->s);
    return false;
}

static bool walk(nnx_checker *c, nnx_layer_node *const *body, size_t n, const ck_scope *sc,
                 nnx_exp_shape in, ck_layers *out, size_t from)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const nnx_layer_node *ly = body[i];
        nnx_exp_shape cur = last_shape(out, in, from);
        if (!ok)
            cur.rank = 0;       /* after an error, check names and arguments only */
        if (ly->kind == NNX_L_LAYER) {
            ok &= one_layer(c, ly, sc, cur, out);
            continue;
        }
        if (ly->kind == NNX_L_BLOCK) {
            ok &= block_layer(c, ly, sc, cur, out);
            continue;
        }
        ck_val *cnt = ck_eval(c, &c->tmp, ly->count, sc);
        static const ck_param count_param = { "count", CK_T_INT, true, 0, NULL, CK_R_LO | CK_R_HI, 0, MAX_REPEAT, NULL };
        if (!cnt || !ck_check_param(c, cnt, "repeat", &count_param)) {
            ok = false;
            continue;
        }
        int times = (int)cnt->num;
        for (int t = 0; t < times && ok; t++) {
            size_t before = out->n;
            nnx_exp_shape rin = last_shape(out, in, from);
            ok &= walk(c, ly->body, ly->nbody, sc, rin, out, out->n);
            if (out->n == before)
                break;      /* an empty body */
        }
    }
    return ok;
}

bool ck_instantiate(nnx_checker *c, const nnx_item *net, const ck_val *call, nnx_exp_shape in,
                    ck_layers *out)
{
    if (net->syntax_error) {    /* the parser reported it */
        c->nerr++;
        return false;
    }
    for (int i = 0; i < c->depth; i++)
        if (c->net_stack[i] == net) {
            ck_buf b = { 0 };
            for (int j = i; j < c->depth; j++)
                ck_buf_printf(&b, "%s -> ", c->net_stack[j]->name);
            ck_buf_puts(&b, net->name);
            ck_err(c, call->loc, "network '%s' contains itself: %s", net->name, b.s ? b.s : "");
            free(b.s);
            return false;
        }
    long self = ck_name_index(c, net->name);
    if (self >= 0 && c->net_used)
        c->net_used[self] = 1;
    if (c->depth >= (int)(sizeof c->net_stack / sizeof c->net_stack[0])) {
        ck_err(c, call->loc, "networks nested too deeply");
        return false;
    }
    size_t np = net->nparams;
    ck_param *params = ck_alloc(&c->tmp, (np + 1) * sizeof *params);
    ck_val **given = ck_alloc(&c->tmp, (np + 1) * sizeof *given);
    ck_scope sc = { ck_alloc(&c->tmp, (np + 1) * sizeof(char *)), ck_alloc(&c->tmp, (np + 1) * sizeof(ck_val *)), 0 };
    if (!params || !given || !sc.names || !sc.vals)
        return false;
    for (size_t i = 0; i < np; i++) {
        params[i] = (ck_param){ net->params[i].name, CK_T_ANY, net->params[i].deflt == NULL, NAN, NULL, 0, 0, 0, NULL };
        sc.names[i] = net->params[i].name;
    }
    char what[160];
    snprintf(what, sizeof what, "%s", net->name);
    bool ok = ck_bind(c, &c->tmp, call, what, params, np, given);
    for (size_t i = 0; i < np; i++) {
        ck_val *v = given[i];
        if (!v && net->params[i].deflt)
            v = ck_eval(c, &c->tmp, net->params[i].deflt, &sc);
        sc.vals[i] = v;
        sc.n = i + 1;
        if (!v)
            ok = false;
    }
    if (!ok)
        return false;
    c->net_stack[c->depth++] = net;
    size_t from = out->n;
    ok = walk(c, net->layers, net->nlayers, &sc, in, out, from);
    c->depth--;
    return ok;
}
