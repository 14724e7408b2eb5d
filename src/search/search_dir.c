/* search_dir.c — a search's directory: its name from the settings, its lock, its experiment.nnx. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnx/provenance.h"
#include "nnx/run.h"
#include "search/work.h"

/* The experiment's identity: its canonical text without the comment lines
 * (they name the file as the command line spelled it), `log`, and hooks that
 * only log (run.h) — none of which must make another search. */
static char *settings_text(const nnx_experiment *e)
{
    char *text = nnx_experiment_write(e);
    char *id = text ? nnx_run_identity_text(text, nnx_run_hooks_log_only(e)) : NULL;
    free(text);
    return id;
}

void nnx_search_dir_name(const nnx_experiment *e, char *buf, size_t size)
{
    char *text = settings_text(e);
    uint64_t h = 1469598103934665603ull;      /* FNV-1a */
    for (const char *p = text ? text : ""; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ull;
    }
    free(text);
    snprintf(buf, size, "%s-%06llx", e->name, (unsigned long long)(h & 0xffffff));
}

/* Hold DIR/.nnx-lock (a POSIX record lock, dropped when the process ends)
 * so that two runs never work in one search directory at once. */
static int lock_dir(search *s)
{
    char *path = nnx_path_join(s->o->dir, ".nnx-lock");
    if (!path)
        return nnx_rt_fail(s->err, "out of memory");
    s->lock_fd = open(path, O_RDWR | O_CREAT, 0644);
    free(path);
    if (s->lock_fd < 0)
        return nnx_rt_fail(s->err, "cannot lock %s: %s", s->o->dir, strerror(errno));
    /* opts.only: shared with the other one-trial processes, exclusive of a whole-search run */
    struct flock fl = { .l_type = s->o->only ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
    if (fcntl(s->lock_fd, F_SETLK, &fl) != 0) {
        int e = errno;
        close(s->lock_fd);
        s->lock_fd = -1;
        if (s->o->only && e == ENOLCK)
            return 0;       /* a network file system without record locks: the trial locks still hold */
        if (e == EACCES || e == EAGAIN)
            return nnx_rt_fail(s->err, "another nnx run is working in %s; wait for it or choose another --out",
                               s->o->dir);
        return nnx_rt_fail(s->err, "cannot lock %s: %s", s->o->dir, strerror(e));
    }
    return 0;
}

/* DIR exists, holds this experiment (or nothing yet), and has its trials root. */
int srch_open_dir(search *s)
{
    if (s->o->look) {
        /* nnx status, nnx submit --dry-run: write nothing */
        s->root = nnx_path_join(s->o->dir, s->res->kind == NNX_SEARCH_ENSEMBLE ? "members" : "trials");
        if (!s->root)
            return nnx_rt_fail(s->err, "out of memory");
        return 0;   /* a directory not made yet: no trial has ended */
    }
    if (nnx_mkdirs(s->o->dir, s->err) < 0 || (!s->rescan && lock_dir(s) < 0))
        return -1;
    char *text = nnx_experiment_write(s->base);
    char *settings = settings_text(s->base);
    char *path = nnx_path_join(s->o->dir, "experiment.nnx");
    if (!text || !settings || !path) {
        free(text);
        free(settings);
        free(path);
        return nnx_rt_fail(s->err, "out of memory");
    }
    int rc = 0;
    if (srch_exists(path)) {
        /* the same settings; the comments (the file as named), `log` and hooks
         * that only log may differ — then the file says what runs now */
        size_t len = 0;
        char *old = nnx_file_read(path, 0, &len, s->err);
        char *id = old ? nnx_run_identity_text(old, nnx_run_hooks_log_only(s->base)) : NULL;
        if (!id)
            rc = old ? nnx_rt_fail(s->err, "out of memory") : -1;
        else if (strcmp(id, settings) != 0)
            rc = nnx_rt_fail(s->err, "%s holds a different experiment; choose another --out", s->o->dir);
        else if (strcmp(old, text) != 0 && (rc = nnx_file_write(path, text, strlen(text), 0, s->err)) < 0)
            s->res->write_failed = true;
        free(old);
        free(id);
    } else if ((rc = nnx_file_write(path, text, strlen(text), NNX_FILE_UNIQUE, s->err)) < 0)
        s->res->write_failed = true;
    free(text);
    free(settings);
    free(path);
    s->root = nnx_path_join(s->o->dir, s->res->kind == NNX_SEARCH_ENSEMBLE ? "members" : "trials");
    if (rc == 0 && !s->root)
        rc = nnx_rt_fail(s->err, "out of memory");
    if (rc == 0)
        rc = nnx_mkdirs(s->root, s->err);
    if (rc == 0 && (rc = nnx_provenance_save_diff(s->o->provenance, s->o->dir, s->err)) < 0)
        s->res->write_failed = true;
    return rc;
}
