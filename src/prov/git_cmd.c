/* git_cmd.c — run one `git -C DIR ...` as a child (posix_spawnp, no shell), capture stdout and stderr, kill it after a timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nnx/util/buf.h"
#include "prov/git_cmd.h"

extern char **environ;

enum { MAX_ARGS = 64, MAX_OUTPUT = 64 << 20 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The environment git runs with: ours without the variables that would point
 * it at another repository or index, plus the ones that keep it quiet. */
static char **child_env(void)
{
    static const char *const drop[] = { "GIT_DIR=", "GIT_WORK_TREE=", "GIT_INDEX_FILE=",
                                        "GIT_OPTIONAL_LOCKS=", "GIT_TERMINAL_PROMPT=", "LC_ALL=",
                                        "GIT_PAGER=", "GIT_EXTERNAL_DIFF=" };
    static char *const add[] = { "GIT_OPTIONAL_LOCKS=0", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C",
                                 "GIT_PAGER=cat" };
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = malloc((n + sizeof add / sizeof add[0] + 1) * sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool keep = true;
        for (size_t d = 0; d < sizeof drop / sizeof drop[0] && keep; d++)
            keep = strncmp(environ[i], drop[d], strlen(drop[d])) != 0;
        if (keep)
            env[k++] = environ[i];
    }
    for (size_t i = 0; i < sizeof add / sizeof add[0]; i++)
        env[k++] = add[i];
    env[k] = NULL;
    return env;
}

static void fail(git_result *r, const char *what)
{
    r->outcome = GIT_ERROR;
    free(r->errtext);
    size_t n = strlen(what) + 1;
    r->errtext = malloc(n);
    if (r->errtext)
        memcpy(r->errtext, what, n);
}

void git_run(const char *dir, const char *const *args, double timeout, git_result *r)
{
    memset(r, 0, sizeof *r);
    const char *argv[MAX_ARGS + 6];
    size_t argc = 0;
    argv[argc++] = "git";
    argv[argc++] = "--no-pager";
    argv[argc++] = "-C";
    argv[argc++] = dir;
    for (size_t i = 0; args[i]; i++) {
        if (i == MAX_ARGS)
            return fail(r, "too many git arguments");
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;

    int out[2] = { -1, -1 }, err[2] = { -1, -1 };
    if (pipe(out) < 0 || pipe(err) < 0) {
        for (int i = 0; i < 2; i++)
            if (out[i] >= 0)
                close(out[i]);
        return fail(r, strerror(errno));
    }
    char **env = child_env();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, err[0]);
    posix_spawn_file_actions_addclose(&fa, out[1]);
    posix_spawn_file_actions_addclose(&fa, err[1]);
    /* the child starts with default signal handling and no blocked signals,
     * whatever the caller (a run with its SIGINT handler) has */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigemptyset(&all);
    sigaddset(&all, SIGINT);
    sigaddset(&all, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int rc = env ? posix_spawnp(&pid, "git", &fa, &at, (char *const *)argv, env) : ENOMEM;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(env);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        close(out[0]);
        close(err[0]);
        if (rc == ENOENT) {
            r->outcome = GIT_MISSING;
            return;
        }
        return fail(r, strerror(rc));
    }

    nnx_buf bo = { 0 }, be = { 0 };
    struct pollfd fds[2] = { { .fd = out[0], .events = POLLIN }, { .fd = err[0], .events = POLLIN } };
    double deadline = now() + (timeout > 0 ? timeout : 10);
    bool timed_out = false, too_big = false;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        double left = deadline - now();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int n = poll(fds, 2, (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            char chunk[8192];
            ssize_t got = read(fds[i].fd, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                continue;
            }
            nnx_buf_put(i ? &be : &bo, chunk, (size_t)got);
            if (bo.len + be.len > MAX_OUTPUT) {
                too_big = true;
                break;
            }
        }
        if (too_big)
            break;
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    int ws = 0;
    if (timed_out || too_big)
        kill(pid, SIGKILL);
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    r->out = bo.s;
    r->len = bo.len;
    r->errtext = be.s;
    if (bo.oom || be.oom)
        return fail(r, "out of memory reading git's output");
    if (timed_out) {
        r->outcome = GIT_TIMEOUT;
        return;
    }
    if (too_big)
        return fail(r, "git printed more than 64 MiB");
    if (WIFEXITED(ws)) {
        r->outcome = GIT_EXITED;
        r->status = WEXITSTATUS(ws);
        if (r->status == 127 && !r->len) {     /* a shell wrapper that found no git */
            r->outcome = GIT_MISSING;
        }
    } else {
        fail(r, "git was killed by a signal");
    }
}

void git_result_free(git_result *r)
{
    free(r->out);
    free(r->errtext);
    memset(r, 0, sizeof *r);
}
