/* override.c — parse `--set path=value` overrides into located expressions.
 *
 * The value is parsed by the ordinary parser inside a wrapper
 * `experiment __set__ { path=value }`; every location (of the expression and
 * of any syntax error) is then moved onto a pseudo-source named `--set`
 * whose text is exactly what the user typed, so messages show that text.
 */
#include <stdlib.h>
#include <string.h>

#include "lang/check_int.h"

static const char PREFIX[] = "experiment __set__ { ";
static const char SUFFIX[] = "\n}\n";

bool nnx_override_split(char *arg, nnx_override *out)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    *eq = 0;
    out->path = arg;
    out->value = eq + 1;
    return true;
}

static nnx_loc move_loc(nnx_loc l, const nnx_source *from, const nnx_source *to)
{
    if (l.src != from)
        return l;
    uint32_t off = sizeof PREFIX - 1, max = (uint32_t)to->len;
    l.src = to;
    l.begin = l.begin >= off ? l.begin - off : 0;
    l.end = l.end >= off ? l.end - off : 0;
    if (l.begin > max)
        l.begin = max;
    if (l.end > max)
        l.end = max;
    if (l.end < l.begin)
        l.end = l.begin;
    return l;
}

static void move_expr(nnx_expr *e, const nnx_source *from, const nnx_source *to)
{
    if (!e)
        return;
    e->loc = move_loc(e->loc, from, to);
    switch (e->kind) {
    case NNX_E_LIST:
        for (size_t i = 0; i < e->u.list.n; i++)
            move_expr(e->u.list.items[i], from, to);
        break;
    case NNX_E_PATH:
        for (size_t i = 0; i < e->u.path.n; i++)
            e->u.path.locs[i] = move_loc(e->u.path.locs[i], from, to);
        break;
    case NNX_E_CALL:
        e->u.call.name_loc = move_loc(e->u.call.name_loc, from, to);
        for (size_t i = 0; i < e->u.call.nargs; i++) {
            e->u.call.args[i].name_loc = move_loc(e->u.call.args[i].name_loc, from, to);
            move_expr(e->u.call.args[i].value, from, to);
        }
        break;
    case NNX_E_UNARY:
        move_expr(e->u.unary.operand, from, to);
        break;
    case NNX_E_BINARY:
        move_expr(e->u.binary.lhs, from, to);
        move_expr(e->u.binary.rhs, from, to);
        break;
    default:
        break;
    }
}

/* Parse one override.  Returns the value expression (owned by the caller)
 * and the display source (*display, owned by the caller), or NULL after
 * adding an error. */
nnx_expr *ck_parse_override(const nnx_override *ov, const char *origin, nnx_source **display,
                            nnx_diags *d)
{
    size_t lp = strlen(ov->path), lv = strlen(ov->value);
    char *shown = malloc(lp + lv + 2);
    char *wrapped = malloc(sizeof PREFIX + lp + lv + sizeof SUFFIX + 2);
    if (!shown || !wrapped) {
        free(shown);
        free(wrapped);
        return NULL;
    }
    memcpy(shown, ov->path, lp);
    shown[lp] = '=';
    memcpy(shown + lp + 1, ov->value, lv + 1);
    strcpy(wrapped, PREFIX);
    strcat(wrapped, shown);
    strcat(wrapped, SUFFIX);
    if (!origin)
        origin = "--set";
    nnx_source *show = nnx_source_from_string(origin, shown);
    nnx_source *wsrc = nnx_source_from_string(origin, wrapped);
    free(shown);
    free(wrapped);
    if (!show || !wsrc) {
        nnx_source_free(show);
        nnx_source_free(wsrc);
        return NULL;
    }
    *display = show;
    nnx_diag *before = d->tail;
    int errs = d->nerrors;
    nnx_file *f = nnx_parse(wsrc, d);
    if (!f)
        return NULL;
    for (nnx_diag *x = before ? before->next : d->head; x; x = x->next)
        x->loc = move_loc(x->loc, f->src, show);
    nnx_expr *value = NULL;
    if (d->nerrors == errs) {
        const nnx_item *it = f->nitems == 1 ? f->items[0] : NULL;
        const nnx_stmt *s = it && it->nbody == 1 ? it->body[0] : NULL;
        if (!s || s->kind != NNX_S_SET) {
            nnx_loc all = { show, 0, (uint32_t)show->len };
            nnx_error(d, all, "%s expects path=value", origin);
        } else {
            value = nnx_expr_clone(s->value);
            move_expr(value, f->src, show);
        }
    }
    nnx_file_free(f);
    return value;
}
