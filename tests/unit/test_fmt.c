/* test_fmt.c — nnx fmt keeps the meaning and the comments, is idempotent, and lays out as documented. */
#define _XOPEN_SOURCE 700       /* open_memstream */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/fmt.h"

#include "language_examples.h"

/* --- a dump of the tree that owes nothing to the formatter ----------------- */

static void dump_expr(FILE *o, const nnx_expr *e)
{
    switch (e->kind) {
    case NNX_E_NUM:  fprintf(o, "%s", e->u.num.text); break;
    case NNX_E_STR:  fprintf(o, "str(%zu:%s)", strlen(e->u.str), e->u.str); break;
    case NNX_E_BOOL: fprintf(o, "%s", e->u.boolean ? "T" : "F"); break;
    case NNX_E_PATH:
        for (size_t i = 0; i < e->u.path.n; i++)
            fprintf(o, "%s%s", i ? "." : "path:", e->u.path.parts[i]);
        break;
    case NNX_E_LIST:
        fprintf(o, "[");
        for (size_t i = 0; i < e->u.list.n; i++) {
            dump_expr(o, e->u.list.items[i]);
            fprintf(o, ";");
        }
        fprintf(o, "]");
        break;
    case NNX_E_CALL:
        fprintf(o, "call:%s(", e->u.call.name);
        for (size_t i = 0; i < e->u.call.nargs; i++) {
            if (e->u.call.args[i].name)
                fprintf(o, "%s:=", e->u.call.args[i].name);
            dump_expr(o, e->u.call.args[i].value);
            fprintf(o, ";");
        }
        fprintf(o, ")");
        break;
    case NNX_E_UNARY:
        fprintf(o, "(neg ");
        dump_expr(o, e->u.unary.operand);
        fprintf(o, ")");
        break;
    case NNX_E_BINARY:
        fprintf(o, "(%c ", e->u.binary.op);
        dump_expr(o, e->u.binary.lhs);
        fprintf(o, " ");
        dump_expr(o, e->u.binary.rhs);
        fprintf(o, ")");
        break;
    }
}

static void dump_stmts(FILE *o, nnx_stmt *const *body, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const nnx_stmt *s = body[i];
        char *t = nnx_path_str(&s->target);
        fprintf(o, " {stmt%d %s ", s->kind, t);
        free(t);
        if (s->value)
            dump_expr(o, s->value);
        if (s->search_kind)
            dump_expr(o, s->search_kind);
        dump_stmts(o, s->body, s->nbody);
        fprintf(o, "}");
    }
}

static void dump_layers(FILE *o, nnx_layer_node *const *layers, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(o, " {layer ");
        if (layers[i]->kind == NNX_L_LAYER) {
            dump_expr(o, layers[i]->call);
        } else if (layers[i]->kind == NNX_L_BLOCK) {
            fprintf(o, "block ");
            dump_expr(o, layers[i]->call);
            dump_layers(o, layers[i]->body, layers[i]->nbody);
        } else {
            fprintf(o, "repeat ");
            dump_expr(o, layers[i]->count);
            dump_layers(o, layers[i]->body, layers[i]->nbody);
        }
        fprintf(o, "}");
    }
}

static char *dump_file(const nnx_file *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&buf, &len);
    for (size_t i = 0; i < f->nitems; i++) {
        const nnx_item *it = f->items[i];
        fprintf(o, "item%d %s %s %s", it->kind, it->name ? it->name : "-",
                it->import_path ? it->import_path : "-", it->extends ? it->extends : "-");
        for (size_t p = 0; p < it->nparams; p++) {
            fprintf(o, " param %s=", it->params[p].name);
            if (it->params[p].deflt)
                dump_expr(o, it->params[p].deflt);
        }
        if (it->value)
            dump_expr(o, it->value);
        dump_stmts(o, it->body, it->nbody);
        dump_layers(o, it->layers, it->nlayers);
        fprintf(o, "\n");
    }
    fclose(o);
    return buf;
}

/* All comment texts, in order, one per line. */
static char *dump_comments(const nnx_file *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&buf, &len);
    for (size_t i = 0; i < f->ncomments; i++) {
        nnx_loc c = f->comments[i].loc;
        fprintf(o, "%.*s\n", (int)(c.end - c.begin), f->src->text + c.begin);
    }
    fclose(o);
    return buf;
}

/* --- helpers --------------------------------------------------------------- */

static nnx_file *parse_ok(const char *text)
{
    nnx_diags d = {0};
    nnx_file *f = nnx_parse(nnx_source_from_string("fmt.nnx", text), &d);
    if (d.nerrors) {
        nnx_diags_print(&d, stderr, false);
        fprintf(stderr, "in:\n%s\n", text);
    }
    assert_int_equal(d.nerrors, 0);
    nnx_diags_free(&d);
    return f;
}

static char *fmt_text(const char *text)
{
    nnx_file *f = parse_ok(text);
    char *out = nnx_fmt_file(f);
    assert_non_null(out);
    nnx_file_free(f);
    return out;
}

/* fmt keeps the tree and the comments, and formatting twice changes nothing. */
static void assert_fmt_sound(const char *text, bool same_comments)
{
    nnx_file *a = parse_ok(text);
    char *once = nnx_fmt_file(a);
    nnx_file *b = parse_ok(once);
    char *twice = nnx_fmt_file(b);
    assert_string_equal(once, twice);
    char *da = dump_file(a), *db = dump_file(b);
    assert_string_equal(da, db);
    if (same_comments) {
        char *ca = dump_comments(a), *cb = dump_comments(b);
        assert_string_equal(ca, cb);
        free(ca);
        free(cb);
    }
    free(da);
    free(db);
    free(once);
    free(twice);
    nnx_file_free(a);
    nnx_file_free(b);
}

static void assert_fmt(const char *in, const char *want)
{
    char *got = fmt_text(in);
    if (strcmp(got, want))
        fprintf(stderr, "--- want\n%s--- got\n%s---\n", want, got);
    assert_string_equal(got, want);
    free(got);
    assert_fmt_sound(want, true);
    got = fmt_text(want);
    assert_string_equal(got, want);     /* the canonical form is a fixed point */
    free(got);
}

/* --- tests ----------------------------------------------------------------- */

static void language_examples_are_sound(void **state)
{
    (void)state;
    assert_fmt_sound(language_examples, true);
}

static bool parses(const char *text)
{
    nnx_diags d = {0};
    nnx_file *f = nnx_parse(nnx_source_from_string("p.nnx", text), &d);
    bool ok = d.nerrors == 0;
    nnx_file_free(f);
    nnx_diags_free(&d);
    return ok;
}

/* Every prefix of the examples that parses, and every variant with one line
 * left out that parses, keeps its meaning through fmt. */
static void every_parsing_variant_is_sound(void **state)
{
    (void)state;
    size_t n = strlen(language_examples);
    char *buf = malloc(n + 1);
    int prefixes = 0, dropped = 0;
    for (size_t cut = 0; cut <= n; cut++) {
        memcpy(buf, language_examples, cut);
        buf[cut] = '\0';
        if (parses(buf)) {
            assert_fmt_sound(buf, true);
            prefixes++;
        }
    }
    for (const char *line = language_examples; *line;) {
        const char *next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        size_t head = (size_t)(line - language_examples);
        memcpy(buf, language_examples, head);
        strcpy(buf + head, next);
        if (parses(buf)) {
            assert_fmt_sound(buf, true);
            dropped++;
        }
        line = next;
    }
    assert_true(prefixes >= 40);
    assert_true(dropped >= 60);
    free(buf);
}

static void settings_align_in_runs(void **state)
{
    (void)state;
    assert_fmt("experiment e extends b { model = mlp(width=512,p=0.3); optimizer.lr=3e-3\n"
               "metrics+=[lua.f1]\n\n  seed = 1 }\n",
               "experiment e extends b {\n"
               "    model        = mlp(width = 512, p = 0.3)\n"
               "    optimizer.lr = 3e-3\n"
               "    metrics     += [lua.f1]\n"
               "\n"
               "    seed = 1\n"
               "}\n");
    assert_fmt("let a=1\nlet long_name = \"x\"\n# c\nlet b = 2\n",
               "let a         = 1\nlet long_name = \"x\"\n# c\nlet b = 2\n");
}

static void blocks_open_onto_their_own_lines(void **state)
{
    (void)state;
    assert_fmt("experiment m extends t { ensemble { seeds = [1, 2, 3] } schedule {} }",
               "experiment m extends t {\n"
               "    ensemble {\n"
               "        seeds = [1, 2, 3]\n"
               "    }\n"
               "    schedule {}\n"
               "}\n");
    assert_fmt("experiment g { search random(trials=20,seed=3) { optimizer.lr in loguniform(1e-5,1e-1)\n"
               "model.p in uniform(0, 0.5) } }",
               "experiment g {\n"
               "    search random(trials = 20, seed = 3) {\n"
               "        optimizer.lr in loguniform(1e-5, 1e-1)\n"
               "        model.p      in uniform(0, 0.5)\n"
               "    }\n"
               "}\n");
    assert_fmt("data d {}", "data d {}\n");
}

static void layers_keep_their_lines(void **state)
{
    (void)state;
    assert_fmt("network n(width=256,p) {\n dense(width) batchnorm swish dropout(p)\n"
               "repeat(2) { dense(64) relu }\n repeat(3) {\n dense(8)\n }\n dense(10) }",
               "network n(width = 256, p) {\n"
               "    dense(width)  batchnorm  swish  dropout(p)\n"
               "    repeat(2) { dense(64)  relu }\n"
               "    repeat(3) {\n"
               "        dense(8)\n"
               "    }\n"
               "    dense(10)\n"
               "}\n");
    /* Lines that repeat the same layers line up; others do not. */
    assert_fmt("network m(width = 256, p = 0.2) {\n"
               "dense(width) batchnorm swish dropout(p)  # first\n"
               "dense(width / 2) batchnorm swish dropout(p)\n"
               "flatten dropout(p)\n"
               "dense(128) swish\n"
               "dense(10)\n}\n",
               "network m(width = 256, p = 0.2) {\n"
               "    dense(width)      batchnorm  swish  dropout(p)  # first\n"
               "    dense(width / 2)  batchnorm  swish  dropout(p)\n"
               "    flatten  dropout(p)\n"
               "    dense(128)  swish\n"
               "    dense(10)\n"
               "}\n");
    assert_fmt("data b extends a{shape=[1,2,3]}", "data b extends a {\n    shape = [1, 2, 3]\n}\n");
    /* Residual blocks: on one line they stay there, over several lines they
     * open onto their own lines like repeat; they nest. */
    assert_fmt("network r(w) {\n residual{conv(w,3,pad=1) batchnorm} swish\n"
               "residual(project=false) {\n layernorm\n residual { dense(8) }\n}\n"
               "residual {} global_avgpool }",
               "network r(w) {\n"
               "    residual { conv(w, 3, pad = 1)  batchnorm }  swish\n"
               "    residual(project = false) {\n"
               "        layernorm\n"
               "        residual { dense(8) }\n"
               "    }\n"
               "    residual {}  global_avgpool\n"
               "}\n");
}

static void expressions_print_canonically(void **state)
{
    (void)state;
    assert_fmt("let x = (1 + 2) + (3 * (4 - 5)) - (6 - 7) / -(8) * - - 9",
               "let x = 1 + 2 + 3 * (4 - 5) - (6 - 7) / -8 * -(-9)\n");
    assert_fmt("let s = \"a\\\"b\\\\c\\nd\\te\"", "let s = \"a\\\"b\\\\c\\nd\\te\"\n");
    assert_fmt("let n = [2.5E+4, 1e-3, 007, true, false, [], f()]",
               "let n = [2.5E+4, 1e-3, 007, true, false, [], f()]\n");
    assert_fmt("let p = a.b.c - (x - y)", "let p = a.b.c - (x - y)\n");
}

static void long_calls_break_one_argument_per_line(void **state)
{
    (void)state;
    assert_fmt("data fashion { train = idx(data_dir + \"/train-images-idx3-ubyte.gz\", "
               "data_dir + \"/train-labels-idx1-ubyte.gz\", classes = [0, 6]) }",
               "data fashion {\n"
               "    train = idx(data_dir + \"/train-images-idx3-ubyte.gz\",\n"
               "                data_dir + \"/train-labels-idx1-ubyte.gz\",\n"
               "                classes = [0, 6])\n"
               "}\n");
}

static void comments_stay_in_place(void **state)
{
    (void)state;
    /* Own-line, trailing (lined up), after '{', between arguments, at the end. */
    assert_fmt("# top\n\nexperiment e { # after brace\n  epochs = 20 # twenty\n"
               "  batch = 128   # and more\n  # own line\n  x = f(1, # one\n 2)\n}\n# end\n",
               "# top\n"
               "\n"
               "experiment e {    # after brace\n"
               "    epochs = 20   # twenty\n"
               "    batch  = 128  # and more\n"
               "    # own line\n"
               "    x = f(1,  # one\n"
               "          2)\n"
               "}\n"
               "# end\n");
    /* A comment inside an expression printed on one line moves above it. */
    char *got = fmt_text("let x = 1 + # why\n 2\n");
    assert_string_equal(got, "# why\nlet x = 1 + 2\n");
    free(got);
}

static void blank_lines_are_kept_once(void **state)
{
    (void)state;
    assert_fmt("let a = 1\n\n\n\nlet b = 2\nlet c = 3\ndata d {}\nnetwork n { relu }\n"
               "# about e\nexperiment e {}\n",
               "let a = 1\n"
               "\n"
               "let b = 2\n"
               "let c = 3\n"
               "\n"
               "data d {}\n"
               "\n"
               "network n {\n"
               "    relu\n"
               "}\n"
               "\n"
               "# about e\n"
               "experiment e {}\n");
}

static void odd_comment_places_are_sound(void **state)
{
    (void)state;
    assert_fmt_sound("import \"a.nnx\"   # t\nlet x=1;let yy = -(2+3)*4 ,let z = - -x\n"
                     "network n ( a , # p\n b = 2 ) {  # b\n  dense(a) relu # l\n # own\n\n"
                     "  repeat(2) {\n dense(3)\n # in\n }\n conv(1,  # g\n 2) relu\n}\n"
                     "experiment e extends base { x = 1 ; y += [1,2,] # t\n"
                     "sched { a = f(1, # c1\n 2, # c2\n 3) # c3\n }\n z = a + # in\n b\n"
                     "w = [ # open\n 1, 2]\n}\n# last", false);
}

static void empty_file_and_only_comments(void **state)
{
    (void)state;
    char *got = fmt_text("");
    assert_string_equal(got, "");
    free(got);
    assert_fmt("# just\n\n\n# comments\n", "# just\n\n# comments\n");
}

static void fmt_expr_is_one_line(void **state)
{
    (void)state;
    nnx_file *f = parse_ok("let x = cosine(min_lr = 1e-5, at = [1, 2 * (3 + 4)])");
    char *s = nnx_fmt_expr(f->items[0]->value);
    assert_string_equal(s, "cosine(min_lr = 1e-5, at = [1, 2 * (3 + 4)])");
    free(s);
    nnx_file_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(language_examples_are_sound),
        cmocka_unit_test(every_parsing_variant_is_sound),
        cmocka_unit_test(settings_align_in_runs),
        cmocka_unit_test(blocks_open_onto_their_own_lines),
        cmocka_unit_test(layers_keep_their_lines),
        cmocka_unit_test(expressions_print_canonically),
        cmocka_unit_test(long_calls_break_one_argument_per_line),
        cmocka_unit_test(comments_stay_in_place),
        cmocka_unit_test(blank_lines_are_kept_once),
        cmocka_unit_test(odd_comment_places_are_sound),
        cmocka_unit_test(empty_file_and_only_comments),
        cmocka_unit_test(fmt_expr_is_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
