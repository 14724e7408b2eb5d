/* provenance.c — the git commit, branch, path and dirty state of an experiment's files, asked of the git command. */
#define _XOPEN_SOURCE 700       /* realpath(): POSIX, but an XSI part of it */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "nnx/mlflow.h"
#include "nnx/provenance.h"
#include "nnx/util/buf.h"
#include "nnx/util/file.h"
#include "prov/git_cmd.h"

#define DIFF_NAME "source.diff"

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static char *dup_s(const char *s)
{
    return s ? dup_n(s, strlen(s)) : NULL;
}

/* The first line of git's output, without its newline; NULL when empty. */
static char *first_line(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strcspn(s, "\n");
    return n ? dup_n(s, n) : NULL;
}

static int set_reason(nnx_provenance *p, nnx_prov_state st, const char *fmt, const char *arg)
{
    p->state = st;
    char buf[512];
    snprintf(buf, sizeof buf, fmt, arg ? arg : "");
    free(p->reason);
    p->reason = dup_s(buf);
    return p->reason ? 0 : -1;
}

/* Record why a git call did not give an answer.  0, or -1 out of memory. */
static int git_failed(nnx_provenance *p, const git_result *r, const char *what)
{
    if (r->outcome == GIT_MISSING)
        return set_reason(p, NNX_PROV_NO_GIT, "git is not installed%s", NULL);
    if (r->outcome == GIT_TIMEOUT)
        return set_reason(p, NNX_PROV_FAILED, "git %s did not answer in time", what);
    char *line = first_line(r->errtext);
    char buf[300];
    snprintf(buf, sizeof buf, "%s: %s", what, line ? line : "git failed");
    free(line);
    return set_reason(p, NNX_PROV_FAILED, "git %s", buf);
}

static int add_str(char ***arr, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*arr)[i], s))
            return 0;
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a)
        return -1;
    *arr = a;
    if (!(a[*n] = dup_s(s)))
        return -1;
    (*n)++;
    return 0;
}

static bool listed(char *const *arr, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(arr[i], s))
            return true;
    return false;
}

/* `git status` of the files: the dirty ones, and which of them git does not
 * track (untracked or ignored), whose diff is taken against /dev/null. */
static int read_status(nnx_provenance *p, double timeout, char ***untracked, size_t *nun)
{
    const char *args[8 + 1024];
    size_t k = 0;
    args[k++] = "--literal-pathspecs";
    args[k++] = "status";
    args[k++] = "--porcelain=v1";
    args[k++] = "-z";
    args[k++] = "--untracked-files=all";
    args[k++] = "--ignored=matching";
    args[k++] = "--no-renames";
    args[k++] = "--";
    for (size_t i = 0; i < p->nfiles && k < sizeof args / sizeof args[0] - 1; i++)
        args[k++] = p->files[i];
    args[k] = NULL;
    git_result r;
    git_run(p->root, args, timeout, &r);
    if (!git_ok(&r)) {
        int rc = git_failed(p, &r, "status");
        git_result_free(&r);
        return rc;
    }
    int rc = 0;
    /* entries "XY path\0" */
    for (size_t at = 0; r.out && at + 3 < r.len && rc == 0;) {
        const char *e = r.out + at;
        size_t n = strlen(e);
        const char *path = e + 3;
        if (listed(p->files, p->nfiles, path)) {
            rc = add_str(&p->dirty_files, &p->ndirty, path);
            bool not_tracked = (e[0] == '?' && e[1] == '?') || (e[0] == '!' && e[1] == '!') || !p->commit;
            if (rc == 0 && not_tracked)
                rc = add_str(untracked, nun, path);
        }
        at += n + 1;
    }
    git_result_free(&r);
    p->dirty = p->ndirty > 0;
    return rc;
}

/* Append what a git diff prints to b; exit 1 counts as success when
 * `one_ok` (diff --no-index: the files differ).  0, or what git_failed says. */
static int append_diff(nnx_provenance *p, const char *const *args, double timeout, bool one_ok, nnx_buf *b)
{
    git_result r;
    git_run(p->root, args, timeout, &r);
    if (!(r.outcome == GIT_EXITED && (r.status == 0 || (one_ok && r.status == 1)))) {
        int rc = git_failed(p, &r, one_ok ? "diff --no-index" : "diff");
        git_result_free(&r);
        return rc < 0 ? -1 : 1;
    }
    if (r.out)
        nnx_buf_put(b, r.out, r.len);
    git_result_free(&r);
    return 0;
}

/* The unified diff of the dirty files: tracked ones against HEAD, the others
 * as new files. */
static int read_diff(nnx_provenance *p, double timeout, char *const *untracked, size_t nun)
{
    nnx_buf b = { 0 };
    const char *args[16 + 1024];
    size_t k = 0, ntracked = 0;
    args[k++] = "--literal-pathspecs";
    args[k++] = "diff";
    args[k++] = "--no-color";
    args[k++] = "--no-ext-diff";
    args[k++] = "--no-textconv";
    args[k++] = "HEAD";
    args[k++] = "--";
    for (size_t i = 0; i < p->ndirty && k < sizeof args / sizeof args[0] - 1; i++)
        if (!listed(untracked, nun, p->dirty_files[i])) {
            args[k++] = p->dirty_files[i];
            ntracked++;
        }
    args[k] = NULL;
    int rc = ntracked && p->commit ? append_diff(p, args, timeout, false, &b) : 0;
    for (size_t i = 0; i < nun && rc == 0; i++) {
        const char *a[] = { "diff", "--no-index", "--no-color", "--no-ext-diff", "--no-textconv",
                            "--", "/dev/null", untracked[i], NULL };
        rc = append_diff(p, a, timeout, true, &b);   /* exits 1: the files differ, as they do */
    }
    if (rc != 0) {          /* 1: git failed, recorded in p; -1: out of memory */
        free(b.s);
        return rc < 0 ? -1 : 0;
    }
    if (b.oom) {
        free(b.s);
        return -1;
    }
    p->diff = b.s ? b.s : dup_s("");
    return p->diff ? 0 : -1;
}

/* The directory part of an absolute path, as a new string. */
static char *dir_of(const char *abs)
{
    const char *slash = strrchr(abs, '/');
    return slash == abs ? dup_s("/") : dup_n(abs, (size_t)(slash - abs));
}

static int collect(const char *const *files, size_t nfiles, double timeout, nnx_provenance *p)
{
    char abs[PATH_MAX];
    if (!realpath(files[0], abs))
        return set_reason(p, NNX_PROV_FAILED, "cannot find the experiment file: %s", strerror(errno));
    char *dir = dir_of(abs);
    if (!dir)
        return -1;
    git_result r;
    const char *top[] = { "rev-parse", "--show-toplevel", NULL };
    git_run(dir, top, timeout, &r);
    free(dir);
    if (!git_ok(&r)) {
        int rc = r.outcome == GIT_EXITED && r.errtext && strstr(r.errtext, "not a git repository")
                     ? set_reason(p, NNX_PROV_NO_REPO, "%s is not in a git repository", files[0])
                     : git_failed(p, &r, "rev-parse");
        git_result_free(&r);
        return rc;
    }
    char *root = first_line(r.out);
    git_result_free(&r);
    char rootabs[PATH_MAX];
    if (!root || !realpath(root, rootabs)) {
        free(root);
        return set_reason(p, NNX_PROV_FAILED, "git rev-parse gave no usable top directory%s", NULL);
    }
    free(root);
    if (!(p->root = dup_s(rootabs)))
        return -1;
    size_t rl = strlen(rootabs);
    for (size_t i = 0; i < nfiles; i++) {
        if (!files[i] || !realpath(files[i], abs))
            continue;
        if (strncmp(abs, rootabs, rl) || abs[rl] != '/')
            continue;           /* outside this repository */
        if (add_str(&p->files, &p->nfiles, abs + rl + 1) < 0)
            return -1;
    }
    if (!p->nfiles)
        return set_reason(p, NNX_PROV_FAILED, "%s resolves outside its repository", files[0]);
    if (!(p->path = dup_s(p->files[0])))
        return -1;

    const char *head[] = { "rev-parse", "--verify", "-q", "HEAD^{commit}", NULL };
    git_run(p->root, head, timeout, &r);
    if (r.outcome != GIT_EXITED) {
        int rc = git_failed(p, &r, "rev-parse HEAD");
        git_result_free(&r);
        return rc;
    }
    if (r.status == 0 && !(p->commit = first_line(r.out)) && r.out) {
        git_result_free(&r);
        return -1;
    }
    git_result_free(&r);

    const char *branch[] = { "symbolic-ref", "-q", "--short", "HEAD", NULL };
    git_run(p->root, branch, timeout, &r);
    if (git_ok(&r))
        p->branch = first_line(r.out);
    git_result_free(&r);
    const char *remote[] = { "config", "--get", "remote.origin.url", NULL };
    git_run(p->root, remote, timeout, &r);
    if (git_ok(&r))
        p->remote = first_line(r.out);
    git_result_free(&r);

    char **untracked = NULL;
    size_t nun = 0;
    p->state = NNX_PROV_GIT;
    int rc = read_status(p, timeout, &untracked, &nun);
    if (rc == 0 && p->state == NNX_PROV_GIT && p->dirty)
        rc = read_diff(p, timeout, untracked, nun);
    for (size_t i = 0; i < nun; i++)
        free(untracked[i]);
    free(untracked);
    return rc;
}

int nnx_provenance_collect(const char *const *files, size_t nfiles, double timeout_seconds,
                           nnx_provenance *p, nnx_rt_error *err)
{
    memset(p, 0, sizeof *p);
    if (!nfiles || !files[0])
        return nnx_rt_fail(err, "provenance: no experiment file");
    if (collect(files, nfiles, timeout_seconds, p) < 0) {
        nnx_provenance_free(p);
        return nnx_rt_fail(err, "out of memory collecting the git provenance");
    }
    if (p->state != NNX_PROV_GIT) {
        /* keep only the reason: a half-read repository is not a provenance */
        char *reason = p->reason;
        nnx_prov_state st = p->state;
        p->reason = NULL;
        nnx_provenance_free(p);
        p->state = st;
        p->reason = reason;
    }
    return 0;
}

static void free_list(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void nnx_provenance_free(nnx_provenance *p)
{
    if (!p)
        return;
    free(p->reason);
    free(p->root);
    free(p->commit);
    free(p->branch);
    free(p->path);
    free(p->remote);
    free_list(p->files, p->nfiles);
    free_list(p->dirty_files, p->ndirty);
    free(p->diff);
    memset(p, 0, sizeof *p);
}

static void put_list(nnx_json_writer *w, const char *key, char *const *a, size_t n)
{
    nnx_json_key(w, key);
    nnx_json_begin_array(w);
    for (size_t i = 0; i < n; i++)
        nnx_json_string(w, a[i]);
    nnx_json_end_array(w);
}

void nnx_provenance_write_json(const nnx_provenance *p, nnx_json_writer *w)
{
    if (!p || p->state == NNX_PROV_NONE)
        return;
    nnx_json_key(w, "git");
    nnx_json_begin_object(w);
    if (p->state != NNX_PROV_GIT) {
        nnx_json_key_string(w, "commit", NULL);
        nnx_json_key_string(w, "reason", p->reason ? p->reason : "unknown");
        nnx_json_end_object(w);
        return;
    }
    nnx_json_key_string(w, "commit", p->commit);
    nnx_json_key_string(w, "branch", p->branch);
    nnx_json_key_string(w, "path", p->path);
    nnx_json_key_string(w, "repository", p->root);
    if (p->remote)
        nnx_json_key_string(w, "remote", p->remote);
    nnx_json_key_bool(w, "dirty", p->dirty);
    put_list(w, "files", p->files, p->nfiles);
    put_list(w, "dirty_files", p->dirty_files, p->ndirty);
    nnx_json_key_string(w, "diff", p->dirty ? DIFF_NAME : NULL);
    nnx_json_end_object(w);
}

void nnx_provenance_mlflow_tags(const nnx_provenance *p, struct nnx_mlflow_run *run)
{
    if (!p || !run || p->state == NNX_PROV_NONE)
        return;
    if (p->state != NNX_PROV_GIT) {
        nnx_mlflow_tag(run, "nnx.git.reason", p->reason ? p->reason : "unknown", NULL);
        return;
    }
    if (p->commit)
        nnx_mlflow_tag(run, "mlflow.source.git.commit", p->commit, NULL);
    if (p->branch)
        nnx_mlflow_tag(run, "mlflow.source.git.branch", p->branch, NULL);
    if (p->remote)
        nnx_mlflow_tag(run, "mlflow.source.git.repoURL", p->remote, NULL);
    nnx_mlflow_tag(run, "nnx.git.path", p->path, NULL);
    nnx_mlflow_tag(run, "nnx.git.dirty", p->dirty ? "true" : "false", NULL);
}

int nnx_provenance_save_diff(const nnx_provenance *p, const char *dir, nnx_rt_error *err)
{
    if (!p || p->state == NNX_PROV_NONE)
        return 0;
    char *path = nnx_path_join(dir, DIFF_NAME);
    if (!path)
        return nnx_rt_fail(err, "out of memory");
    if (p->state != NNX_PROV_GIT || !p->dirty || !p->diff) {
        unlink(path);           /* a resumed run that is clean now: no stale diff */
        free(path);
        return 0;
    }
    int rc = nnx_file_write(path, p->diff, strlen(p->diff), 0, err);
    free(path);
    return rc;
}

void nnx_provenance_short(const char *commit, bool dirty, bool in_repo, char *buf, size_t size)
{
    if (!in_repo)
        snprintf(buf, size, "-");
    else if (!commit)
        snprintf(buf, size, "(none)%s", dirty ? "+" : "");
    else
        snprintf(buf, size, "%.8s%s", commit, dirty ? "+" : "");
}
