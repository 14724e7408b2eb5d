/* test_diag_corpus.c — the diagnosis on labelled corpora of real runs: the tuning one all right, the held-out one as measured.
 *
 * tests/fixtures/diag/corpus.csv (the runs the thresholds were tuned on) and
 * heldout.csv (runs made afterwards, to measure them) list each case, the
 * experiment it ran (tests/fixtures/diag/exps/) and the fault planted in it;
 * runs/CASE/ keeps what `nnx run` wrote (tests/tools/make_diag_corpus.py
 * regenerates them).
 * The test reads each run back as `nnx diagnose` does and prints per-rule
 * precision and per-fault recall (the tables in docs/diagnosis.md).  On the
 * tuning corpus it fails when a planted fault draws none of the rules that
 * name it, when a healthy run draws a warning, or when a rule fires on a
 * case whose fault it does not name; on the held-out one when there are more
 * such failures than measured. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/diagnose.h"
#include "nnx/rundir.h"

/* Which rules name each fault (a finding of any of them is a hit). */
static const struct {
    const char *fault;
    nnx_rule    rules[3];
    int         nrules;
} faults[] = {
    { "healthy",         { 0 }, 0 },
    { "lr-too-small",    { NNX_RULE_LR_TOO_SMALL }, 1 },
    { "lr-too-large",    { NNX_RULE_NOISY_STEPS, NNX_RULE_NOISY_EPOCHS }, 2 },
    { "diverged",        { NNX_RULE_DIVERGED }, 1 },
    { "stuck",           { NNX_RULE_STUCK, NNX_RULE_DIVERGED }, 2 },
    { "too-few-epochs",  { NNX_RULE_STILL_IMPROVING }, 1 },
    { "batch-too-small", { NNX_RULE_NOISY_STEPS, NNX_RULE_NOISY_EPOCHS }, 2 },
    { "overfitting",     { NNX_RULE_OVERFITTING }, 1 },
    { "regularisation",  { NNX_RULE_OVER_REGULARISED }, 1 },
    { "underfitting",    { NNX_RULE_UNDERFITTING }, 1 },
};
enum { NFAULTS = sizeof faults / sizeof faults[0] };

/* The held-out score as measured (docs/diagnosis.md): at most this many. */
enum { HELDOUT_MAX_FAILURES = 1, HELDOUT_MAX_HEALTHY_WARNED = 0 };

static int fault_index(const char *name)
{
    for (int i = 0; i < NFAULTS; i++)
        if (!strcmp(faults[i].fault, name))
            return i;
    return -1;
}

static bool names(int fault, nnx_rule r)
{
    for (int k = 0; k < faults[fault].nrules; k++)
        if (faults[fault].rules[k] == r)
            return true;
    return false;
}

static void path_of(char *buf, size_t n, const char *tail)
{
    const char *root = getenv("NNX_ROOT");
    snprintf(buf, n, "%s/tests/fixtures/diag/%s", root && root[0] ? root : ".", tail);
}

/* Diagnose every case of CORPUS (a CSV under tests/fixtures/diag/), print
 * per-rule precision and per-fault recall, and count the failures: planted
 * faults that no rule naming them caught, and warnings a case's fault does
 * not explain (every warning on a healthy run).  *healthy_warned: healthy
 * runs with a warning. */
static int score_corpus(const char *corpus, int *healthy_warned)
{
    char path[1024];
    path_of(path, sizeof path, corpus);
    nnx_table t;
    nnx_rt_error err = { { 0 } };
    if (nnx_table_read(path, &t, &err) < 0)
        fail_msg("%s", err.msg);
    int col_case = nnx_table_find(&t, "case"), col_fault = nnx_table_find(&t, "fault");
    assert_true(col_case >= 0 && col_fault >= 0);

    int fired[NNX_RULE_COUNT] = { 0 }, right[NNX_RULE_COUNT] = { 0 };
    int cases[NFAULTS] = { 0 }, hits[NFAULTS] = { 0 };
    int failures = 0;
    *healthy_warned = 0;
    printf("\n%s\n", corpus);
    for (size_t row = 0; row < t.nrows; row++) {
        const char *name = nnx_table_cell(&t, row, (size_t)col_case);
        const char *fault = nnx_table_cell(&t, row, (size_t)col_fault);
        int fi = fault_index(fault);
        if (fi < 0)
            fail_msg("%s:%zu: unknown fault '%s'", corpus, row + 2, fault);
        char tail[300];
        snprintf(tail, sizeof tail, "runs/%s", name);
        path_of(path, sizeof path, tail);
        nnx_run run;
        nnx_curves c;
        nnx_findings f;
        if (nnx_run_read(path, true, &run, &err) < 0 || nnx_run_curves(&run, &c, &err) < 0 ||
            nnx_diagnose(&c, &f, &err) < 0)
            fail_msg("%s: %s", name, err.msg);
        cases[fi]++;
        bool hit = false, warned = false;
        for (size_t i = 0; i < f.n; i++) {
            if (f.items[i].severity == NNX_SEV_INFO)
                continue;
            nnx_rule r = f.items[i].rule;
            fired[r]++;
            warned = true;
            if (names(fi, r)) {
                right[r]++;
                hit = true;
            } else {
                printf("  WRONG  %-26s (%s) drew %s: %s\n", name, fault, nnx_rule_name(r),
                       f.items[i].message);
                failures++;
            }
        }
        if (!faults[fi].nrules && warned)
            ++*healthy_warned;
        if (hit)
            hits[fi]++;
        else if (faults[fi].nrules) {
            printf("  MISSED %-26s (%s)\n", name, fault);
            failures++;
        }
        nnx_run_free(&run);
    }
    printf("\n  %-18s %6s %6s %10s\n", "rule", "fired", "right", "precision");
    for (int r = 0; r < NNX_RULE_COUNT; r++) {
        if (r == NNX_RULE_SELECT_VS_LOSS || r == NNX_RULE_LOSS_VS_METRIC)
            continue;   /* info only: they point out, they do not warn */
        if (fired[r])
            printf("  %-18s %6d %6d %10.2f\n", nnx_rule_name((nnx_rule)r), fired[r], right[r],
                   (double)right[r] / fired[r]);
        else
            printf("  %-18s %6d %6d %10s\n", nnx_rule_name((nnx_rule)r), 0, 0, "-");
    }
    printf("\n  %-16s %6s %6s %8s\n", "fault", "cases", "named", "recall");
    int planted = 0, named = 0;
    for (int i = 0; i < NFAULTS; i++)
        if (faults[i].nrules) {
            printf("  %-16s %6d %6d %8.2f\n", faults[i].fault, cases[i], hits[i],
                   cases[i] ? (double)hits[i] / cases[i] : 0.0);
            planted += cases[i];
            named += hits[i];
        }
    printf("  %-16s %6d %6d  (runs without a warning)\n", "healthy", cases[0],
           cases[0] - *healthy_warned);
    printf("  %-16s %6d %6d %8.2f\n", "all faults", planted, named, planted ? (double)named / planted : 0.0);
    nnx_table_free(&t);
    return failures;
}

/* The corpus the thresholds were tuned on: every case right. */
static void tuning_corpus_names_every_fault(void **state)
{
    (void)state;
    int healthy_warned;
    assert_int_equal(score_corpus("corpus.csv", &healthy_warned), 0);
    assert_int_equal(healthy_warned, 0);
}

/* The held-out corpus, made after the rules were tuned and never used to
 * tune them: its score is what the diagnosis does on runs it has not seen.
 * The test holds it to the score measured (docs/diagnosis.md), so a change
 * that makes it worse fails; a change made to raise it would no longer be
 * held out, and docs/diagnosis.md says which ones were. */
static void heldout_corpus_score(void **state)
{
    (void)state;
    int healthy_warned;
    int failures = score_corpus("heldout.csv", &healthy_warned);
    printf("  held out: %d failures (misses and wrong warnings), %d healthy runs warned\n", failures,
           healthy_warned);
    assert_true(failures <= HELDOUT_MAX_FAILURES);
    assert_true(healthy_warned <= HELDOUT_MAX_HEALTHY_WARNED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tuning_corpus_names_every_fault),
        cmocka_unit_test(heldout_corpus_score),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
