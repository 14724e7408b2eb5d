/* lock.c — per-trial lock files that work on a network file system: created with O_CREAT|O_EXCL, holding "host pid". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "search/search_int.h"

/* link() is atomic on NFS (v3 and later), and so is rename(), so a lock is
 * a file DIR/.locks/NAME that exactly one process manages to make: written
 * under a name of its own first, then linked to NAME, so that it holds the
 * host name and the pid of its holder from the moment it exists.  A holder
 * that died on this host (kill(pid, 0) says ESRCH) left a stale lock, which
 * the next process takes over.  A lock of another host cannot be checked
 * from here and is reported instead.  An empty lock file (left by a process
 * killed between creating and writing it, where hard links are missing and
 * O_CREAT|O_EXCL made it, or by an nnx before the link) is a holder being
 * written for EMPTY_GRACE seconds after it was made, stale after. */
#define EMPTY_GRACE 60

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

/* An empty lock file last written more than EMPTY_GRACE seconds ago (its
 * inode into *ino when not NULL, to check that what is moved aside is this
 * file). */
static bool empty_and_old(const char *path, ino_t *ino)
{
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size != 0)
        return false;
    if (ino)
        *ino = st.st_ino;
    return difftime(time(NULL), st.st_mtime) > EMPTY_GRACE;
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
        st = read_holder(path, h) ? holder_state(h)
           : empty_and_old(path, NULL) ? SRCH_LOCK_STALE : SRCH_LOCK_LIVE;     /* being written: held */
    free(path);
    return st;
}

/* Write our "host pid" line to a new file `path`; false when it cannot be. */
static bool write_holder(const char *path, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
    if (fd < 0)
        return false;
    char host[256], line[300];
    this_host(host, sizeof host);
    int n = snprintf(line, sizeof line, "%s %ld\n", host, (long)getpid());
    bool ok = write(fd, line, (size_t)n) == n;
    ok = close(fd) == 0 && ok;
    if (!ok)
        unlink(path);
    return ok;
}

/* Make the lock file `path` holding our host and pid: written to `own` (a
 * name of ours beside it, own_path's), then linked.  On NFS a link whose
 * reply was lost can say it failed having made the file: the link count of
 * ours tells.  Where a file system has no hard links, O_CREAT|O_EXCL and a
 * write.  1 made, 0 it exists, -1 error. */
static int create(const char *path, const char *own, nnx_rt_error *err)
{
    if (!write_holder(own, O_TRUNC))
        return nnx_rt_fail(err, "cannot write %s: %s", own, strerror(errno));
    int linked = link(own, path), why = errno;
    struct stat st;
    bool made = stat(own, &st) == 0 && st.st_nlink == 2;
    unlink(own);
    if (made || linked == 0)
        return 1;
    if (why == EEXIST)
        return 0;
    if (why != EPERM && why != ENOTSUP && why != EOPNOTSUPP && why != ENOSYS)
        return nnx_rt_fail(err, "cannot create %s: %s", path, strerror(why));
    if (write_holder(path, O_EXCL))
        return 1;
    return errno == EEXIST ? 0 : nnx_rt_fail(err, "cannot create %s: %s", path, strerror(errno));
}

/* Move the stale lock `path` (holder h, or empty with inode ino) aside
 * under a name of our own and remove it, unless what moved is a new
 * holder's lock (put back: that link fails only if a third made one). */
static void take_over(const char *path, const srch_lock_holder *h, bool empty, ino_t ino)
{
    char aside[1200];
    snprintf(aside, sizeof aside, "%s.stale.%ld", path, (long)getpid());
    if (rename(path, aside) != 0)
        return;     /* someone else took it over first: look again */
    srch_lock_holder moved;
    struct stat st;
    bool same = empty ? stat(aside, &st) == 0 && st.st_size == 0 && st.st_ino == ino
                      : read_holder(aside, &moved) && !strcmp(moved.host, h->host) && moved.pid == h->pid;
    if (!same)
        (void)link(aside, path);
    unlink(aside);
}

/* DIR/.locks/.HOST.PID: where this process writes its lock before linking
 * it, a name no other process of any host uses (nnx status skips names
 * that begin with a dot). */
static char *own_path(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char host[256];
    this_host(host, sizeof host);
    size_t len = (size_t)(base - path) + 240;
    char *own = malloc(len);
    if (own)
        snprintf(own, len, "%.*s.%.200s.%ld", (int)(base - path), path, host, (long)getpid());
    return own;
}

int srch_lock_take(const char *dir, const char *name, srch_lock_holder *h, nnx_rt_error *err)
{
    char *path = lock_path(dir, name, err);
    if (!path)
        return -1;
    char *own = own_path(path);
    if (!own) {
        free(path);
        return nnx_rt_fail(err, "out of memory");
    }
    int rc = -1;
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = create(path, own, err);
        if (rc != 0)
            break;
        ino_t ino = 0;
        bool empty = false;
        if (!read_holder(path, h)) {
            if (!srch_exists(path))
                continue;   /* released since: try again */
            empty = empty_and_old(path, &ino);
            if (!empty) {
                /* another process is between creating and writing it: held */
                snprintf(h->host, sizeof h->host, "?");
                h->pid = 0;
                break;
            }
        } else if (holder_state(h) != SRCH_LOCK_STALE)
            break;      /* held (here or elsewhere): rc 0 */
        take_over(path, h, empty, ino);
    }
    free(own);
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
