/* test_parse.c — the parser reads every example of the language and builds the right tree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/ast.h"

#include "language_examples.h"

typedef struct parsed {
    nnx_diags diags;
    nnx_file *file;
} parsed;

static parsed parse_text(const char *text)
{
    parsed p = { {0}, NULL };
    nnx_source *src = nnx_source_from_string("test.nnx", text);
    assert_non_null(src);
    p.file = nnx_parse(src, &p.diags);
    assert_non_null(p.file);
    return p;
}

static void parsed_free(parsed *p)
{
    nnx_file_free(p->file);
    nnx_diags_free(&p->diags);
}

static const nnx_item *item_named(const nnx_file *f, const char *name)
{
    for (size_t i = 0; i < f->nitems; i++)
        if (f->items[i]->name && !strcmp(f->items[i]->name, name))
            return f->items[i];
    fail_msg("no item '%s'", name);
    return NULL;
}

static const nnx_stmt *stmt_at(const nnx_item *it, const char *target)
{
    for (size_t i = 0; i < it->nbody; i++) {
        char *s = nnx_path_str(&it->body[i]->target);
        bool same = s && !strcmp(s, target);
        free(s);
        if (same)
            return it->body[i];
    }
    fail_msg("no statement '%s' in '%s'", target, it->name);
    return NULL;
}

/* The text a location covers, for comparing. */
static void assert_loc_text(nnx_loc loc, const char *want)
{
    size_t n = loc.end - loc.begin;
    assert_int_equal(n, strlen(want));
    assert_memory_equal(nnx_loc_text(loc), want, n);
}

static void every_example_parses(void **state)
{
    (void)state;
    parsed p = parse_text(language_examples);
    nnx_diags_print(&p.diags, stderr, false);
    assert_int_equal(p.diags.nerrors, 0);
    assert_int_equal(p.file->nitems, 15);
    const char *names[] = { "classes", "data_dir", "fashion", "shirts", "table", "toy",
                            "mlp", "cnn", "deep", "baseline", "tuned", "lr_grid",
                            "recipe", "wide", "members" };
    const nnx_item_kind kinds[] = { NNX_I_LET, NNX_I_LET, NNX_I_DATA, NNX_I_DATA, NNX_I_DATA,
                                    NNX_I_DATA, NNX_I_NETWORK, NNX_I_NETWORK, NNX_I_NETWORK,
                                    NNX_I_EXPERIMENT, NNX_I_EXPERIMENT, NNX_I_EXPERIMENT,
                                    NNX_I_EXPERIMENT, NNX_I_EXPERIMENT, NNX_I_EXPERIMENT };
    for (size_t i = 0; i < 15; i++) {
        assert_string_equal(p.file->items[i]->name, names[i]);
        assert_int_equal(p.file->items[i]->kind, kinds[i]);
        assert_false(p.file->items[i]->syntax_error);
        assert_loc_text(p.file->items[i]->name_loc, names[i]);
    }
    assert_int_equal(p.file->ncomments, 19);
    parsed_free(&p);
}

static void networks_have_layers_and_params(void **state)
{
    (void)state;
    parsed p = parse_text(language_examples);
    const nnx_item *mlp = item_named(p.file, "mlp");
    assert_int_equal(mlp->nparams, 2);
    assert_string_equal(mlp->params[0].name, "width");
    assert_int_equal(mlp->params[0].deflt->kind, NNX_E_NUM);
    assert_float_equal(mlp->params[0].deflt->u.num.value, 256, 0);
    assert_string_equal(mlp->params[1].deflt->u.num.text, "0.2");
    /* Several layers on one line, no separator: 4 + 4 + 1. */
    assert_int_equal(mlp->nlayers, 9);
    const nnx_expr *dense = mlp->layers[4]->call;
    assert_int_equal(dense->kind, NNX_E_CALL);
    assert_string_equal(dense->u.call.name, "dense");
    assert_int_equal(dense->u.call.nargs, 1);
    assert_int_equal(dense->u.call.args[0].value->kind, NNX_E_BINARY);
    assert_int_equal(dense->u.call.args[0].value->u.binary.op, '/');
    assert_loc_text(mlp->layers[4]->loc, "dense(width / 2)");
    const nnx_expr *bn = mlp->layers[1]->call;
    assert_int_equal(bn->kind, NNX_E_PATH);
    assert_string_equal(bn->u.path.parts[0], "batchnorm");

    const nnx_item *cnn = item_named(p.file, "cnn");
    assert_int_equal(cnn->nlayers, 13);
    const nnx_expr *conv = cnn->layers[0]->call;
    assert_int_equal(conv->u.call.nargs, 3);
    assert_null(conv->u.call.args[0].name);
    assert_string_equal(conv->u.call.args[2].name, "pad");
    assert_loc_text(conv->u.call.args[2].name_loc, "pad");

    const nnx_item *deep = item_named(p.file, "deep");
    assert_int_equal(deep->nlayers, 2);
    assert_int_equal(deep->layers[0]->kind, NNX_L_REPEAT);
    assert_int_equal(deep->layers[0]->count->kind, NNX_E_PATH);
    assert_int_equal(deep->layers[0]->nbody, 3);
    assert_int_equal(deep->layers[1]->kind, NNX_L_LAYER);
    parsed_free(&p);
}

static void experiments_have_settings(void **state)
{
    (void)state;
    parsed p = parse_text(language_examples);
    const nnx_item *base = item_named(p.file, "baseline");
    assert_null(base->extends);
    assert_int_equal(base->nbody, 12);
    assert_int_equal(stmt_at(base, "data")->kind, NNX_S_SET);
    const nnx_stmt *sched = stmt_at(base, "schedule");
    assert_int_equal(sched->kind, NNX_S_BLOCK);
    assert_int_equal(sched->nbody, 2);
    assert_int_equal(sched->body[1]->value->kind, NNX_E_CALL);
    const nnx_stmt *sel = stmt_at(base, "select");
    assert_int_equal(sel->value->u.call.args[0].value->u.path.n, 2);

    const nnx_item *tuned = item_named(p.file, "tuned");
    assert_string_equal(tuned->extends, "baseline");
    assert_loc_text(tuned->extends_loc, "baseline");
    const nnx_stmt *lr = stmt_at(tuned, "optimizer.lr");
    assert_int_equal(lr->target.n, 2);
    assert_loc_text(lr->target.locs[1], "lr");
    assert_string_equal(lr->value->u.num.text, "3e-3");
    const nnx_stmt *m = stmt_at(tuned, "metrics");
    assert_int_equal(m->kind, NNX_S_APPEND);
    assert_int_equal(m->value->kind, NNX_E_LIST);
    assert_int_equal(m->value->u.list.n, 1);
    assert_string_equal(m->value->u.list.items[0]->u.path.parts[1], "macro_f1");
    assert_int_equal(stmt_at(tuned, "hooks")->value->kind, NNX_E_STR);
    parsed_free(&p);
}

static void searches_and_ensembles(void **state)
{
    (void)state;
    parsed p = parse_text(language_examples);
    const nnx_item *grid = item_named(p.file, "lr_grid");
    assert_int_equal(grid->nbody, 1);
    const nnx_stmt *s = grid->body[0];
    assert_int_equal(s->kind, NNX_S_SEARCH);
    assert_int_equal(s->search_kind->kind, NNX_E_PATH);
    assert_string_equal(s->search_kind->u.path.parts[0], "grid");
    assert_int_equal(s->nbody, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(s->body[i]->kind, NNX_S_IN);
    assert_string_equal(s->body[0]->value->u.call.name, "decades");

    const nnx_stmt *staged = item_named(p.file, "recipe")->body[0];
    assert_string_equal(staged->search_kind->u.path.parts[0], "staged");
    assert_int_equal(staged->nbody, 4);
    assert_int_equal(staged->body[3]->value->u.list.n, 3);

    const nnx_stmt *rnd = item_named(p.file, "wide")->body[0];
    assert_int_equal(rnd->search_kind->kind, NNX_E_CALL);
    assert_string_equal(rnd->search_kind->u.call.name, "random");
    assert_int_equal(rnd->search_kind->u.call.nargs, 2);
    assert_string_equal(rnd->search_kind->u.call.args[1].name, "seed");

    const nnx_stmt *ens = item_named(p.file, "members")->body[0];
    assert_int_equal(ens->kind, NNX_S_BLOCK);
    assert_string_equal(ens->target.parts[0], "ensemble");
    assert_int_equal(ens->nbody, 1);
    assert_int_equal(ens->body[0]->value->u.list.n, 5);
    parsed_free(&p);
}

static void precedence_and_unary_minus(void **state)
{
    (void)state;
    parsed p = parse_text("let x = 1 + 2 * -3 - 4 / (2 - 1)");
    assert_int_equal(p.diags.nerrors, 0);
    const nnx_expr *e = p.file->items[0]->value;
    /* ((1 + (2 * -3)) - (4 / (2 - 1))) */
    assert_int_equal(e->u.binary.op, '-');
    const nnx_expr *l = e->u.binary.lhs, *r = e->u.binary.rhs;
    assert_int_equal(l->u.binary.op, '+');
    assert_int_equal(l->u.binary.rhs->u.binary.op, '*');
    assert_int_equal(l->u.binary.rhs->u.binary.rhs->kind, NNX_E_UNARY);
    assert_int_equal(r->u.binary.op, '/');
    assert_int_equal(r->u.binary.rhs->u.binary.op, '-');
    assert_loc_text(e->loc, "1 + 2 * -3 - 4 / (2 - 1)");
    parsed_free(&p);
}

static void literals(void **state)
{
    (void)state;
    parsed p = parse_text("let a = 2.5E+4; let b = \"q\\\"\\\\\\n\\tz\", let c = [true, false,]\n"
                          "let d = []  let e = f()  let g = h(1, k = 2,)");
    assert_int_equal(p.diags.nerrors, 0);
    assert_int_equal(p.file->nitems, 6);
    const nnx_expr *a = p.file->items[0]->value;
    assert_string_equal(a->u.num.text, "2.5E+4");
    assert_float_equal(a->u.num.value, 25000, 0);
    assert_string_equal(p.file->items[1]->value->u.str, "q\"\\\n\tz");
    const nnx_expr *c = p.file->items[2]->value;
    assert_int_equal(c->u.list.n, 2);
    assert_true(c->u.list.items[0]->u.boolean);
    assert_false(c->u.list.items[1]->u.boolean);
    assert_int_equal(p.file->items[3]->value->u.list.n, 0);
    assert_int_equal(p.file->items[4]->value->u.call.nargs, 0);
    assert_int_equal(p.file->items[5]->value->u.call.nargs, 2);
    parsed_free(&p);
}

static void crlf_reads_like_lf(void **state)
{
    (void)state;
    parsed a = parse_text("let x = 1\r\n# c\r\nlet y = \"s\"\r\n");
    parsed b = parse_text("let x = 1\n# c\nlet y = \"s\"\n");
    assert_int_equal(a.diags.nerrors, 0);
    assert_int_equal(a.file->src->len, b.file->src->len);
    assert_string_equal(a.file->src->text, b.file->src->text);
    assert_int_equal(a.file->items[1]->loc.begin, b.file->items[1]->loc.begin);
    parsed_free(&a);
    parsed_free(&b);
}

static void clone_is_deep_and_equal(void **state)
{
    (void)state;
    parsed p = parse_text("let x = f(1, k = [a.b, \"s\", -2 * 3], z = true)");
    const nnx_expr *e = p.file->items[0]->value;
    nnx_expr *c = nnx_expr_clone(e);
    assert_non_null(c);
    assert_ptr_not_equal(c, e);
    assert_string_equal(c->u.call.name, "f");
    assert_string_equal(c->u.call.args[1].name, "k");
    const nnx_expr *list = c->u.call.args[1].value;
    assert_int_equal(list->u.list.n, 3);
    char *path = nnx_path_str(&list->u.list.items[0]->u.path);
    assert_string_equal(path, "a.b");
    free(path);
    assert_ptr_not_equal(list->u.list.items[1]->u.str, e->u.call.args[1].value->u.list.items[1]->u.str);
    assert_int_equal(list->u.list.items[2]->u.binary.lhs->kind, NNX_E_UNARY);
    nnx_expr_free(c);
    parsed_free(&p);
}

static void every_error_is_reported(void **state)
{
    (void)state;
    parsed p = parse_text("experiment a {\n    epochs 20\n    batch = 3\n}\n"
                          "experiment b {\n    seed = )\n}\n"
                          "network n { dense(4 }\n"
                          "let ok = 1\n");
    assert_int_equal(p.diags.nerrors, 3);
    /* Reported in file order, each at its line. */
    int lines[3], i = 0;
    for (const nnx_diag *d = p.diags.head; d; d = d->next, i++) {
        int col;
        nnx_loc_linecol(d->loc.src, d->loc.begin, &lines[i], &col);
    }
    assert_int_equal(lines[0], 2);
    assert_int_equal(lines[1], 6);
    assert_int_equal(lines[2], 8);
    /* Items around the errors are still read; those with errors say so. */
    assert_true(item_named(p.file, "a")->syntax_error);
    assert_false(item_named(p.file, "ok")->syntax_error);
    assert_int_equal(item_named(p.file, "a")->nbody, 1);
    parsed_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_example_parses),
        cmocka_unit_test(networks_have_layers_and_params),
        cmocka_unit_test(experiments_have_settings),
        cmocka_unit_test(searches_and_ensembles),
        cmocka_unit_test(precedence_and_unary_minus),
        cmocka_unit_test(literals),
        cmocka_unit_test(crlf_reads_like_lf),
        cmocka_unit_test(clone_is_deep_and_equal),
        cmocka_unit_test(every_error_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
