/* lock.c — per-trial lock files that work on a network file system: created with O_CREAT|O_EXCL, holding "host pid". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "search/search_int.h"

/* O_CREAT|O_EXCL is atomic on NFS (v3 and later), and so is rename(), so a
 * lock is a file DIR/.locks/NAME that exactly one process manages to create.
 * It holds the host name and the pid of its holder; a holder that died on
 * this host (kill(pid, 0) says ESRCH) left a stale lock, which the next
 * process takes over.  A lock of another host cannot be checked from here
 * and is reported instead. */

static char *lock_path(const char *dir, const char *name, nnx_rt_error *err)
{
    char *locks = nnx_path_join(dir, ".locks");
    char *path = locks ? nnx_path_join(locks, name) : NULL;
    if (!path)
        nnx_rt_fail(err, "out of memory");
    else if (nnx_mkdirs(locks, err) < 0) {
        free(path);
        path = NULL;
    }
    free(locks);
    return path;
}

static void this_host(char *host, size_t size)
{
    if (gethostname(host, size) != 0 || !host[0])
        snprintf(host, size, "localhost");
    host[size - 1] = 0;
    for (char *p = host; *p; p++)
        if (*p == ' ' || *p == '\n')
            *p = '_';
}

/* Read "host pid" from a lock file into holder; false when it cannot be read. */
static bool read_holder(const char *path, srch_lock_holder *h)
{
    memset(h, 0, sizeof *h);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    long pid = 0;
    int n = fscanf(f, "%255s %ld", h->host, &pid);
    fclose(f);
    h->pid = n == 2 ? pid : 0;
    return n == 2;
}

/* The holder's state: SRCH_LOCK_LIVE, _STALE (its process is gone from
 * this host) or _ELSEWHERE (another host). */
static srch_lock_state holder_state(const srch_lock_holder *h)
{
    char host[256];
    this_host(host, sizeof host);
    if (strcmp(h->host, host) != 0)
        return SRCH_LOCK_ELSEWHERE;
    if (h->pid <= 0 || (kill((pid_t)h->pid, 0) != 0 && errno == ESRCH))
        return SRCH_LOCK_STALE;
    return SRCH_LOCK_LIVE;
}

srch_lock_state srch_lock_probe(const char *dir, const char *name, srch_lock_holder *h)
{
    char *locks = nnx_path_join(dir, ".locks");
    char *path = locks ? nnx_path_join(locks, name) : NULL;
    free(locks);
    srch_lock_holder local;
    h = h ? h : &local;
    memset(h, 0, sizeof *h);
    srch_lock_state st = SRCH_LOCK_FREE;
    if (path && srch_exists(path))
        st = read_holder(path, h) ? holder_state(h) : SRCH_LOCK_LIVE;   /* being written: held */
    free(path);
    return st;
}

/* Create the lock file with our host and pid; 1 made, 0 it exists, -1 error. */
static int create(const char *path, nnx_rt_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return errno == EEXIST ? 0 : nnx_rt_fail(err, "cannot create %s: %s", path, strerror(errno));
    char host[256], line[300];
    this_host(host, sizeof host);
    int n = snprintf(line, sizeof line, "%s %ld\n", host, (long)getpid());
    bool ok = write(fd, line, (size_t)n) == n;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(path);
        return nnx_rt_fail(err, "cannot write %s", path);
    }
    return 1;
}

int srch_lock_take(const char *dir, const char *name, srch_lock_holder *h, nnx_rt_error *err)
{
    char *path = lock_path(dir, name, err);
    if (!path)
        return -1;
    int rc = -1;
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = create(path, err);
        if (rc != 0)
            break;
        if (!read_holder(path, h)) {
            /* another process is between creating and writing it: held */
            snprintf(h->host, sizeof h->host, "?");
            h->pid = 0;
            break;
        }
        if (holder_state(h) != SRCH_LOCK_STALE)
            break;      /* held (here or elsewhere): rc 0 */
        /* stale: move it aside under a name of our own, then check that what
         * moved is the stale lock we read and not a new holder's */
        char aside[1200];
        snprintf(aside, sizeof aside, "%s.stale.%ld", path, (long)getpid());
        if (rename(path, aside) != 0)
            continue;   /* someone else took it over first: look again */
        srch_lock_holder moved;
        bool same = read_holder(aside, &moved) && !strcmp(moved.host, h->host) && moved.pid == h->pid;
        if (!same)
            (void)link(aside, path);    /* a new holder's lock: put it back (fails only if a third made one) */
        unlink(aside);
    }
    free(path);
    return rc;
}

void srch_lock_release(const char *dir, const char *name)
{
    char *locks = nnx_path_join(dir, ".locks");
    char *path = locks ? nnx_path_join(locks, name) : NULL;
    srch_lock_holder h;
    char host[256];
    this_host(host, sizeof host);
    /* only our own lock: a stale one taken over by another is theirs now */
    if (path && read_holder(path, &h) && !strcmp(h.host, host) && h.pid == (long)getpid())
        unlink(path);
    free(path);
    free(locks);
}
