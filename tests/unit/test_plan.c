/* test_plan.c — trials of grid, random, staged searches and ensembles, and their names. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "check_fixture.h"
#include "nnx/plan.h"

static nnx_plan *plan_of(fx *f, const char *body)
{
    char src[4096];
    snprintf(src, sizeof src, TOY "experiment x {\n data = toy\n model = net\n%s\n}\n", body);
    nnx_experiment *e = fx_check(f, src, "x");
    if (!e)
        fail_msg("%s", fx_msgs(&f->d));
    char *err = NULL;
    nnx_plan *p = nnx_plan_make(e, &err);
    if (!p)
        fail_msg("%s", err ? err : "NULL");
    return p;
}

static void single(void **state)
{
    (void)state;
    fx f;
    nnx_plan *p = plan_of(&f, "");
    assert_int_equal(p->kind, NNX_PLAN_SINGLE);
    assert_int_equal(p->ntrials, 1);
    assert_string_equal(p->trials[0].name, "run");
    assert_int_equal(p->trials[0].nov, 0);
    nnx_plan_free(p);
    fx_done(&f);
}

static void grid(void **state)
{
    (void)state;
    fx f;
    nnx_plan *p = plan_of(&f, "search grid { optimizer.lr in decades(1e-5, 1e-1)  batch in [64, 128, 256]\n"
                              " model.p in [0, 0.2, 0.5] }");
    assert_int_equal(p->kind, NNX_PLAN_GRID);
    assert_int_equal(p->ntrials, 45);
    /* the first axis varies slowest, the last fastest */
    assert_string_equal(p->trials[0].name, "lr=1e-05_batch=64_p=0");
    assert_string_equal(p->trials[1].name, "lr=1e-05_batch=64_p=0.2");
    assert_string_equal(p->trials[3].name, "lr=1e-05_batch=128_p=0");
    assert_string_equal(p->trials[44].name, "lr=0.1_batch=256_p=0.5");
    assert_int_equal(p->trials[44].nov, 3);
    assert_string_equal(p->trials[44].ov[0].path, "optimizer.lr");
    assert_string_equal(p->trials[44].ov[0].value, "0.1");
    assert_string_equal(p->trials[44].ov[2].path, "model.p");
    /* names are unique */
    for (size_t i = 0; i < p->ntrials; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(p->trials[i].name, p->trials[j].name);
    /* a trial checked again carries its values */
    nnx_experiment *t = nnx_check_experiment(f.c, "x", p->trials[44].ov, p->trials[44].nov, &f.d);
    if (!t)
        fail_msg("%s", fx_msgs(&f.d));
    assert_true(t->optim.lr == 0.1);
    assert_int_equal(t->batch, 256);
    assert_true(t->net.layers[2].arg[0] == 0.5);
    nnx_experiment_free(t);
    nnx_plan_free(p);
    fx_done(&f);
}

static void grid_names_with_calls(void **state)
{
    (void)state;
    fx f;
    nnx_plan *p = plan_of(&f, "search grid { schedule.decay in [none, cosine(min_lr = 1e-5), step(every = 5, gamma = 0.5)] }");
    assert_int_equal(p->ntrials, 3);
    assert_string_equal(p->trials[1].name, "decay=cosine_min_lr_1e-05");
    assert_string_equal(p->trials[2].name, "decay=step_every_5_gamma_0.5");
    assert_string_equal(p->trials[2].ov[0].value, "step(every = 5, gamma = 0.5)");
    nnx_plan_free(p);
    fx_done(&f);
}

static void same_last_part(void **state)
{
    (void)state;
    fx f;
    const char *src = "data toy { train = spirals(n = 300, classes = 3) valid = split(train, 0.2) }\n"
                      "network g(gamma = 4) { dense(gamma) relu dense(3) }\n"
                      "experiment x { data = toy model = g schedule.decay = step(every = 2)\n"
                      " search grid { model.gamma in [4, 8]  schedule.decay.gamma in [0.5] } }";
    nnx_experiment *e = fx_check(&f, src, "x");
    if (!e)
        fail_msg("%s", fx_msgs(&f.d));
    nnx_plan *p = nnx_plan_make(e, NULL);
    assert_non_null(p);
    assert_string_equal(p->trials[1].name, "model.gamma=8_schedule.decay.gamma=0.5");
    nnx_plan_free(p);
    fx_done(&f);
}

static void random_search(void **state)
{
    (void)state;
    fx f, g;
    const char *body = "search random(trials = 50, seed = 3) { optimizer.lr in loguniform(1e-5, 1e-1)\n"
                       " model.p in uniform(0, 0.5)  batch in [16, 32, 64] }";
    nnx_plan *p = plan_of(&f, body), *q = plan_of(&g, body);
    assert_int_equal(p->kind, NNX_PLAN_RANDOM);
    assert_int_equal(p->ntrials, 50);
    int seen16 = 0, seen64 = 0, low = 0;
    for (size_t i = 0; i < p->ntrials; i++) {
        /* the same seed draws the same values */
        assert_string_equal(p->trials[i].name, q->trials[i].name);
        double lr = strtod(p->trials[i].ov[0].value, NULL), dp = strtod(p->trials[i].ov[1].value, NULL);
        assert_true(lr >= 1e-5 * 0.9999 && lr <= 1e-1 * 1.0001);
        assert_true(dp >= 0 && dp <= 0.5);
        low += lr < 1e-3;       /* log-uniform: half the draws below the geometric middle */
        seen16 += !strcmp(p->trials[i].ov[2].value, "16");
        seen64 += !strcmp(p->trials[i].ov[2].value, "64");
    }
    assert_true(low > 10 && low < 40);
    assert_true(seen16 > 0 && seen64 > 0);
    nnx_plan_free(q);
    fx_done(&g);
    /* another seed, other draws */
    q = plan_of(&g, "search random(trials = 50, seed = 4) { optimizer.lr in loguniform(1e-5, 1e-1)\n"
                    " model.p in uniform(0, 0.5)  batch in [16, 32, 64] }");
    assert_string_not_equal(p->trials[0].name, q->trials[0].name);
    /* every drawn trial checks */
    for (size_t i = 0; i < 5; i++) {
        nnx_experiment *t = nnx_check_experiment(f.c, "x", p->trials[i].ov, p->trials[i].nov, &f.d);
        if (!t)
            fail_msg("%s", fx_msgs(&f.d));
        assert_true(t->optim.lr == strtod(p->trials[i].ov[0].value, NULL));
        nnx_experiment_free(t);
    }
    nnx_plan_free(q);
    nnx_plan_free(p);
    fx_done(&g);
    fx_done(&f);
}

static void random_seed_defaults_to_experiment_seed(void **state)
{
    (void)state;
    fx f;
    nnx_plan *p = plan_of(&f, "seed = 7\nsearch random(trials = 2) { model.p in uniform(0, 0.5) }");
    assert_int_equal(f.e->search.seed, 7);
    assert_int_equal(p->ntrials, 2);
    nnx_plan_free(p);
    fx_done(&f);
}

/* The rungs of prune = halving: the 27 draws of 9 epochs give 27, 9
 * and 3 trials at epochs 1, 3 and 9 (63 epochs of 243); the last rung is
 * the experiment's epochs even off the power of eta; at least one trial
 * goes on. */
static void halving_rungs(void **state)
{
    (void)state;
    fx f;
    nnx_plan *p = plan_of(&f, "epochs = 9\nprune = halving(min_epochs = 1, eta = 3)\n"
                              "search random(trials = 27) { model.p in uniform(0, 0.5) }");
    int ep[NNX_PLAN_MAX_RUNGS];
    size_t n[NNX_PLAN_MAX_RUNGS];
    assert_int_equal(nnx_plan_rungs(f.e, p->ntrials, ep, n), 3);
    assert_int_equal(ep[0], 1);
    assert_int_equal(ep[1], 3);
    assert_int_equal(ep[2], 9);
    assert_int_equal(n[0], 27);
    assert_int_equal(n[1], 9);
    assert_int_equal(n[2], 3);
    nnx_experiment e = *f.e;     /* shallow: only read */
    e.epochs = 10;
    e.prune.min_epochs = 2;
    e.prune.eta = 2;
    assert_int_equal(nnx_plan_rungs(&e, 5, ep, n), 4);     /* 2, 4, 8, 10 */
    assert_int_equal(ep[3], 10);
    assert_int_equal(n[1], 2);
    assert_int_equal(n[2], 1);
    assert_int_equal(n[3], 1);
    e.prune.min_epochs = 20;                                /* beyond epochs: one rung */
    assert_int_equal(nnx_plan_rungs(&e, 5, ep, n), 1);
    assert_int_equal(ep[0], 10);
    e.prune.kind = NNX_XPRUNE_NONE;
    assert_int_equal(nnx_plan_rungs(&e, 5, ep, n), 0);
    nnx_plan_free(p);
    fx_done(&f);
}

/* The brackets of prune = hyperband (Li et al. 2018) for 9 epochs, min_epochs
 * 1, eta 3: s_max = 2; bracket s = 2 starts ceil(3/3 * 9) = 9 trials at 1
 * epoch (9, 3, 1 at 1, 3, 9), s = 1 ceil(3/2 * 3) = 5 at 3 (5, 1 at 3, 9),
 * s = 0 3 at 9: 17 trials a round; 27 trials fill a second round's first
 * bracket and one trial of its second. */
static void hyperband_brackets(void **state)
{
    (void)state;
    fx f;
    nnx_plan *p = plan_of(&f, "epochs = 9\nprune = hyperband(min_epochs = 1, eta = 3)\n"
                              "search random(trials = 27) { model.p in uniform(0, 0.5) }");
    nnx_plan_bracket b[8];
    assert_int_equal(nnx_plan_brackets(f.e, p->ntrials, b, 8), 5);
    assert_int_equal(b[0].s, 2);
    assert_int_equal(b[0].first, 0);
    assert_int_equal(b[0].ntrials, 9);
    assert_int_equal(b[0].nrungs, 3);
    assert_int_equal(b[0].epochs[0], 1);
    assert_int_equal(b[0].epochs[2], 9);
    assert_int_equal(b[0].trials[1], 3);
    assert_int_equal(b[0].trials[2], 1);
    assert_int_equal(b[1].s, 1);
    assert_int_equal(b[1].first, 9);
    assert_int_equal(b[1].ntrials, 5);
    assert_int_equal(b[1].nrungs, 2);
    assert_int_equal(b[1].epochs[0], 3);
    assert_int_equal(b[1].trials[1], 1);
    assert_int_equal(b[2].s, 0);
    assert_int_equal(b[2].ntrials, 3);
    assert_int_equal(b[2].nrungs, 1);
    assert_int_equal(b[2].epochs[0], 9);
    assert_int_equal(b[3].first, 17);
    assert_int_equal(b[3].ntrials, 9);
    assert_int_equal(b[4].first, 26);
    assert_int_equal(b[4].ntrials, 1);      /* the last bracket holds what is left */
    assert_int_equal(b[4].epochs[0], 3);
    nnx_experiment e = *f.e;
    e.prune.kind = NNX_XPRUNE_HALVING;
    assert_int_equal(nnx_plan_brackets(&e, 27, b, 8), 0);
    nnx_plan_free(p);
    fx_done(&f);
}

/* tpe: the first `startup` trials are the random search's draws with the
 * same seed; the rest are proposed while the search runs. */
static void tpe_startup(void **state)
{
    (void)state;
    fx f, g;
    nnx_plan *p = plan_of(&f, "search tpe(trials = 12, seed = 4, startup = 5) { optimizer.lr in loguniform(1e-4, 1) }");
    nnx_plan *q = plan_of(&g, "search random(trials = 12, seed = 4) { optimizer.lr in loguniform(1e-4, 1) }");
    assert_int_equal(p->kind, NNX_PLAN_RANDOM);
    assert_int_equal(p->ntrials, 12);
    assert_int_equal(p->proposed_from, 5);
    assert_int_equal(q->proposed_from, 12);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(p->trials[i].name, q->trials[i].name);
    assert_int_equal(f.e->search.lag, 2);
    assert_int_equal(f.e->search.startup, 5);
    nnx_plan_free(p);
    nnx_plan_free(q);
    fx_done(&f);
    fx_done(&g);
}

/* tpe: the startup draws of a list space do not repeat a point while
 * another is left (random search's draws may); 4 draws of 2 x 2 points are
 * the 4 points. */
static void tpe_startup_distinct(void **state)
{
    (void)state;
    fx f, g;
    const char *space = "{ optimizer.lr in [1e-3, 1e-2]  batch in [16, 32] }";
    char body[256];
    snprintf(body, sizeof body, "search tpe(trials = 4, seed = 2, startup = 4) %s", space);
    nnx_plan *p = plan_of(&f, body);
    snprintf(body, sizeof body, "search random(trials = 4, seed = 2) %s", space);
    nnx_plan *q = plan_of(&g, body);
    size_t repeats = 0;     /* a repeated point is named as the first, with _2 */
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < i; j++) {
            assert_false(!strncmp(p->trials[i].name, p->trials[j].name, strlen(p->trials[j].name)));
            repeats += !strncmp(q->trials[i].name, q->trials[j].name, strlen(q->trials[j].name));
        }
    assert_true(repeats > 0);     /* the random draws of this seed do repeat one: the case is tested */
    nnx_plan_free(p);
    nnx_plan_free(q);
    fx_done(&f);
    fx_done(&g);
}

static void ensemble(void **state)
{
    (void)state;
    fx f;
    nnx_plan *p = plan_of(&f, "ensemble { seeds = [3, 1, 4] }");
    assert_int_equal(p->kind, NNX_PLAN_ENSEMBLE);
    assert_int_equal(p->ntrials, 3);
    assert_string_equal(p->trials[2].name, "seed=4");
    assert_string_equal(p->trials[2].ov[0].path, "seed");
    assert_string_equal(p->trials[2].ov[0].value, "4");
    nnx_plan_free(p);
    fx_done(&f);
    p = plan_of(&f, "ensemble.seeds = 2");
    assert_int_equal(p->ntrials, 2);
    assert_string_equal(p->trials[1].name, "seed=2");
    nnx_plan_free(p);
    fx_done(&f);
}

static void staged(void **state)
{
    (void)state;
    fx f;
    nnx_plan *p = plan_of(&f, "search staged { optimizer.lr in decades(1e-4, 1e-2)  epochs in [10, 20]\n"
                              " batch in [32, 64, 128] }");
    assert_int_equal(p->kind, NNX_PLAN_STAGED);
    assert_int_equal(p->ntrials, 0);
    assert_int_equal(p->nstages, 3);
    assert_string_equal(p->stages[1].path, "epochs");
    assert_string_equal(p->stages[1].values[1], "20");
    size_t n;
    nnx_trial *t = nnx_plan_stage(p, 0, NULL, &n);
    assert_int_equal(n, 3);
    assert_string_equal(t[2].name, "lr=0.01");
    nnx_trials_free(t, n);
    size_t kept[] = { 1, 0 };
    t = nnx_plan_stage(p, 2, kept, &n);
    assert_int_equal(n, 3);
    assert_int_equal(t[0].nov, 3);
    assert_string_equal(t[0].ov[0].value, "0.001");
    assert_string_equal(t[0].ov[1].value, "10");
    assert_string_equal(t[2].name, "lr=0.001_epochs=10_batch=128");
    nnx_experiment *e = nnx_check_experiment(f.c, "x", t[2].ov, t[2].nov, &f.d);
    assert_non_null(e);
    assert_int_equal(e->batch, 128);
    assert_int_equal(e->epochs, 10);
    nnx_experiment_free(e);
    nnx_trials_free(t, n);
    assert_null(nnx_plan_stage(p, 3, kept, &n));
    assert_int_equal(n, 0);
    nnx_plan_free(p);
    fx_done(&f);
}

static void too_many_trials(void **state)
{
    (void)state;
    fx f;
    assert_null(fx_check(&f, TOY "experiment x { data = toy model = net\n"
                                 " search grid { batch in range(1, 1001)  epochs in range(1, 1001) } }", "x"));
    assert_true(fx_has(&f, "the search asks for 1000000 trials, more than 100000"));
    fx_done(&f);
    assert_null(fx_check(&f, TOY "experiment x { data = toy model = net\n"
                                 " search random(trials = 200000) { batch in [8] } }", "x"));
    assert_true(fx_has(&f, "the search asks for 200000 trials"));
    fx_done(&f);
    /* the planner refuses on its own too */
    nnx_experiment *e = fx_check(&f, TOY "experiment x { data = toy model = net search grid { batch in [8, 16] } }", "x");
    assert_non_null(e);
    e->search.axes[0].nvalues = 200000;     /* as if it had that many */
    char **saved = e->search.axes[0].values;
    char *err = NULL;
    assert_null(nnx_plan_make(e, &err));
    assert_non_null(strstr(err, "200000 trials"));
    free(err);
    e->search.axes[0].nvalues = 2;
    e->search.axes[0].values = saved;
    fx_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single),
        cmocka_unit_test(grid),
        cmocka_unit_test(grid_names_with_calls),
        cmocka_unit_test(same_last_part),
        cmocka_unit_test(random_search),
        cmocka_unit_test(random_seed_defaults_to_experiment_seed),
        cmocka_unit_test(halving_rungs), cmocka_unit_test(hyperband_brackets), cmocka_unit_test(tpe_startup),
        cmocka_unit_test(tpe_startup_distinct),
        cmocka_unit_test(ensemble),
        cmocka_unit_test(staged),
        cmocka_unit_test(too_many_trials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
