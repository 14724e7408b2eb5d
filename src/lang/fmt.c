/* fmt.c — print a parsed file in the canonical layout described in fmt.h. */
#include <stdlib.h>
#include <string.h>

#include "nnx/fmt.h"
#include "nnx/util/buf.h"

enum { WIDTH = 88, INDENT = 4 };

/* --- a growing string ------------------------------------------------------ */

static void sb_spaces(nnx_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nnx_buf_put(b, " ", 1);
}

/* Display columns of UTF-8 text: one per character. */
static size_t width_of(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += ((unsigned char)s[i] & 0xc0) != 0x80;
    return w;
}

/* --- expressions on one line ------------------------------------------------ */

static int prec(char op) { return op == '+' || op == '-' ? 1 : 2; }

static void flat_expr(nnx_buf *b, const nnx_expr *e);

static void flat_path(nnx_buf *b, const nnx_path *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (i)
            nnx_buf_put(b, ".", 1);
        nnx_buf_puts(b, p->parts[i]);
    }
}

static void flat_string(nnx_buf *b, const char *s)
{
    nnx_buf_put(b, "\"", 1);
    for (; *s; s++)
        switch (*s) {
        case '"':  nnx_buf_put(b, "\\\"", 2); break;
        case '\\': nnx_buf_put(b, "\\\\", 2); break;
        case '\n': nnx_buf_put(b, "\\n", 2); break;
        case '\t': nnx_buf_put(b, "\\t", 2); break;
        default:   nnx_buf_put(b, s, 1); break;
        }
    nnx_buf_put(b, "\"", 1);
}

static void flat_arg(nnx_buf *b, const nnx_arg *a)
{
    if (a->name) {
        nnx_buf_puts(b, a->name);
        nnx_buf_put(b, " = ", 3);
    }
    flat_expr(b, a->value);
}

/* Does `child` need parentheses as the left (or right) operand of `op`? */
static bool needs_parens(const nnx_expr *child, char op, bool right)
{
    if (child->kind != NNX_E_BINARY)
        return false;
    int pc = prec(child->u.binary.op), pp = prec(op);
    return pc < pp || (right && pc == pp);
}

static void flat_expr(nnx_buf *b, const nnx_expr *e)
{
    switch (e->kind) {
    case NNX_E_NUM:  nnx_buf_puts(b, e->u.num.text); break;
    case NNX_E_STR:  flat_string(b, e->u.str); break;
    case NNX_E_BOOL: nnx_buf_puts(b, e->u.boolean ? "true" : "false"); break;
    case NNX_E_PATH: flat_path(b, &e->u.path); break;
    case NNX_E_LIST:
        nnx_buf_put(b, "[", 1);
        for (size_t i = 0; i < e->u.list.n; i++) {
            if (i)
                nnx_buf_put(b, ", ", 2);
            flat_expr(b, e->u.list.items[i]);
        }
        nnx_buf_put(b, "]", 1);
        break;
    case NNX_E_CALL:
        nnx_buf_puts(b, e->u.call.name);
        nnx_buf_put(b, "(", 1);
        for (size_t i = 0; i < e->u.call.nargs; i++) {
            if (i)
                nnx_buf_put(b, ", ", 2);
            flat_arg(b, &e->u.call.args[i]);
        }
        nnx_buf_put(b, ")", 1);
        break;
    case NNX_E_UNARY: {
        const nnx_expr *o = e->u.unary.operand;
        bool paren = o->kind == NNX_E_BINARY || o->kind == NNX_E_UNARY;
        nnx_buf_put(b, "-", 1);
        nnx_buf_puts(b, paren ? "(" : "");
        flat_expr(b, o);
        nnx_buf_puts(b, paren ? ")" : "");
        break;
    }
    case NNX_E_BINARY: {
        const nnx_expr *l = e->u.binary.lhs, *r = e->u.binary.rhs;
        bool pl = needs_parens(l, e->u.binary.op, false), pr = needs_parens(r, e->u.binary.op, true);
        nnx_buf_puts(b, pl ? "(" : "");
        flat_expr(b, l);
        nnx_buf_puts(b, pl ? ")" : "");
        char op[4] = { ' ', e->u.binary.op, ' ', '\0' };
        nnx_buf_puts(b, op);
        nnx_buf_puts(b, pr ? "(" : "");
        flat_expr(b, r);
        nnx_buf_puts(b, pr ? ")" : "");
        break;
    }
    }
}

char *nnx_fmt_expr(const nnx_expr *e)
{
    nnx_buf b = {0};
    flat_expr(&b, e);
    nnx_buf_put(&b, "", 0);
    if (b.oom || !b.s) {
        free(b.s);
        return b.oom ? NULL : calloc(1, 1);
    }
    return b.s;
}

/* --- the printer's state ---------------------------------------------------- */

typedef struct out_line {
    char *text;         /* owned: the code, indentation included */
    char *comment;      /* owned: a trailing comment, or NULL */
} out_line;

typedef struct fmt {
    const nnx_file *file;
    const char     *src;
    bool           *used;       /* per comment: already printed */
    bool           *gap;        /* per comment: lies between two arguments */
    out_line       *lines;      /* finished lines */
    size_t          nlines;
    nnx_buf            cur;        /* the line being built */
    size_t         *pend;       /* comments for the end of the line being built */
    size_t          npend;
    bool            oom;
} fmt;

static const nnx_comment *comment(const fmt *fm, size_t i) { return &fm->file->comments[i]; }

/* The first comment that begins at or after `off`. */
static size_t first_comment_from(const fmt *fm, uint32_t off)
{
    size_t lo = 0, hi = fm->file->ncomments;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (comment(fm, mid)->loc.begin < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void push_line(fmt *fm, char *text)
{
    out_line l = { text, NULL };
    if (!text || !nnx_array_push(&fm->lines, &fm->nlines, sizeof l, &l)) {
        free(text);
        fm->oom = true;
    }
}

static void begin_line(fmt *fm, size_t indent)
{
    fm->cur.len = 0;
    nnx_buf_put(&fm->cur, "", 0);
    sb_spaces(&fm->cur, indent);
}

static void attach(fmt *fm, out_line *l, size_t i);

static void end_line(fmt *fm)
{
    fm->oom |= fm->cur.oom;
    push_line(fm, fm->cur.s ? strndup(fm->cur.s, fm->cur.len) : NULL);
    for (size_t k = 0; k < fm->npend && !fm->oom; k++)
        attach(fm, &fm->lines[fm->nlines - 1], fm->pend[k]);
    fm->npend = 0;
}

/* Comment i goes at the end of the line being built. */
static void pend_comment(fmt *fm, size_t i)
{
    if (!nnx_array_push(&fm->pend, &fm->npend, sizeof i, &i))
        fm->oom = true;
    fm->used[i] = true;
}

static void blank_line(fmt *fm)
{
    if (fm->nlines && fm->lines[fm->nlines - 1].text[0])
        push_line(fm, strdup(""));
}

static size_t column(const fmt *fm) { return width_of(fm->cur.s, fm->cur.len); }

/* Add comment i to the end of a finished line (after any comment already there). */
static void attach(fmt *fm, out_line *l, size_t i)
{
    const nnx_comment *c = comment(fm, i);
    size_t n = c->loc.end - c->loc.begin, old = l->comment ? strlen(l->comment) : 0;
    char *s = malloc(old + 2 + n + 1);
    if (!s) {
        fm->oom = true;
        return;
    }
    if (old) {
        memcpy(s, l->comment, old);
        memcpy(s + old, "  ", 2);
        old += 2;
    }
    memcpy(s + old, fm->src + c->loc.begin, n);
    s[old + n] = '\0';
    free(l->comment);
    l->comment = s;
    fm->used[i] = true;
}

static void comment_line(fmt *fm, size_t indent, size_t i)
{
    const nnx_comment *c = comment(fm, i);
    begin_line(fm, indent);
    nnx_buf_put(&fm->cur, fm->src + c->loc.begin, c->loc.end - c->loc.begin);
    end_line(fm);
    fm->used[i] = true;
}

/* Only blanks (or separators) before the comment on its line? */
static bool own_line(const fmt *fm, uint32_t at)
{
    while (at > 0 && fm->src[at - 1] != '\n') {
        char ch = fm->src[--at];
        if (ch != ' ' && ch != '\t' && ch != ';' && ch != ',' && ch != '\r' && ch != '\f' && ch != '\v')
            return false;
    }
    return true;
}

static bool same_line(const fmt *fm, uint32_t a, uint32_t b)
{
    return !memchr(fm->src + a, '\n', b - a);
}

/* Did the user leave an empty line between offsets a and b? */
static bool blank_between(const fmt *fm, uint32_t a, uint32_t b)
{
    int newlines = 0;
    for (uint32_t i = a; i < b; i++)
        newlines += fm->src[i] == '\n';
    return newlines >= 2;
}

/* --- gaps between arguments --------------------------------------------- */

static nnx_loc arg_loc(const nnx_arg *a)
{
    nnx_loc l = a->value->loc;
    if (a->name)
        l.begin = a->name_loc.begin;
    return l;
}

/* The source span of argument (or list item) i of a call or list. */
static nnx_loc part_loc(const nnx_expr *e, size_t i)
{
    return e->kind == NNX_E_CALL ? arg_loc(&e->u.call.args[i]) : e->u.list.items[i]->loc;
}

static size_t nparts(const nnx_expr *e)
{
    return e->kind == NNX_E_CALL ? e->u.call.nargs : e->kind == NNX_E_LIST ? e->u.list.n : 0;
}

/* The gap after part i: up to the next part, or to the closing bracket. */
static void gap_range(const nnx_expr *e, size_t i, uint32_t *from, uint32_t *to)
{
    *from = part_loc(e, i).end;
    *to = i + 1 < nparts(e) ? part_loc(e, i + 1).begin : e->loc.end;
}

static bool has_gap_comment(const fmt *fm, const nnx_expr *e)
{
    for (size_t i = 0; i < nparts(e); i++) {
        uint32_t from, to;
        gap_range(e, i, &from, &to);
        size_t k = first_comment_from(fm, from);
        if (k < fm->file->ncomments && comment(fm, k)->loc.begin < to)
            return true;
    }
    return false;
}

static void mark_gaps_expr(fmt *fm, const nnx_expr *e)
{
    if (!e)
        return;
    switch (e->kind) {
    case NNX_E_CALL:
    case NNX_E_LIST:
        for (size_t i = 0; i < nparts(e); i++) {
            uint32_t from, to;
            gap_range(e, i, &from, &to);
            for (size_t k = first_comment_from(fm, from);
                 k < fm->file->ncomments && comment(fm, k)->loc.begin < to; k++)
                fm->gap[k] = true;
            mark_gaps_expr(fm, e->kind == NNX_E_CALL ? e->u.call.args[i].value : e->u.list.items[i]);
        }
        break;
    case NNX_E_UNARY:  mark_gaps_expr(fm, e->u.unary.operand); break;
    case NNX_E_BINARY:
        mark_gaps_expr(fm, e->u.binary.lhs);
        mark_gaps_expr(fm, e->u.binary.rhs);
        break;
    default: break;
    }
}

static void mark_gaps_stmts(fmt *fm, nnx_stmt *const *body, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mark_gaps_expr(fm, body[i]->value);
        mark_gaps_expr(fm, body[i]->search_kind);
        mark_gaps_stmts(fm, body[i]->body, body[i]->nbody);
    }
}

static void mark_gaps_layers(fmt *fm, nnx_layer_node *const *layers, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mark_gaps_expr(fm, layers[i]->call);
        mark_gaps_expr(fm, layers[i]->count);
        mark_gaps_layers(fm, layers[i]->body, layers[i]->nbody);
    }
}

/* --- expressions that may break across lines -------------------------------- */

static size_t flat_width(fmt *fm, const nnx_expr *e)
{
    nnx_buf b = {0};
    flat_expr(&b, e);
    fm->oom |= b.oom;
    size_t w = width_of(b.s ? b.s : "", b.len);
    free(b.s);
    return w;
}

static void put_flat(fmt *fm, const nnx_expr *e) { flat_expr(&fm->cur, e); }

/* Print e at the current column; `suffix` columns will follow it on its last line. */
static void put_expr(fmt *fm, const nnx_expr *e, size_t suffix);

static void put_parts(fmt *fm, const nnx_expr *e, size_t suffix)
{
    bool call = e->kind == NNX_E_CALL;
    if (call)
        nnx_buf_puts(&fm->cur, e->u.call.name);
    nnx_buf_puts(&fm->cur, call ? "(" : "[");
    size_t col = column(fm), n = nparts(e);
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n;
        const nnx_expr *v = call ? e->u.call.args[i].value : e->u.list.items[i];
        if (call && e->u.call.args[i].name) {
            nnx_buf_puts(&fm->cur, e->u.call.args[i].name);
            nnx_buf_put(&fm->cur, " = ", 3);
        }
        put_expr(fm, v, last ? suffix + 1 : 1);
        nnx_buf_puts(&fm->cur, last ? (call ? ")" : "]") : ",");
        /* Comments between this argument and the next end this line. */
        uint32_t from, to;
        gap_range(e, i, &from, &to);
        for (size_t k = first_comment_from(fm, from);
             k < fm->file->ncomments && comment(fm, k)->loc.begin < to; k++)
            pend_comment(fm, k);
        if (!last) {
            end_line(fm);
            begin_line(fm, col);
        }
    }
}

static void put_expr(fmt *fm, const nnx_expr *e, size_t suffix)
{
    switch (e->kind) {
    case NNX_E_CALL:
    case NNX_E_LIST:
        if (nparts(e) == 0 ||
            (!has_gap_comment(fm, e) && column(fm) + flat_width(fm, e) + suffix <= WIDTH))
            put_flat(fm, e);
        else
            put_parts(fm, e, suffix);
        break;
    case NNX_E_UNARY: {
        const nnx_expr *o = e->u.unary.operand;
        bool paren = o->kind == NNX_E_BINARY || o->kind == NNX_E_UNARY;
        nnx_buf_puts(&fm->cur, paren ? "-(" : "-");
        put_expr(fm, o, suffix + paren);
        nnx_buf_puts(&fm->cur, paren ? ")" : "");
        break;
    }
    case NNX_E_BINARY: {
        const nnx_expr *l = e->u.binary.lhs, *r = e->u.binary.rhs;
        bool pl = needs_parens(l, e->u.binary.op, false), pr = needs_parens(r, e->u.binary.op, true);
        nnx_buf_puts(&fm->cur, pl ? "(" : "");
        put_expr(fm, l, pl + 3 + flat_width(fm, r) + 2 * pr + suffix);
        nnx_buf_puts(&fm->cur, pl ? ")" : "");
        char op[4] = { ' ', e->u.binary.op, ' ', '\0' };
        nnx_buf_puts(&fm->cur, op);
        nnx_buf_puts(&fm->cur, pr ? "(" : "");
        put_expr(fm, r, suffix + pr);
        nnx_buf_puts(&fm->cur, pr ? ")" : "");
        break;
    }
    default:
        put_flat(fm, e);
        break;
    }
}

/* --- sequences of lines: items, statements, layer lines --------------------- */

typedef enum elem_kind { EL_ITEM, EL_STMT, EL_LAYERS } elem_kind;

/* One thing printed from the start of a line: an item, a statement, or a
 * line of layers (layers[0..n) of a network body). */
typedef struct elem {
    elem_kind kind;
    uint32_t  begin, end;
    const nnx_item  *item;
    const nnx_stmt  *stmt;
    nnx_layer_node *const *layers;
    size_t     nlayers;
    size_t     key;         /* width of the key to align, 0 if not alignable */
    const size_t *cols;     /* EL_LAYERS: column widths shared with the lines
                               around it that repeat the same layers, or NULL */
} elem;

static void put_seq(fmt *fm, const elem *els, size_t n, size_t indent,
                    uint32_t from, uint32_t to, bool top);

static size_t path_width(const nnx_path *p)
{
    size_t w = p->n ? p->n - 1 : 0;
    for (size_t i = 0; i < p->n; i++)
        w += width_of(p->parts[i], strlen(p->parts[i]));
    return w;
}

static elem stmt_elem(const nnx_stmt *s)
{
    elem e = { EL_STMT, s->loc.begin, s->loc.end, NULL, s, NULL, 0, 0, NULL };
    if (s->kind == NNX_S_SET || s->kind == NNX_S_IN)
        e.key = path_width(&s->target);
    else if (s->kind == NNX_S_APPEND)
        e.key = path_width(&s->target) + 1;
    return e;
}

/* Room for n elements (NULL, and out of memory noted, on failure). */
static elem *new_elems(fmt *fm, size_t n)
{
    elem *els = calloc(n + 1, sizeof *els);
    fm->oom |= !els;
    return els;
}

static void put_stmts(fmt *fm, nnx_stmt *const *body, size_t n, size_t indent,
                      uint32_t from, uint32_t to)
{
    elem *els = new_elems(fm, n);
    if (!els)
        return;
    for (size_t i = 0; i < n; i++)
        els[i] = stmt_elem(body[i]);
    put_seq(fm, els, n, indent, from, to, false);
    free(els);
}

/* Close a block opened on the current line: "{}" when there is nothing in
 * it, else its contents on their own lines and "}" at `indent`. */
static void put_block(fmt *fm, size_t indent, uint32_t from, uint32_t to,
                      nnx_stmt *const *body, size_t nbody,
                      nnx_layer_node *const *layers, size_t nlayers, bool is_layers);

/* A repeat or a block layer (residual { ... }) written over several lines. */
static bool multiline(const fmt *fm, const nnx_layer_node *l)
{
    return l->kind != NNX_L_LAYER && !same_line(fm, l->loc.begin, l->loc.end);
}

/* Where the head of a repeat or block layer ends and its body begins. */
static uint32_t head_end(const nnx_layer_node *l)
{
    return l->kind == NNX_L_REPEAT ? l->count->loc.end : l->call->loc.end;
}

static void put_head(fmt *fm, const nnx_layer_node *l)
{
    if (l->kind == NNX_L_REPEAT) {
        nnx_buf_puts(&fm->cur, "repeat(");
        put_flat(fm, l->count);
        nnx_buf_puts(&fm->cur, ")");
    } else {
        put_flat(fm, l->call);
    }
}

static void put_layer_inline(fmt *fm, const nnx_layer_node *l)
{
    if (l->kind == NNX_L_LAYER) {
        put_expr(fm, l->call, 0);
        return;
    }
    put_head(fm, l);
    nnx_buf_puts(&fm->cur, l->nbody ? " { " : " {}");
    for (size_t i = 0; i < l->nbody; i++) {
        if (i)
            nnx_buf_puts(&fm->cur, "  ");
        put_layer_inline(fm, l->body[i]);
    }
    nnx_buf_puts(&fm->cur, l->nbody ? " }" : "");
}

static void put_elem(fmt *fm, const elem *e, size_t indent, size_t key)
{
    begin_line(fm, indent);
    if (e->kind == EL_LAYERS) {
        const nnx_layer_node *l = e->layers[0];
        if (multiline(fm, l)) {
            put_head(fm, l);
            put_block(fm, indent, head_end(l), l->loc.end - 1, NULL, 0, l->body, l->nbody, true);
            return;
        }
        for (size_t i = 0; i < e->nlayers; i++) {
            if (i)
                nnx_buf_puts(&fm->cur, "  ");
            size_t start = column(fm);
            put_layer_inline(fm, e->layers[i]);
            if (e->cols && i + 1 < e->nlayers && column(fm) - start < e->cols[i])
                sb_spaces(&fm->cur, e->cols[i] - (column(fm) - start));
        }
        end_line(fm);
        return;
    }
    if (e->kind == EL_STMT) {
        const nnx_stmt *s = e->stmt;
        if (s->kind == NNX_S_SEARCH) {
            nnx_buf_puts(&fm->cur, "search ");
            put_flat(fm, s->search_kind);
            put_block(fm, indent, s->search_kind->loc.end, s->loc.end - 1,
                      s->body, s->nbody, NULL, 0, false);
            return;
        }
        flat_path(&fm->cur, &s->target);
        if (s->kind == NNX_S_BLOCK) {
            put_block(fm, indent, s->target.locs[s->target.n - 1].end, s->loc.end - 1,
                      s->body, s->nbody, NULL, 0, false);
            return;
        }
        size_t pad = key > e->key ? key - e->key : 0;
        sb_spaces(&fm->cur, pad);
        nnx_buf_puts(&fm->cur, s->kind == NNX_S_SET ? " = " : s->kind == NNX_S_APPEND ? " += " : " in ");
        put_expr(fm, s->value, 0);
        end_line(fm);
        return;
    }
    const nnx_item *it = e->item;
    switch (it->kind) {
    case NNX_I_IMPORT:
        nnx_buf_puts(&fm->cur, "import ");
        flat_string(&fm->cur, it->import_path);
        end_line(fm);
        return;
    case NNX_I_LET:
        nnx_buf_puts(&fm->cur, "let ");
        nnx_buf_puts(&fm->cur, it->name);
        sb_spaces(&fm->cur, key > e->key ? key - e->key : 0);
        nnx_buf_puts(&fm->cur, " = ");
        put_expr(fm, it->value, 0);
        end_line(fm);
        return;
    case NNX_I_DATA:
        nnx_buf_puts(&fm->cur, "data ");
        nnx_buf_puts(&fm->cur, it->name);
        if (it->extends) {
            nnx_buf_puts(&fm->cur, " extends ");
            nnx_buf_puts(&fm->cur, it->extends);
        }
        put_block(fm, indent, it->extends ? it->extends_loc.end : it->name_loc.end,
                  it->loc.end - 1, it->body, it->nbody, NULL, 0, false);
        return;
    case NNX_I_NETWORK: {
        nnx_buf_puts(&fm->cur, "network ");
        nnx_buf_puts(&fm->cur, it->name);
        uint32_t from = it->name_loc.end;
        if (it->nparams) {
            nnx_buf_puts(&fm->cur, "(");
            for (size_t i = 0; i < it->nparams; i++) {
                const nnx_param *p = &it->params[i];
                nnx_buf_puts(&fm->cur, i ? ", " : "");
                nnx_buf_puts(&fm->cur, p->name);
                from = p->loc.end;
                if (p->deflt) {
                    nnx_buf_puts(&fm->cur, " = ");
                    put_flat(fm, p->deflt);
                    from = p->deflt->loc.end;
                }
            }
            nnx_buf_puts(&fm->cur, ")");
        }
        put_block(fm, indent, from, it->loc.end - 1, NULL, 0, it->layers, it->nlayers, true);
        return;
    }
    case NNX_I_EXPERIMENT:
        nnx_buf_puts(&fm->cur, "experiment ");
        nnx_buf_puts(&fm->cur, it->name);
        if (it->extends) {
            nnx_buf_puts(&fm->cur, " extends ");
            nnx_buf_puts(&fm->cur, it->extends);
        }
        put_block(fm, indent, it->extends ? it->extends_loc.end : it->name_loc.end,
                  it->loc.end - 1, it->body, it->nbody, NULL, 0, false);
        return;
    }
}

static size_t nlayer_cells(const elem *els, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += els[i].nlayers;
    return total;
}

/* What a layer is, for lining up: its call's or path's name, or "repeat". */
static void layer_name(const nnx_layer_node *l, const char **name, const nnx_path **path)
{
    *name = NULL;
    *path = NULL;
    if (l->kind == NNX_L_REPEAT)
        *name = "repeat";
    else if (l->call->kind == NNX_E_CALL)
        *name = l->call->u.call.name;
    else if (l->call->kind == NNX_E_PATH)
        *path = &l->call->u.path;
}

static bool same_layer_kind(const nnx_layer_node *a, const nnx_layer_node *b)
{
    const char *na, *nb;
    const nnx_path *pa, *pb;
    layer_name(a, &na, &pa);
    layer_name(b, &nb, &pb);
    if (na || nb)
        return na && nb && !strcmp(na, nb);
    if (!pa || !pb || pa->n != pb->n)
        return false;
    for (size_t i = 0; i < pa->n; i++)
        if (strcmp(pa->parts[i], pb->parts[i]))
            return false;
    return true;
}

static size_t layer_width(fmt *fm, const nnx_layer_node *l)
{
    if (l->kind == NNX_L_LAYER)
        return flat_width(fm, l->call);
    size_t w = l->kind == NNX_L_REPEAT ? strlen("repeat() {}") + flat_width(fm, l->count)
                                       : strlen(" {}") + flat_width(fm, l->call);
    for (size_t i = 0; i < l->nbody; i++)
        w += layer_width(fm, l->body[i]) + 2;
    return w + (l->nbody ? 2 : 0);
}

/* Are two layer lines next to each other (nothing between them) and made
 * of the same layers, each on one line? */
static bool same_layers(const fmt *fm, const elem *a, const elem *b)
{
    if (a->nlayers != b->nlayers || a->nlayers < 2 || blank_between(fm, a->end, b->begin))
        return false;
    /* Only a trailing comment on the first line may sit in between. */
    for (size_t k = first_comment_from(fm, a->begin);
         k < fm->file->ncomments && fm->file->comments[k].loc.begin < b->end; k++) {
        uint32_t at = fm->file->comments[k].loc.begin;
        if (!(at >= a->end && at < b->begin && !own_line(fm, at)))
            return false;
    }
    for (size_t i = 0; i < a->nlayers; i++) {
        const nnx_layer_node *x = a->layers[i], *y = b->layers[i];
        if (!same_layer_kind(x, y) || multiline(fm, x) || multiline(fm, y))
            return false;
    }
    return true;
}

/* Group a network body into lines: layers the user wrote on one line stay
 * together; a repeat or residual block that spans lines stands alone. */
static void put_layers(fmt *fm, nnx_layer_node *const *layers, size_t n, size_t indent,
                       uint32_t from, uint32_t to)
{
    elem *els = new_elems(fm, n);
    if (!els)
        return;
    size_t nel = 0;
    for (size_t i = 0; i < n; i++) {
        const nnx_layer_node *l = layers[i];
        bool block = multiline(fm, l);
        elem *last = nel ? &els[nel - 1] : NULL;
        bool join = last && !block && last->kind == EL_LAYERS && !multiline(fm, last->layers[0]) &&
                    same_line(fm, last->end, l->loc.begin);
        if (join) {
            last->nlayers++;
            last->end = l->loc.end;
        } else {
            els[nel++] = (elem){ EL_LAYERS, l->loc.begin, l->loc.end, NULL, NULL, &layers[i], 1, 0, NULL };
        }
    }
    /* Lines that repeat the same layers line up in columns. */
    size_t *cols = calloc(nlayer_cells(els, nel) + 1, sizeof *cols), used = 0;
    for (size_t i = 0; cols && i < nel;) {
        size_t j = i + 1;
        while (j < nel && same_layers(fm, &els[j - 1], &els[j]))
            j++;
        if (j - i > 1) {
            for (size_t r = i; r < j; r++) {
                els[r].cols = cols + used;
                for (size_t c = 0; c < els[r].nlayers; c++) {
                    size_t w = layer_width(fm, els[r].layers[c]);
                    if (w > cols[used + c])
                        cols[used + c] = w;
                }
            }
            used += els[i].nlayers;
        }
        i = j;
    }
    put_seq(fm, els, nel, indent, from, to, false);
    free(cols);
    free(els);
}

static void put_block(fmt *fm, size_t indent, uint32_t from, uint32_t to,
                      nnx_stmt *const *body, size_t nbody,
                      nnx_layer_node *const *layers, size_t nlayers, bool is_layers)
{
    size_t k = first_comment_from(fm, from);
    bool comments = k < fm->file->ncomments && comment(fm, k)->loc.begin < to;
    if (!comments && nbody == 0 && nlayers == 0) {
        nnx_buf_puts(&fm->cur, " {}");
        end_line(fm);
        return;
    }
    nnx_buf_puts(&fm->cur, " {");
    end_line(fm);
    if (is_layers)
        put_layers(fm, layers, nlayers, indent + INDENT, from, to);
    else
        put_stmts(fm, body, nbody, indent + INDENT, from, to);
    begin_line(fm, indent);
    nnx_buf_puts(&fm->cur, "}");
    end_line(fm);
}

static bool is_block_item(const elem *e)
{
    return e->kind == EL_ITEM && e->item->kind != NNX_I_IMPORT && e->item->kind != NNX_I_LET;
}

/* Where an element's own text ends and its block's contents begin (its end
 * when it has no block).  Comments inside the block print with its contents. */
static uint32_t header_end(const fmt *fm, const elem *e)
{
    if (e->kind == EL_LAYERS) {
        const nnx_layer_node *l = e->layers[0];
        return multiline(fm, l) ? head_end(l) : e->end;
    }
    if (e->kind == EL_STMT) {
        const nnx_stmt *s = e->stmt;
        if (s->kind == NNX_S_BLOCK)
            return s->target.locs[s->target.n - 1].end;
        return s->kind == NNX_S_SEARCH ? s->search_kind->loc.end : e->end;
    }
    const nnx_item *it = e->item;
    switch (it->kind) {
    case NNX_I_DATA:
        return it->extends ? it->extends_loc.end : it->name_loc.end;
    case NNX_I_NETWORK:
        if (it->nparams) {
            const nnx_param *p = &it->params[it->nparams - 1];
            return p->deflt ? p->deflt->loc.end : p->loc.end;
        }
        return it->name_loc.end;
    case NNX_I_EXPERIMENT:
        return it->extends ? it->extends_loc.end : it->name_loc.end;
    default:
        return e->end;
    }
}

/* Comments in an element's own text that no gap between arguments takes:
 * they move to lines of their own just above it.  [*first, *last) */
static bool hoisted(const fmt *fm, const elem *e, size_t *first, size_t *last)
{
    uint32_t end = header_end(fm, e);
    size_t k = first_comment_from(fm, e->begin);
    *first = k;
    bool any = false;
    for (; k < fm->file->ncomments && comment(fm, k)->loc.begin < end; k++)
        any |= !fm->gap[k];
    *last = k;
    return any;
}

/* Does element j continue the run of aligned settings of element j - 1? */
static bool run_continues(const fmt *fm, const elem *els, size_t j)
{
    if (j == 0 || !els[j].key || !els[j - 1].key)
        return false;
    if (blank_between(fm, els[j - 1].end, els[j].begin))
        return false;
    for (size_t k = first_comment_from(fm, els[j - 1].end);
         k < fm->file->ncomments && comment(fm, k)->loc.begin < els[j].begin; k++)
        if (own_line(fm, comment(fm, k)->loc.begin))
            return false;
    size_t a, b;
    return !hoisted(fm, &els[j], &a, &b);
}

/* Print a sequence of elements at `indent`, with the comments that lie in
 * [from, to) around and between them. */
static void put_seq(fmt *fm, const elem *els, size_t n, size_t indent,
                    uint32_t from, uint32_t to, bool top)
{
    uint32_t prev_end = from;       /* where the last printed thing ended */
    bool any = false;               /* printed anything in this sequence yet */
    bool prev_block = false;
    size_t nc = fm->file->ncomments;
    size_t run_key = 0;

    for (size_t i = 0; i <= n; i++) {
        const elem *e = i < n ? &els[i] : NULL;
        uint32_t next = e ? e->begin : to;
        size_t k = first_comment_from(fm, prev_end);
        /* At the top level, the comment lines right above a block item
         * belong to it: the blank line that separates blocks goes above them. */
        size_t attached = nc;
        if (top && e) {
            uint32_t at = next;
            for (size_t j = first_comment_from(fm, next); j-- > k;) {
                const nnx_comment *c = comment(fm, j);
                if (!own_line(fm, c->loc.begin) || blank_between(fm, c->loc.end, at))
                    break;
                attached = j;
                at = c->loc.begin;
            }
        }
        bool force = top && e && any && (prev_block || is_block_item(e));
        for (; k < nc && comment(fm, k)->loc.begin < next; k++) {
            if (fm->used[k])
                continue;
            const nnx_comment *c = comment(fm, k);
            if (!own_line(fm, c->loc.begin) && fm->nlines > 0) {
                attach(fm, &fm->lines[fm->nlines - 1], k);
            } else {
                if (any && ((force && k == attached) || blank_between(fm, prev_end, c->loc.begin)))
                    blank_line(fm);
                comment_line(fm, indent, k);
                any = true;
            }
            prev_end = c->loc.end;
        }
        if (!e)
            break;

        size_t h0, h1;
        bool hoist = hoisted(fm, e, &h0, &h1);
        if (any && ((force && attached == nc) || blank_between(fm, prev_end, e->begin)))
            blank_line(fm);
        for (size_t j = h0; hoist && j < h1; j++)
            if (!fm->gap[j] && !fm->used[j])
                comment_line(fm, indent, j);

        if (!run_continues(fm, els, i)) {
            run_key = els[i].key;
            for (size_t j = i + 1; j < n && run_continues(fm, els, j); j++)
                if (els[j].key > run_key)
                    run_key = els[j].key;
        }
        put_elem(fm, e, indent, run_key);

        /* A comment after the element on its last line ends that line. */
        uint32_t limit = i + 1 < n ? els[i + 1].begin : to;
        k = first_comment_from(fm, e->end);
        if (k < nc && !fm->used[k] && comment(fm, k)->loc.begin < limit &&
            same_line(fm, e->end, comment(fm, k)->loc.begin))
            attach(fm, &fm->lines[fm->nlines - 1], k);
        prev_end = e->end;
        any = true;
        prev_block = is_block_item(e);
    }
}

/* --- the whole file ------------------------------------------------------- */

/* Join the lines, lining up trailing comments on consecutive lines. */
static char *join_lines(fmt *fm)
{
    nnx_buf out = {0};
    for (size_t i = 0; i < fm->nlines;) {
        size_t j = i, col = 0;
        if (fm->lines[i].comment) {
            for (; j < fm->nlines && fm->lines[j].comment; j++) {
                size_t w = width_of(fm->lines[j].text, strlen(fm->lines[j].text));
                if (w > col)
                    col = w;
            }
        } else {
            j = i + 1;
        }
        for (; i < j; i++) {
            const out_line *l = &fm->lines[i];
            size_t len = strlen(l->text);
            nnx_buf_put(&out, l->text, len);
            if (l->comment) {
                sb_spaces(&out, col - width_of(l->text, len) + 2);
                nnx_buf_puts(&out, l->comment);
            }
            nnx_buf_put(&out, "\n", 1);
        }
    }
    nnx_buf_put(&out, "", 0);
    if (out.oom) {
        free(out.s);
        return NULL;
    }
    return out.s;
}

char *nnx_fmt_file(const nnx_file *f)
{
    fmt fm = { .file = f, .src = f->src->text };
    size_t nc = f->ncomments;
    fm.used = calloc(nc + 1, sizeof *fm.used);
    fm.gap = calloc(nc + 1, sizeof *fm.gap);
    elem *els = calloc(f->nitems + 1, sizeof *els);
    char *text = NULL;
    if (fm.used && fm.gap && els) {
        for (size_t i = 0; i < f->nitems; i++) {
            const nnx_item *it = f->items[i];
            mark_gaps_expr(&fm, it->value);
            mark_gaps_stmts(&fm, it->body, it->nbody);
            mark_gaps_layers(&fm, it->layers, it->nlayers);
            for (size_t p = 0; p < it->nparams; p++)
                mark_gaps_expr(&fm, it->params[p].deflt);
            els[i] = (elem){ EL_ITEM, it->loc.begin, it->loc.end, it, NULL, NULL, 0,
                             it->kind == NNX_I_LET ? width_of(it->name, strlen(it->name)) : 0, NULL };
        }
        put_seq(&fm, els, f->nitems, 0, 0, (uint32_t)f->src->len, true);
        if (!fm.oom)
            text = join_lines(&fm);
    }
    for (size_t i = 0; i < fm.nlines; i++) {
        free(fm.lines[i].text);
        free(fm.lines[i].comment);
    }
    free(fm.lines);
    free(fm.cur.s);
    free(fm.pend);
    free(fm.used);
    free(fm.gap);
    free(els);
    return text;
}
