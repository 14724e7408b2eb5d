/* test_mlflow.c — the MLflow file-store layout of a run, experiment reuse, URIs, keys, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include "nnx/mlflow.h"
#include "tmpdir.h"

typedef struct fixture {
    char *dir;                 /* a fresh temporary directory */
    char root[1024];           /* dir/mlruns */
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->dir = tmpdir_make("mlflow");
    *state = fx;
    if (!fx->dir)
        return -1;
    snprintf(fx->root, sizeof fx->root, "%s/mlruns", fx->dir);
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tmpdir_remove(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* --- helpers ---------------------------------------------------------------- */

static void assert_file(const char *want, const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    size_t n;
    char *got = tmpdir_slurp(path, &n);
    if (!got)
        fail_msg("missing file %s", path);
    if (n != strlen(want) || memcmp(got, want, n) != 0)
        fail_msg("%s:\n--- got ---\n%s\n--- want ---\n%s", path, got, want);
    free(got);
}

static int path_is_dir(const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Sorted names in a directory, joined by spaces. */
static void list_dir(const char *path, char *out, size_t cap)
{
    char names[32][256];
    int n = 0;
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) && n < 32)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    closedir(d);
    for (int i = 1; i < n; i++)  /* insertion sort */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[256];
            memcpy(t, names[j], 256);
            memcpy(names[j], names[j - 1], 256);
            memcpy(names[j - 1], t, 256);
        }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat(out, names[i], cap - strlen(out) - 1);
        if (i + 1 < n)
            strncat(out, " ", cap - strlen(out) - 1);
    }
}

static void write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

static nnx_mlflow_run *start(const char *uri, const char *experiment,
                             const char *run_name, nnx_rt_error *err)
{
    nnx_mlflow_start_opts o = {
        .tracking_uri = uri,
        .experiment = experiment,
        .run_name = run_name,
        .source_name = "exp.nnx",
        .user = "alice",
        .start_ms = 1700000000000,
    };
    return nnx_mlflow_start(&o, err);
}

/* A 32-hex run id is written plain unless it could read as a number. */
static const char *yaml_id(const char *id, char *buf, size_t cap)
{
    if (!isalpha((unsigned char)id[0]) && !strpbrk(id, "abcdf"))
        snprintf(buf, cap, "'%s'", id);
    else
        snprintf(buf, cap, "%s", id);
    return buf;
}

/* --- the layout of one run ---------------------------------------------------- */

static void run_layout(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    char uri[1100];
    snprintf(uri, sizeof uri, "file:%s", fx->root);

    /* A fake run directory with nested files, as nnx run leaves it. */
    char rundir[1100];
    snprintf(rundir, sizeof rundir, "%s/runs", fx->dir);
    mkdir(rundir, 0777);
    snprintf(rundir, sizeof rundir, "%s/runs/t1", fx->dir);
    mkdir(rundir, 0777);
    char p[1200];
    snprintf(p, sizeof p, "%s/metrics.csv", rundir);
    write_text(p, "epoch,train.loss\n1,0.5\n");
    snprintf(p, sizeof p, "%s/weights", rundir);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/weights/best.bin", rundir);
    write_text(p, "\x01\x02weights");

    nnx_mlflow_run *run = start(uri, "baseline", "baseline-t1", &err);
    if (!run)
        fail_msg("start: %s", err.msg);
    const char *exp = nnx_mlflow_experiment_id(run);
    const char *id = nnx_mlflow_run_id(run);

    /* Experiment id: 18 digits, no leading zero; run id: UUID4 in hex. */
    assert_int_equal(strlen(exp), 18);
    assert_int_equal(strspn(exp, "0123456789"), 18);
    assert_true(exp[0] != '0');
    assert_int_equal(strlen(id), 32);
    assert_int_equal(strspn(id, "0123456789abcdef"), 32);
    assert_int_equal(id[12], '4');
    assert_non_null(strchr("89ab", id[16]));
    char want_dir[1200];
    snprintf(want_dir, sizeof want_dir, "%s/%s/%s", fx->root, exp, id);
    assert_string_equal(nnx_mlflow_run_dir(run), want_dir);

    /* The store: .trash, Default experiment 0, ours. */
    assert_true(path_is_dir("%s/.trash", fx->root));
    char want[4096], idq[40];
    snprintf(want, sizeof want,
             "artifact_location: file://%s/0\n"
             "creation_time: 1700000000000\n"
             "experiment_id: '0'\n"
             "last_update_time: 1700000000000\n"
             "lifecycle_stage: active\n"
             "name: Default\n", fx->root);
    assert_file(want, "%s/0/meta.yaml", fx->root);
    snprintf(want, sizeof want,
             "artifact_location: file://%s/%s\n"
             "creation_time: 1700000000000\n"
             "experiment_id: '%s'\n"
             "last_update_time: 1700000000000\n"
             "lifecycle_stage: active\n"
             "name: baseline\n", fx->root, exp, exp);
    assert_file(want, "%s/%s/meta.yaml", fx->root, exp);

    /* While running. */
    snprintf(want, sizeof want,
             "artifact_uri: file://%s/%s/%s/artifacts\n"
             "deleted_time: null\n"
             "end_time: null\n"
             "entry_point_name: ''\n"
             "experiment_id: '%s'\n"
             "lifecycle_stage: active\n"
             "run_id: %s\n"
             "run_name: baseline-t1\n"
             "run_uuid: %s\n"
             "source_name: ''\n"
             "source_type: 4\n"
             "source_version: ''\n"
             "start_time: 1700000000000\n"
             "status: 1\n"
             "tags: []\n"
             "user_id: alice\n",
             fx->root, exp, id, exp, yaml_id(id, idq, sizeof idq),
             yaml_id(id, idq, sizeof idq));
    assert_file(want, "%s/meta.yaml", want_dir);

    assert_int_equal(nnx_mlflow_param(run, "optimizer.lr", "0.003", &err), 0);
    assert_int_equal(nnx_mlflow_param(run, "model", "mlp(width = 512)", &err), 0);
    assert_int_equal(nnx_mlflow_tag(run, "nnx.trial", "1", &err), 0);
    for (int epoch = 1; epoch <= 3; epoch++) {
        int64_t ts = 1700000000000 + 1000 * epoch;
        assert_int_equal(nnx_mlflow_metric(run, "train.loss", 1.0 / (1 << epoch),
                                           ts, epoch, &err), 0);
        assert_int_equal(nnx_mlflow_metric(run, "valid/auc", 0.5 + 0.1 * epoch,
                                           ts, epoch, &err), 0);
    }
    assert_int_equal(nnx_mlflow_artifacts(run, rundir, &err), 0);
    assert_int_equal(nnx_mlflow_end(run, NNX_MLFLOW_FINISHED, 1700000005000, &err), 0);

    char names[1024];
    list_dir(want_dir, names, sizeof names);
    assert_string_equal(names, "artifacts meta.yaml metrics params tags");
    list_dir(fx->root, names, sizeof names);
    snprintf(want, sizeof want, ".nnx-lock .trash 0 %s", exp);
    assert_string_equal(names, want);

    snprintf(want, sizeof want,
             "artifact_uri: file://%s/%s/%s/artifacts\n"
             "end_time: 1700000005000\n"
             "entry_point_name: ''\n"
             "experiment_id: '%s'\n"
             "lifecycle_stage: active\n"
             "run_id: %s\n"
             "run_name: baseline-t1\n"
             "run_uuid: %s\n"
             "source_name: ''\n"
             "source_type: 4\n"
             "source_version: ''\n"
             "start_time: 1700000000000\n"
             "status: 3\n"
             "tags: []\n"
             "user_id: alice\n",
             fx->root, exp, id, exp, yaml_id(id, idq, sizeof idq),
             yaml_id(id, idq, sizeof idq));
    assert_file(want, "%s/meta.yaml", want_dir);

    assert_file("0.003", "%s/params/optimizer.lr", want_dir);
    assert_file("mlp(width = 512)", "%s/params/model", want_dir);
    assert_file("1700000001000 0.5 1\n"
                "1700000002000 0.25 2\n"
                "1700000003000 0.125 3\n", "%s/metrics/train.loss", want_dir);
    assert_file("1700000001000 0.6 1\n"
                "1700000002000 0.7 2\n"
                "1700000003000 0.8 3\n",
                "%s/metrics/valid/auc", want_dir);
    assert_file("baseline-t1", "%s/tags/mlflow.runName", want_dir);
    assert_file("alice", "%s/tags/mlflow.user", want_dir);
    assert_file("exp.nnx", "%s/tags/mlflow.source.name", want_dir);
    assert_file("LOCAL", "%s/tags/mlflow.source.type", want_dir);
    assert_file("1", "%s/tags/nnx.trial", want_dir);
    assert_file("epoch,train.loss\n1,0.5\n", "%s/artifacts/metrics.csv", want_dir);
    assert_file("\x01\x02weights", "%s/artifacts/weights/best.bin", want_dir);
    nnx_mlflow_free(run);
}

/* --- experiments are found by name ------------------------------------------- */

static void experiment_reused(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    nnx_mlflow_run *a = start(fx->root, "baseline", "t1", &err);
    nnx_mlflow_run *b = start(fx->root, "baseline", "t2", &err);
    nnx_mlflow_run *c = start(fx->root, "tuned", "t1", &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_string_equal(nnx_mlflow_experiment_id(a), nnx_mlflow_experiment_id(b));
    assert_string_not_equal(nnx_mlflow_run_id(a), nnx_mlflow_run_id(b));
    assert_string_not_equal(nnx_mlflow_experiment_id(a), nnx_mlflow_experiment_id(c));
    nnx_mlflow_free(a);
    nnx_mlflow_free(b);
    nnx_mlflow_free(c);

    /* "Default" is experiment 0. */
    nnx_mlflow_run *d = start(fx->root, "Default", "t", &err);
    assert_non_null(d);
    assert_string_equal(nnx_mlflow_experiment_id(d), "0");
    nnx_mlflow_free(d);

    /* An experiment MLflow wrote (quoted name folded over two lines, another
     * artifact location) is reused with its artifact location; a deleted one
     * of the same name is not. */
    char p[1200];
    snprintf(p, sizeof p, "%s/42", fx->root);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/42/meta.yaml", fx->root);
    char loc[1100];
    snprintf(loc, sizeof loc, "%s/elsewhere", fx->dir);
    char doc[2048];
    snprintf(doc, sizeof doc,
             "artifact_location: file://%s\ncreation_time: 1\n"
             "experiment_id: '42'\nlast_update_time: 1\n"
             "lifecycle_stage: active\nname: 'it''s a long\n  name: #1'\n", loc);
    write_text(p, doc);
    snprintf(p, sizeof p, "%s/43", fx->root);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/43/meta.yaml", fx->root);
    write_text(p, "experiment_id: '43'\nlifecycle_stage: deleted\nname: gone\n");

    nnx_mlflow_run *e = start(fx->root, "it's a long name: #1", "t", &err);
    assert_non_null(e);
    assert_string_equal(nnx_mlflow_experiment_id(e), "42");
    char src[1200];
    snprintf(src, sizeof src, "%s/src", fx->dir);
    mkdir(src, 0777);
    snprintf(p, sizeof p, "%s/src/a.txt", fx->dir);
    write_text(p, "A");
    assert_int_equal(nnx_mlflow_artifacts(e, src, &err), 0);
    assert_file("A", "%s/%s/artifacts/a.txt", loc, nnx_mlflow_run_id(e));
    nnx_mlflow_free(e);

    nnx_mlflow_run *g = start(fx->root, "gone", "t", &err);
    assert_non_null(g);
    assert_string_not_equal(nnx_mlflow_experiment_id(g), "43");
    nnx_mlflow_free(g);

    /* A name that needs quoting and escapes round-trips through meta.yaml. */
    const char *odd = "tab\there 'q' \"dq\" : # é";
    nnx_mlflow_run *h1 = start(fx->root, odd, "t", &err);
    nnx_mlflow_run *h2 = start(fx->root, odd, "t", &err);
    assert_non_null(h1);
    assert_non_null(h2);
    assert_string_equal(nnx_mlflow_experiment_id(h1), nnx_mlflow_experiment_id(h2));
    /* A number-like name is quoted, so YAML reads it back as a string. */
    nnx_mlflow_run *i1 = start(fx->root, "123", "t", &err);
    assert_non_null(i1);
    char meta[1200];
    snprintf(meta, sizeof meta, "%s/%s/meta.yaml", fx->root,
             nnx_mlflow_experiment_id(i1));
    char *text = tmpdir_slurp(meta, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "\nname: '123'\n"));
    free(text);
    nnx_mlflow_free(i1);
    nnx_mlflow_free(h1);
    nnx_mlflow_free(h2);
}

/* Trials started at the same moment by separate processes (nnx run -j N)
 * share one new experiment rather than each creating its own. */
static void parallel_starts_share_one_experiment(void **state)
{
    fixture *fx = *state;
    enum { N = 6 };
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            nnx_rt_error err = {{0}};
            nnx_mlflow_run *run = start(fx->root, "race", "t", &err);
            int ok = run != NULL;
            nnx_mlflow_free(run);
            _exit(ok ? 0 : 1);
        }
    }
    for (int i = 0; i < N; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    /* Exactly one experiment named race, holding all N runs. */
    DIR *d = opendir(fx->root);
    assert_non_null(d);
    int named = 0, runs = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char meta[1400];
        snprintf(meta, sizeof meta, "%s/%s/meta.yaml", fx->root, e->d_name);
        char *text = e->d_name[0] == '.' ? NULL : tmpdir_slurp(meta, NULL);
        if (text && strstr(text, "\nname: race\n")) {
            named++;
            char dir[1400], names[4096];
            snprintf(dir, sizeof dir, "%s/%s", fx->root, e->d_name);
            list_dir(dir, names, sizeof names);
            for (char *p = names; (p = strchr(p, ' ')); p++)
                runs++;  /* names = meta.yaml + N run ids, space-separated */
        }
        free(text);
    }
    closedir(d);
    assert_int_equal(named, 1);
    assert_int_equal(runs, N);
}

/* --- where the store is --------------------------------------------------------- */

static void resolve_root(void **state)
{
    (void)state;
    nnx_rt_error err = {{0}};
    char out[4096], cwd[4096], want[8192];
    assert_non_null(getcwd(cwd, sizeof cwd));

    static const struct {
        const char *uri, *env, *want;
    } abs_cases[] = {
        {"file:/a/b", NULL, "/a/b"},
        {"file:///a/b/", NULL, "/a/b"},
        {"file://localhost/a%20b/c%2Fd", NULL, "/a b/c/d"},
        {"/x//y/./z/", NULL, "/x/y/z"},
        {NULL, "file:/from/env", "/from/env"},
        {"", "/plain/env", "/plain/env"},
        {"/given", "/ignored/env", "/given"},
        {"file:/", NULL, "/"},
    };
    for (size_t i = 0; i < sizeof abs_cases / sizeof abs_cases[0]; i++) {
        if (nnx_mlflow_resolve_root(abs_cases[i].uri, abs_cases[i].env, out,
                                    sizeof out, &err))
            fail_msg("%s: %s", abs_cases[i].uri, err.msg);
        assert_string_equal(out, abs_cases[i].want);
    }
    assert_int_equal(nnx_mlflow_resolve_root(NULL, NULL, out, sizeof out, &err), 0);
    snprintf(want, sizeof want, "%s/mlruns", strcmp(cwd, "/") ? cwd : "");
    assert_string_equal(out, want);
    assert_int_equal(nnx_mlflow_resolve_root("", "", out, sizeof out, &err), 0);
    assert_string_equal(out, want);
    assert_int_equal(nnx_mlflow_resolve_root("rel/./store", NULL, out, sizeof out, &err), 0);
    snprintf(want, sizeof want, "%s/rel/store", strcmp(cwd, "/") ? cwd : "");
    assert_string_equal(out, want);
    assert_int_equal(nnx_mlflow_resolve_root("file:rel", NULL, out, sizeof out, &err), 0);
    snprintf(want, sizeof want, "%s/rel", strcmp(cwd, "/") ? cwd : "");
    assert_string_equal(out, want);

    static const char *bad[] = {
        "http://localhost:5000", "https://mlflow.example", "databricks",
        "sqlite:///mlflow.db", "postgresql://u@h/db", "file://otherhost/x",
        "file:", "file://",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        assert_int_equal(nnx_mlflow_resolve_root(bad[i], NULL, out, sizeof out, &err), -1);
        assert_true(strlen(err.msg) > 0);
    }
    /* An environment URI that is remote is refused too, and a path that does
     * not fit the output. */
    assert_int_equal(nnx_mlflow_resolve_root(NULL, "http://h:5000", out, sizeof out, &err), -1);
    assert_non_null(strstr(err.msg, "not a local file store"));
    char small[8];
    assert_int_equal(nnx_mlflow_resolve_root("/a/long/path", NULL, small, sizeof small, &err), -1);
    assert_non_null(strstr(err.msg, "too long"));
}

static void sanitize_keys(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"valid.auc", "valid.auc"},
        {"train/loss", "train/loss"},
        {"lr x-1_0", "lr x-1_0"},
        {"a:b|c", "a_b_c"},
        {"/lead//trail/", "lead/trail"},
        {"../x", "__/x"},
        {"./x/.", "_/x/_"},
        {"a/../b", "a/__/b"},
        {"..a", "..a"},
        {"", "_"},
        {"///", "_"},
        {"\xc3\xa9t\xc3\xa9", "__t__"},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nnx_mlflow_sanitize_key(cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].want);
    }
    nnx_mlflow_sanitize_key(NULL, out, sizeof out);
    assert_string_equal(out, "_");
    char longkey[400];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    nnx_mlflow_sanitize_key(longkey, out, sizeof out);
    assert_int_equal(strlen(out), 250);
    char tiny[4];
    nnx_mlflow_sanitize_key("abcdef", tiny, sizeof tiny);
    assert_string_equal(tiny, "abc");
    nnx_mlflow_sanitize_key("a/", tiny, 2);
    assert_string_equal(tiny, "a");
}

/* --- values ----------------------------------------------------------------------- */

static void metric_values_and_params(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    nnx_mlflow_run *run = start(fx->root, "values", "t", &err);
    assert_non_null(run);
    const char *dir = nnx_mlflow_run_dir(run);
    assert_int_equal(nnx_mlflow_metric(run, "m", 0.1, 5, 0, &err), 0);
    assert_int_equal(nnx_mlflow_metric(run, "m", 1.0 / 3.0, 6, -1, &err), 0);
    assert_int_equal(nnx_mlflow_metric(run, "m", NAN, 7, 1LL << 40, &err), 0);
    assert_int_equal(nnx_mlflow_metric(run, "m", -INFINITY, 8, 2, &err), 0);
    assert_int_equal(nnx_mlflow_metric(run, "m", 1e-300, 9, 3, &err), 0);
    assert_int_equal(nnx_mlflow_metric(run, "m", -2.5e10, 10, 4, &err), 0);
    assert_file("5 0.1 0\n"
                "6 0.3333333333333333 -1\n"
                "7 nan 1099511627776\n"
                "8 -inf 2\n"
                "9 1e-300 3\n"
                "10 -25000000000 4\n", "%s/metrics/m", dir);
    /* Sanitised keys land where MLflow would look. */
    assert_int_equal(nnx_mlflow_metric(run, "odd:key", 1, 1, 1, &err), 0);
    assert_file("1 1 1\n", "%s/metrics/odd_key", dir);

    /* Params are immutable: the same value again is fine, another is not. */
    assert_int_equal(nnx_mlflow_param(run, "seed", "1", &err), 0);
    assert_int_equal(nnx_mlflow_param(run, "seed", "1", &err), 0);
    assert_int_equal(nnx_mlflow_param(run, "seed", "2", &err), -1);
    assert_non_null(strstr(err.msg, "seed"));
    assert_file("1", "%s/params/seed", dir);
    assert_int_equal(nnx_mlflow_param(run, "empty", NULL, &err), 0);
    assert_file("", "%s/params/empty", dir);
    /* Tags can change. */
    assert_int_equal(nnx_mlflow_tag(run, "note", "a", &err), 0);
    assert_int_equal(nnx_mlflow_tag(run, "note", "b", &err), 0);
    assert_file("b", "%s/tags/note", dir);

    assert_int_equal(nnx_mlflow_end(run, 0, 1, &err), -1);
    assert_int_equal(nnx_mlflow_end(run, 6, 1, &err), -1);
    assert_int_equal(nnx_mlflow_end(run, NNX_MLFLOW_FAILED, 1700000009000, &err), 0);
    char meta[1200];
    snprintf(meta, sizeof meta, "%s/meta.yaml", dir);
    size_t n;
    char *text = tmpdir_slurp(meta, &n);
    assert_non_null(strstr(text, "\nstatus: 4\n"));
    assert_non_null(strstr(text, "\nend_time: 1700000009000\n"));
    free(text);
    nnx_mlflow_free(run);
    nnx_mlflow_free(NULL);
    assert_true(nnx_mlflow_now_ms() > 1600000000000LL);
}

static void store_inside_run_dir_is_not_copied(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    char root[1200], p[1300];
    snprintf(root, sizeof root, "%s/mlruns", fx->dir);
    snprintf(p, sizeof p, "%s/log.txt", fx->dir);
    write_text(p, "hello");
    snprintf(p, sizeof p, "%s/link", fx->dir);
    assert_int_equal(symlink("/etc/hostname", p), 0);
    nnx_mlflow_run *run = start(root, "self", "t", &err);
    assert_non_null(run);
    assert_int_equal(nnx_mlflow_artifacts(run, fx->dir, &err), 0);
    char names[1024];
    snprintf(p, sizeof p, "%s/artifacts", nnx_mlflow_run_dir(run));
    list_dir(p, names, sizeof names);
    assert_string_equal(names, "log.txt");
    assert_int_equal(nnx_mlflow_artifacts(run, "/nonexistent/dir", &err), -1);
    assert_non_null(strstr(err.msg, "not a directory"));
    nnx_mlflow_free(run);
}

/* --- bad stores ------------------------------------------------------------------- */

static void bad_root_is_an_error(void **state)
{
    fixture *fx = *state;
    nnx_rt_error err = {{0}};
    char p[1200];

    /* The root is a file. */
    snprintf(p, sizeof p, "%s/file", fx->dir);
    write_text(p, "x");
    assert_null(start(p, "e", "t", &err));
    assert_non_null(strstr(err.msg, "not a directory"));

    /* The root would be under a file. */
    snprintf(p, sizeof p, "%s/file/mlruns", fx->dir);
    err.msg[0] = '\0';
    assert_null(start(p, "e", "t", &err));
    assert_non_null(strstr(err.msg, "cannot create directory"));

    /* A file system nobody may write, root included. */
    err.msg[0] = '\0';
    assert_null(start("/proc/nnx-mlruns-test", "e", "t", &err));
    assert_non_null(strstr(err.msg, "/proc/nnx-mlruns-test"));

    /* A read-only directory, when permissions apply to us. */
    if (geteuid() != 0) {
        snprintf(p, sizeof p, "%s/ro", fx->dir);
        mkdir(p, 0555);
        snprintf(p, sizeof p, "%s/ro/mlruns", fx->dir);
        assert_null(start(p, "e", "t", &err));
    }

    /* A remote tracking URI and missing names. */
    assert_null(start("http://localhost:5000", "e", "t", &err));
    assert_non_null(strstr(err.msg, "not a local file store"));
    assert_null(start(fx->root, "", "t", &err));
    assert_non_null(strstr(err.msg, "experiment"));
    assert_null(start(fx->root, "e", NULL, &err));
    assert_null(nnx_mlflow_start(NULL, &err));
    /* A .trash that is a file. */
    snprintf(p, sizeof p, "%s/store2", fx->dir);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/store2/.trash", fx->dir);
    write_text(p, "");
    snprintf(p, sizeof p, "%s/store2", fx->dir);
    assert_null(start(p, "e", "t", &err));
    assert_non_null(strstr(err.msg, ".trash"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(run_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(experiment_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(parallel_starts_share_one_experiment, setup, teardown),
        cmocka_unit_test(resolve_root),
        cmocka_unit_test(sanitize_keys),
        cmocka_unit_test_setup_teardown(metric_values_and_params, setup, teardown),
        cmocka_unit_test_setup_teardown(store_inside_run_dir_is_not_copied, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_root_is_an_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
