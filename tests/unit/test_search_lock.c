/* test_search_lock.c — per-trial lock files (nnx run --trial): taken once, held by a live process, taken over from a dead one of this host, reported for another host, an empty one held for a minute and taken over after. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "search/search_int.h"
#include "tmpdir.h"

static char *lock_file(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/.locks/%s", dir, name);
    return strdup(path);
}

static void write_lock(const char *dir, const char *name, const char *text)
{
    char *path = lock_file(dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

static void host(char *buf, size_t n)
{
    assert_int_equal(gethostname(buf, n), 0);
}

static void taken_once_then_released(void **state)
{
    (void)state;
    char *dir = tmpdir_make("lock");
    srch_lock_holder h;
    nnx_rt_error err;
    assert_int_equal(srch_lock_probe(dir, "lr=0.1", &h), SRCH_LOCK_FREE);
    assert_int_equal(srch_lock_take(dir, "lr=0.1", &h, &err), 1);
    char me[256], *path = lock_file(dir, "lr=0.1");
    host(me, sizeof me);
    char *text = tmpdir_slurp(path, NULL), want[300];
    assert_non_null(text);
    snprintf(want, sizeof want, "%s %ld\n", me, (long)getpid());
    assert_string_equal(text, want);
    free(text);
    /* held now, by a live process (this one) */
    assert_int_equal(srch_lock_take(dir, "lr=0.1", &h, &err), 0);
    assert_string_equal(h.host, me);
    assert_int_equal(h.pid, (long)getpid());
    assert_int_equal(srch_lock_probe(dir, "lr=0.1", NULL), SRCH_LOCK_LIVE);
    srch_lock_release(dir, "lr=0.1");
    assert_int_equal(access(path, F_OK), -1);
    free(path);
    tmpdir_remove(dir);
    free(dir);
}

static void a_dead_holder_on_this_host_is_taken_over(void **state)
{
    (void)state;
    char *dir = tmpdir_make("lock");
    nnx_rt_error err;
    srch_lock_holder h;
    /* a child takes the lock and exits without releasing it */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(srch_lock_take(dir, "t", &h, &err) == 1 ? 0 : 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(srch_lock_probe(dir, "t", &h), SRCH_LOCK_STALE);
    assert_int_equal(h.pid, (long)pid);
    assert_int_equal(srch_lock_take(dir, "t", &h, &err), 1);
    assert_int_equal(srch_lock_probe(dir, "t", &h), SRCH_LOCK_LIVE);
    assert_int_equal(h.pid, (long)getpid());
    srch_lock_release(dir, "t");
    assert_int_equal(srch_lock_probe(dir, "t", NULL), SRCH_LOCK_FREE);
    tmpdir_remove(dir);
    free(dir);
}

static void a_live_holder_keeps_it(void **state)
{
    (void)state;
    char *dir = tmpdir_make("lock");
    nnx_rt_error err;
    srch_lock_holder h;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        pause();
        _exit(0);
    }
    char me[256], text[300];
    host(me, sizeof me);
    assert_int_equal(srch_lock_take(dir, "t", &h, &err), 1);     /* makes .locks */
    srch_lock_release(dir, "t");
    snprintf(text, sizeof text, "%s %ld\n", me, (long)pid);
    write_lock(dir, "t", text);
    assert_int_equal(srch_lock_take(dir, "t", &h, &err), 0);
    assert_int_equal(h.pid, (long)pid);
    srch_lock_release(dir, "t");                                  /* not ours: stays */
    assert_int_equal(srch_lock_probe(dir, "t", NULL), SRCH_LOCK_LIVE);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(srch_lock_take(dir, "t", &h, &err), 1);
    srch_lock_release(dir, "t");
    tmpdir_remove(dir);
    free(dir);
}

static void another_hosts_lock_is_reported_not_taken(void **state)
{
    (void)state;
    char *dir = tmpdir_make("lock");
    nnx_rt_error err;
    srch_lock_holder h;
    assert_int_equal(srch_lock_take(dir, "t", &h, &err), 1);
    srch_lock_release(dir, "t");
    write_lock(dir, "t", "node17.cluster 4242\n");
    assert_int_equal(srch_lock_probe(dir, "t", &h), SRCH_LOCK_ELSEWHERE);
    assert_int_equal(srch_lock_take(dir, "t", &h, &err), 0);
    assert_string_equal(h.host, "node17.cluster");
    assert_int_equal(h.pid, 4242);
    tmpdir_remove(dir);
    free(dir);
}

/* The names in DIR/.locks, dot-files included, as one string "a b ". */
static void lock_dir_names(const char *dir, char *out, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/.locks", dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    out[0] = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(out + strlen(out), n - strlen(out), "%s ", e->d_name);
    closedir(d);
}

/* An empty lock file (a process killed between making and writing it, on a
 * file system without hard links, or an older nnx): held while it may be
 * being written, taken over once it is a minute old; it used to be held
 * for good.  A lock taken leaves no file of its making beside it. */
static void an_empty_lock_is_held_then_taken_over(void **state)
{
    (void)state;
    char *dir = tmpdir_make("lock");
    nnx_rt_error err;
    srch_lock_holder h;
    assert_int_equal(srch_lock_take(dir, "t", &h, &err), 1);
    char names[1024];
    lock_dir_names(dir, names, sizeof names);
    assert_string_equal(names, "t ");
    srch_lock_release(dir, "t");
    write_lock(dir, "t", "");
    assert_int_equal(srch_lock_probe(dir, "t", NULL), SRCH_LOCK_LIVE);
    assert_int_equal(srch_lock_take(dir, "t", &h, &err), 0);
    assert_string_equal(h.host, "?");
    char *path = lock_file(dir, "t");
    struct timespec old[2] = {{.tv_sec = time(NULL) - 120}, {.tv_sec = time(NULL) - 120}};
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
    assert_int_equal(srch_lock_probe(dir, "t", NULL), SRCH_LOCK_STALE);
    assert_int_equal(srch_lock_take(dir, "t", &h, &err), 1);
    assert_int_equal(srch_lock_probe(dir, "t", &h), SRCH_LOCK_LIVE);
    assert_int_equal(h.pid, (long)getpid());
    lock_dir_names(dir, names, sizeof names);
    assert_string_equal(names, "t ");
    srch_lock_release(dir, "t");
    free(path);
    tmpdir_remove(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(taken_once_then_released),
        cmocka_unit_test(a_dead_holder_on_this_host_is_taken_over),
        cmocka_unit_test(a_live_holder_keeps_it),
        cmocka_unit_test(another_hosts_lock_is_reported_not_taken),
        cmocka_unit_test(an_empty_lock_is_held_then_taken_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
