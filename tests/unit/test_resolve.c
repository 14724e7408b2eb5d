/* test_resolve.c — imports are found in the right order, loaded once; cycles and duplicates are errors. */
#define _XOPEN_SOURCE 700       /* mkdtemp, open_memstream */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnx/resolve.h"

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(f);
    fclose(m);
    return buf;
}

static char *diags_text(const nnx_diags *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    nnx_diags_print(d, m, false);
    fclose(m);
    return buf;
}

/* Every .nnx file in tests/golden/resolve loads with exactly the messages in its .err. */
static void golden_files(void **state)
{
    (void)state;
    const char *root = getenv("NNX_ROOT");
    assert_int_equal(chdir(root ? root : "."), 0);
    DIR *dir = opendir("tests/golden/resolve");
    assert_non_null(dir);
    int cases = 0, failures = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".nnx"))
            continue;
        char path[1024], errpath[1024];
        snprintf(path, sizeof path, "tests/golden/resolve/%s", de->d_name);
        snprintf(errpath, sizeof errpath, "tests/golden/resolve/%.*s.err", (int)(n - 4), de->d_name);
        nnx_load_opts opts = { "tests/golden/resolve/lib", "" };
        nnx_diags d = {0};
        nnx_program *p = nnx_program_load(path, &opts, &d);
        assert_non_null(p);
        char *got = diags_text(&d), *want = read_all(errpath);
        if (!want || strcmp(got, want)) {
            fprintf(stderr, "MISMATCH %s\n--- want\n%s--- got\n%s", path, want ? want : "(no .err)\n", got);
            failures++;
        }
        free(got);
        free(want);
        nnx_program_free(p);
        nnx_diags_free(&d);
        cases++;
    }
    closedir(dir);
    assert_true(cases >= 8);
    assert_int_equal(failures, 0);
}

static void forward_references_and_lookup(void **state)
{
    (void)state;
    nnx_diags d = {0};
    nnx_source *src = nnx_source_from_string("mem.nnx",
        "experiment e { model = net  data = toy }\n"
        "network net { dense(k) }\n"
        "data toy { train = blobs() }\n"
        "let k = 3\n");
    nnx_program *p = nnx_program_from_source(src, NULL, &d);
    assert_non_null(p);
    assert_int_equal(d.nerrors, 0);
    assert_int_equal(p->nfiles, 1);
    assert_int_equal(p->nnames, 4);
    for (size_t i = 1; i < p->nnames; i++)
        assert_true(strcmp(p->names[i - 1]->name, p->names[i]->name) < 0);
    assert_int_equal(nnx_program_lookup(p, "net")->kind, NNX_I_NETWORK);
    assert_int_equal(nnx_program_lookup(p, "toy")->kind, NNX_I_DATA);
    assert_int_equal(nnx_program_lookup(p, "k")->kind, NNX_I_LET);
    assert_int_equal(nnx_program_lookup(p, "e")->kind, NNX_I_EXPERIMENT);
    assert_null(nnx_program_lookup(p, "nope"));
    assert_null(nnx_program_lookup(p, ""));
    nnx_program_free(p);
    nnx_diags_free(&d);
}

/* Beside the importing file, then NNX_PATH in order, then the stdlib. */
static void search_order(void **state)
{
    (void)state;
    char base[] = "/tmp/nnx-resolve-XXXXXX";
    assert_non_null(mkdtemp(base));
    char proj[4200], p1[4200], p2[4200], std[4200], nnx_path[9000];
    snprintf(proj, sizeof proj, "%s/proj", base);
    snprintf(p1, sizeof p1, "%s/p1", base);
    snprintf(p2, sizeof p2, "%s/p2", base);
    snprintf(std, sizeof std, "%s/std", base);
    const char *dirs[] = { proj, p1, p2, std };
    for (int i = 0; i < 4; i++)
        assert_int_equal(mkdir(dirs[i], 0700), 0);
    snprintf(nnx_path, sizeof nnx_path, "%s::%s", p1, p2);   /* an empty entry is skipped */
    write_file(proj, "main.nnx", "import \"a.nnx\"\nimport \"b.nnx\"\nimport \"c.nnx\"\n");
    write_file(proj, "a.nnx", "let a_beside = 1\n");
    write_file(p1, "a.nnx", "let a_p1 = 1\n");
    write_file(p1, "b.nnx", "let b_p1 = 1\n");
    write_file(p2, "b.nnx", "let b_p2 = 1\n");
    write_file(p2, "c.nnx", "let c_p2 = 1\n");
    write_file(std, "c.nnx", "let c_std = 1\n");
    write_file(std, "d.nnx", "let d_std = 1\n");

    char main_path[4300];
    snprintf(main_path, sizeof main_path, "%s/main.nnx", proj);
    nnx_load_opts opts = { std, nnx_path };
    nnx_diags d = {0};
    nnx_program *p = nnx_program_load(main_path, &opts, &d);
    assert_non_null(p);
    assert_int_equal(d.nerrors, 0);
    assert_int_equal(p->nfiles, 4);
    assert_non_null(nnx_program_lookup(p, "a_beside"));
    assert_non_null(nnx_program_lookup(p, "b_p1"));
    assert_non_null(nnx_program_lookup(p, "c_p2"));
    assert_null(nnx_program_lookup(p, "a_p1"));
    assert_null(nnx_program_lookup(p, "c_std"));
    nnx_program_free(p);

    /* Only the stdlib has it. */
    write_file(proj, "main.nnx", "import \"d.nnx\"\n");
    p = nnx_program_load(main_path, &opts, &d);
    assert_int_equal(d.nerrors, 0);
    assert_non_null(nnx_program_lookup(p, "d_std"));
    nnx_program_free(p);
    nnx_diags_free(&d);

    /* NNX_PATH from the environment when the options leave it out. */
    write_file(proj, "main.nnx", "import \"b.nnx\"\n");
    setenv("NNX_PATH", p2, 1);
    opts.nnx_path = NULL;
    p = nnx_program_load(main_path, &opts, &d);
    assert_int_equal(d.nerrors, 0);
    assert_non_null(nnx_program_lookup(p, "b_p2"));
    nnx_program_free(p);
    nnx_diags_free(&d);
    unsetenv("NNX_PATH");

    const char *files[] = { "proj/main.nnx", "proj/a.nnx", "p1/a.nnx", "p1/b.nnx", "p2/b.nnx",
                            "p2/c.nnx", "std/c.nnx", "std/d.nnx" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4300];
        snprintf(path, sizeof path, "%s/%s", base, files[i]);
        unlink(path);
    }
    for (int i = 0; i < 4; i++)
        rmdir(dirs[i]);
    rmdir(base);
}

/* With no stdlib given, stdlib/ beside the binary is used (a build tree). */
static void stdlib_beside_the_binary(void **state)
{
    (void)state;
    unsetenv("NNX_STDLIB");     /* the test runner sets it for build/san/nnx */
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    char lib[4200], std[4300];
    snprintf(lib, sizeof lib, "%s/stdlib", exe);
    snprintf(std, sizeof std, "%s/std", lib);
    bool made_lib = mkdir(lib, 0700) == 0;
    bool made_std = mkdir(std, 0700) == 0;
    write_file(std, "resolve_test.nnx", "let from_beside = 1\n");

    nnx_load_opts opts = { NULL, "" };
    nnx_diags d = {0};
    nnx_source *src = nnx_source_from_string("/nonexistent/main.nnx", "import \"std/resolve_test.nnx\"\n");
    nnx_program *p = nnx_program_from_source(src, &opts, &d);
    assert_int_equal(d.nerrors, 0);
    assert_non_null(nnx_program_lookup(p, "from_beside"));
    nnx_program_free(p);
    nnx_diags_free(&d);

    char file[4400];
    snprintf(file, sizeof file, "%s/resolve_test.nnx", std);
    unlink(file);
    if (made_std)
        rmdir(std);
    if (made_lib)
        rmdir(lib);
}

/* NNX_STDLIB names the stdlib (the sanitized binary has none beside it), and
 * the program keeps the directory it used, for the Lua modules. */
static void stdlib_from_the_environment(void **state)
{
    (void)state;
    char dir[] = "/tmp/nnx-stdlib-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char std[4200];
    snprintf(std, sizeof std, "%s/std", dir);
    assert_int_equal(mkdir(std, 0700), 0);
    write_file(std, "env_test.nnx", "let from_env = 1\n");
    setenv("NNX_STDLIB", dir, 1);

    nnx_load_opts opts = { NULL, "" };
    nnx_diags d = {0};
    nnx_source *src = nnx_source_from_string("/nonexistent/main.nnx", "import \"std/env_test.nnx\"\n");
    nnx_program *p = nnx_program_from_source(src, &opts, &d);
    assert_int_equal(d.nerrors, 0);
    assert_non_null(nnx_program_lookup(p, "from_env"));
    assert_string_equal(p->stdlib, dir);
    nnx_program_free(p);
    nnx_diags_free(&d);
    unsetenv("NNX_STDLIB");

    char file[4400];
    snprintf(file, sizeof file, "%s/env_test.nnx", std);
    unlink(file);
    rmdir(std);
    rmdir(dir);
}

static void shared_import_loads_once_and_cycles_are_errors(void **state)
{
    (void)state;
    const char *root = getenv("NNX_ROOT");
    assert_int_equal(chdir(root ? root : "."), 0);
    nnx_load_opts opts = { "tests/golden/resolve/lib", "" };
    nnx_diags d = {0};
    nnx_program *p = nnx_program_load("tests/golden/resolve/diamond.nnx", &opts, &d);
    assert_int_equal(d.nerrors, 0);
    assert_int_equal(p->nfiles, 4);     /* diamond, left, base, right: base once */
    assert_int_equal(p->nnames, 5);     /* left, right, w, net, e */
    nnx_program_free(p);

    p = nnx_program_load("tests/golden/resolve/import_cycle.nnx", &opts, &d);
    assert_int_equal(d.nerrors, 1);
    assert_int_equal(p->nfiles, 2);
    assert_int_equal(d.head->level, NNX_ERROR);
    assert_non_null(strstr(d.head->msg, "import cycle"));
    assert_non_null(d.head->next);
    assert_int_equal(d.head->next->level, NNX_NOTE);
    assert_string_equal(d.head->next->loc.src->path, "tests/golden/resolve/import_cycle.nnx");
    /* Both files are still there for the checker, with their names. */
    assert_non_null(nnx_program_lookup(p, "a"));
    assert_non_null(nnx_program_lookup(p, "b"));
    nnx_program_free(p);
    nnx_diags_free(&d);
}

static void duplicates_name_both_places(void **state)
{
    (void)state;
    nnx_diags d = {0};
    nnx_source *src = nnx_source_from_string("dup.nnx",
        "let x = 1\ndata x { train = blobs() }\nexperiment x {}\nlet y = 2\n");
    nnx_program *p = nnx_program_from_source(src, NULL, &d);
    assert_int_equal(d.nerrors, 2);
    assert_int_equal(p->nnames, 2);
    /* The first definition is the one kept. */
    assert_int_equal(nnx_program_lookup(p, "x")->kind, NNX_I_LET);
    int errors = 0, notes = 0;
    for (const nnx_diag *g = d.head; g; g = g->next) {
        int line, col;
        nnx_loc_linecol(g->loc.src, g->loc.begin, &line, &col);
        if (g->level == NNX_ERROR) {
            errors++;
            assert_true(line == 2 || line == 3);
            assert_string_equal(g->msg, "'x' is already defined");
        } else {
            notes++;
            assert_int_equal(line, 1);
            assert_string_equal(g->msg, "first defined here");
        }
    }
    assert_int_equal(errors, 2);
    assert_int_equal(notes, 2);
    nnx_program_free(p);
    nnx_diags_free(&d);
}

static void unreadable_root_still_returns_a_program(void **state)
{
    (void)state;
    nnx_diags d = {0};
    nnx_program *p = nnx_program_load("/nonexistent/x.nnx", NULL, &d);
    assert_non_null(p);
    assert_int_equal(p->nfiles, 0);
    assert_int_equal(d.nerrors, 1);
    assert_null(d.head->loc.src);
    assert_null(nnx_program_lookup(p, "x"));
    nnx_program_free(p);
    nnx_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_files),
        cmocka_unit_test(forward_references_and_lookup),
        cmocka_unit_test(search_order),
        cmocka_unit_test(stdlib_beside_the_binary),
        cmocka_unit_test(stdlib_from_the_environment),
        cmocka_unit_test(shared_import_loads_once_and_cycles_are_errors),
        cmocka_unit_test(duplicates_name_both_places),
        cmocka_unit_test(unreadable_root_still_returns_a_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
