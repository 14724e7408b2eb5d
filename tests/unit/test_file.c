/* test_file.c — whole files: writes through a temporary land whole and leave no temporary on
 * success, failure or abort; appended rows that cannot be written are cut off again; reads
 * return every byte, refuse what is too large; errors say which file; paths join and mkdir -p
 * makes every level or says what is in the way. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/util/file.h"
#include "tmpdir.h"

/* How many entries dir holds besides . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void expect_file(const char *path, const char *want)
{
    size_t n;
    char *got = tmpdir_slurp(path, &n);
    assert_non_null(got);
    assert_int_equal(n, strlen(want));
    assert_string_equal(got, want);
    free(got);
}

static void write_replaces_whole_and_leaves_nothing(void **state)
{
    (void)state;
    static const int flags[] = { 0, NNX_FILE_UNIQUE, NNX_FILE_SYNC, NNX_FILE_UNIQUE | NNX_FILE_SYNC };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        char *dir = tmpdir_make("file");
        assert_non_null(dir);
        char path[300];
        snprintf(path, sizeof path, "%s/a.txt", dir);
        nnx_rt_error err = {{0}};
        assert_int_equal(nnx_file_write(path, "first, longer\n", 14, flags[i], &err), 0);
        expect_file(path, "first, longer\n");
        assert_int_equal(nnx_file_write(path, "second\n", 7, flags[i], &err), 0);
        expect_file(path, "second\n");
        assert_int_equal(nnx_file_write(path, "", 0, flags[i], &err), 0);
        expect_file(path, "");
        assert_int_equal(entries(dir), 1);
        tmpdir_remove(dir);
        free(dir);
    }
}

static void temporary_names(void **state)
{
    (void)state;
    char *dir = tmpdir_make("file");
    assert_non_null(dir);
    char path[300], base[300], want[320];
    snprintf(path, sizeof path, "%s/b.csv", dir);
    nnx_rt_error err = {{0}};
    nnx_file_out out;

    assert_int_equal(nnx_file_begin(&out, path, NULL, 0, &err), 0);
    snprintf(want, sizeof want, "%s.tmp", path);
    assert_string_equal(out.tmp, want);
    assert_string_equal(out.path, path);
    fputs("fixed", out.f);
    assert_int_equal(nnx_file_commit(&out, &err), 0);
    assert_null(out.f);
    expect_file(path, "fixed");

    snprintf(base, sizeof base, "%s/.hidden", dir);
    assert_int_equal(nnx_file_begin(&out, path, base, NNX_FILE_UNIQUE, &err), 0);
    assert_int_equal(strncmp(out.tmp, base, strlen(base)), 0);
    assert_int_equal(strlen(out.tmp), strlen(base) + strlen(".tmp.XXXXXX"));
    assert_memory_equal(out.tmp + strlen(base), ".tmp.", 5);
    assert_int_equal(access(out.tmp, F_OK), 0);
    struct stat st;
    assert_int_equal(stat(out.tmp, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);   /* mkstemp's mode until the caller changes it */
    fputs("unique", out.f);
    assert_int_equal(nnx_file_commit(&out, &err), 0);
    expect_file(path, "unique");
    assert_int_equal(entries(dir), 1);
    tmpdir_remove(dir);
    free(dir);
}

static void abort_leaves_the_old_file(void **state)
{
    (void)state;
    char *dir = tmpdir_make("file");
    assert_non_null(dir);
    char path[300];
    snprintf(path, sizeof path, "%s/c.json", dir);
    nnx_rt_error err = {{0}};
    assert_int_equal(nnx_file_write(path, "old", 3, 0, &err), 0);
    for (int unique = 0; unique < 2; unique++) {
        nnx_file_out out;
        assert_int_equal(nnx_file_begin(&out, path, NULL, unique ? NNX_FILE_UNIQUE : 0, &err), 0);
        fputs("half of the ne", out.f);
        nnx_file_abort(&out);
        assert_null(out.tmp);
        expect_file(path, "old");
        assert_int_equal(entries(dir), 1);
    }
    tmpdir_remove(dir);
    free(dir);
}

static void errors_name_the_file(void **state)
{
    (void)state;
    char *dir = tmpdir_make("file");
    assert_non_null(dir);
    char path[300];
    nnx_rt_error err = {{0}};

    snprintf(path, sizeof path, "%s/none/d.txt", dir);   /* no such directory */
    for (int unique = 0; unique < 2; unique++) {
        assert_int_equal(nnx_file_write(path, "x", 1, unique ? NNX_FILE_UNIQUE : 0, &err), -1);
        assert_non_null(strstr(err.msg, "cannot create"));
        assert_non_null(strstr(err.msg, "/none/d.txt.tmp"));
    }

    snprintf(path, sizeof path, "%s/sub", dir);          /* a directory is in the way */
    assert_int_equal(mkdir(path, 0777), 0);
    char inner[320];
    snprintf(inner, sizeof inner, "%s/keep", path);
    assert_int_equal(nnx_file_write(inner, "k", 1, 0, &err), 0);
    assert_int_equal(nnx_file_write(path, "x", 1, NNX_FILE_UNIQUE, &err), -1);
    assert_non_null(strstr(err.msg, "/sub: cannot write: it is a directory"));
    assert_int_equal(entries(dir), 1);                   /* no temporary made */

    if (access("/dev/full", W_OK) == 0) {                /* the disk is full */
        /* a device is written in place: a rename would replace it */
        assert_int_equal(nnx_file_write("/dev/full", "x", 1, 0, &err), -1);
        assert_non_null(strstr(err.msg, "/dev/full: cannot write: No space left on device"));
        struct stat st;
        assert_int_equal(stat("/dev/full", &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(access("/dev/full.tmp", F_OK), -1);
        snprintf(path, sizeof path, "%s/full.txt", dir);
        nnx_file_out out;
        assert_int_equal(nnx_file_begin(&out, path, NULL, 0, &err), 0);
        fclose(out.f);
        out.f = fopen("/dev/full", "wb");
        assert_non_null(out.f);
        fputs("lost", out.f);
        char tmp[320];
        snprintf(tmp, sizeof tmp, "%s", out.tmp);
        assert_int_equal(nnx_file_commit(&out, &err), -1);
        assert_non_null(strstr(err.msg, "cannot write"));
        assert_int_equal(access(tmp, F_OK), -1);
    }
    tmpdir_remove(dir);
    free(dir);
}

static void read_returns_every_byte(void **state)
{
    (void)state;
    char *dir = tmpdir_make("file");
    assert_non_null(dir);
    char path[300];
    snprintf(path, sizeof path, "%s/big.bin", dir);
    size_t n = 3 * 4096 + 17;                 /* several growths, odd end, NUL bytes inside */
    char *want = malloc(n);
    assert_non_null(want);
    for (size_t i = 0; i < n; i++)
        want[i] = (char)(i * 7 % 251);
    nnx_rt_error err = {{0}};
    assert_int_equal(nnx_file_write(path, want, n, 0, &err), 0);
    size_t len = 0;
    char *got = nnx_file_read(path, 0, &len, &err);
    assert_non_null(got);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
    assert_int_equal(got[n], '\0');
    free(got);

    got = nnx_file_read(path, n, &len, &err);    /* exactly max bytes is allowed */
    assert_non_null(got);
    assert_int_equal(len, n);
    free(got);
    errno = 0;
    assert_null(nnx_file_read(path, n - 1, &len, &err));
    assert_int_equal(errno, EFBIG);
    assert_non_null(strstr(err.msg, "big.bin: larger than"));

    assert_int_equal(nnx_file_write(path, "", 0, 0, &err), 0);
    got = nnx_file_read(path, 0, NULL, &err);
    assert_non_null(got);
    assert_string_equal(got, "");
    free(got);

    snprintf(path, sizeof path, "%s/missing", dir);
    errno = 0;
    assert_null(nnx_file_read(path, 0, &len, &err));
    assert_int_equal(errno, ENOENT);
    char msg[400];
    snprintf(msg, sizeof msg, "%s: cannot open: %s", path, strerror(ENOENT));
    assert_string_equal(err.msg, msg);

    if (access("/dev/zero", R_OK) == 0) {        /* endless input stops at max */
        assert_null(nnx_file_read("/dev/zero", 100000, &len, &err));
        assert_int_equal(errno, EFBIG);
    }
    snprintf(path, sizeof path, "%s", dir);       /* a directory cannot be read */
    assert_null(nnx_file_read(path, 0, &len, &err));
    assert_non_null(strstr(err.msg, dir));
    free(want);
    tmpdir_remove(dir);
    free(dir);
}

static void paths_join_and_mkdirs(void **state)
{
    (void)state;
    char *j = nnx_path_join("runs/a", "summary.json");
    assert_string_equal(j, "runs/a/summary.json");
    free(j);
    j = nnx_path_join("", "x");
    assert_string_equal(j, "/x");
    free(j);

    char *dir = tmpdir_make("file");
    assert_non_null(dir);
    char path[300];
    nnx_rt_error err = {{0}};
    snprintf(path, sizeof path, "%s/a/b//c/", dir);
    assert_int_equal(nnx_mkdirs(path, &err), 0);
    assert_int_equal(nnx_mkdirs(path, &err), 0);        /* already there */
    struct stat st;
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    snprintf(path, sizeof path, "%s/a/f", dir);
    assert_int_equal(nnx_file_write(path, "x", 1, 0, &err), 0);
    assert_int_equal(nnx_mkdirs(path, &err), -1);        /* the last name is a file */
    char want[400];
    snprintf(want, sizeof want, "%s: cannot create directory: a file is in the way", path);
    assert_string_equal(err.msg, want);
    snprintf(path, sizeof path, "%s/a/f/g/h", dir);      /* a file on the way */
    assert_int_equal(nnx_mkdirs(path, &err), -1);
    assert_string_equal(err.msg, want);
    assert_int_equal(nnx_mkdirs("", &err), -1);
    assert_string_equal(err.msg, "no directory given");
    tmpdir_remove(dir);
    free(dir);
}

/* A file-size limit (as `ulimit -f` sets) with SIGXFSZ ignored, as main()
 * does: writes past it fail with EFBIG. */
static struct rlimit limit_size(rlim_t bytes)
{
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = bytes;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    return old;
}

static void append_rows_and_cut_back_a_failed_one(void **state)
{
    (void)state;
    char *dir = tmpdir_make("append");
    assert_non_null(dir);
    char path[300];
    snprintf(path, sizeof path, "%s/rows.csv", dir);
    nnx_rt_error err = {{0}};
    nnx_append a;
    assert_int_equal(nnx_append_open(&a, path, 1, &err), 0);
    fputs("a,b\n1,2\n", a.f);
    assert_int_equal(nnx_append_flush(&a, &err), 0);
    assert_int_equal(nnx_append_close(&a, &err), 0);
    assert_null(a.f);
    assert_int_equal(nnx_append_close(&a, &err), 0);      /* closed: nothing to do */
    expect_file(path, "a,b\n1,2\n");

    /* reopened for appending, then a row larger than the size limit allows */
    assert_int_equal(nnx_append_open(&a, path, 0, &err), 0);
    fputs("3,4\n", a.f);
    assert_int_equal(nnx_append_flush(&a, &err), 0);
    struct rlimit old = limit_size(20);
    fputs("5,6666666666666666666666\n", a.f);
    int rc = nnx_append_flush(&a, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "cannot write: File too large"));
    expect_file(path, "a,b\n1,2\n3,4\n");                  /* the partial row is gone */
    /* and it stays failed: no later row lands after a hole */
    assert_null(a.f);
    assert_int_equal(nnx_append_flush(&a, &err), -1);
    assert_non_null(strstr(err.msg, "File too large"));
    assert_int_equal(nnx_append_close(&a, &err), -1);
    expect_file(path, "a,b\n1,2\n3,4\n");
    tmpdir_remove(dir);
    free(dir);
}

static void append_to_a_full_device_fails(void **state)
{
    (void)state;
    nnx_rt_error err = {{0}};
    nnx_append a;
    assert_int_equal(nnx_append_open(&a, "/dev/full", 0, &err), 0);
    fputs("row\n", a.f);
    assert_int_equal(nnx_append_flush(&a, &err), -1);
    assert_string_equal(err.msg, "/dev/full: cannot write: No space left on device");
    nnx_append_abort(&a);
    assert_null(a.path);
}

static void whole_write_over_a_size_limit_leaves_nothing(void **state)
{
    (void)state;
    char *dir = tmpdir_make("fsize");
    assert_non_null(dir);
    char path[300];
    snprintf(path, sizeof path, "%s/w.bin", dir);
    nnx_rt_error err = {{0}};
    assert_int_equal(nnx_file_write(path, "old\n", 4, 0, &err), 0);
    static char big[100000];
    struct rlimit old = limit_size(50000);
    int rc = nnx_file_write(path, big, sizeof big, NNX_FILE_SYNC, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.msg, "cannot write: File too large"));
    expect_file(path, "old\n");                            /* the old file, whole */
    assert_int_equal(entries(dir), 1);                     /* no w.bin.tmp */
    tmpdir_remove(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_replaces_whole_and_leaves_nothing),
        cmocka_unit_test(append_rows_and_cut_back_a_failed_one),
        cmocka_unit_test(append_to_a_full_device_fails),
        cmocka_unit_test(whole_write_over_a_size_limit_leaves_nothing),
        cmocka_unit_test(temporary_names),
        cmocka_unit_test(abort_leaves_the_old_file),
        cmocka_unit_test(errors_name_the_file),
        cmocka_unit_test(read_returns_every_byte),
        cmocka_unit_test(paths_join_and_mkdirs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
