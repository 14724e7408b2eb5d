/* mlflow.c — write a trial as a run in an MLflow local file store (mlruns/). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nnx/mlflow.h"
#include "nnx/util/file.h"
#include "log/mlflow_int.h"

#define PATH_CAP MLFLOW_PATH_CAP

struct nnx_mlflow_run {
    char root[PATH_CAP];       /* absolute store directory */
    char exp_id[32];
    char run_id[33];
    char run_dir[PATH_CAP];    /* root/exp_id/run_id */
    char artifact_uri[PATH_CAP * 3];
    char artifact_dir[PATH_CAP];  /* local path of artifact_uri, "" if remote */
    char *run_name, *user;     /* owned */
    int64_t start_ms;
};

/* --- small helpers -------------------------------------------------------- */

/* snprintf into out[PATH_CAP]; -1 with an error if it did not fit. */
__attribute__((format(printf, 3, 4)))
static int path_fmt(char *out, nnx_rt_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_CAP, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_CAP)
        return nnx_rt_fail(err, "mlflow: path too long: %.200s...", out);
    return 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Put "mlflow: " before the message a runtime file function left in err. */
static int mlflow_said(nnx_rt_error *err)
{
    if (err) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        nnx_rt_fail(err, "mlflow: %s", msg);
    }
    return -1;
}

/* mkdir -p, the error said as MLflow's. */
static int make_dirs(const char *path, nnx_rt_error *err)
{
    return nnx_mkdirs(path, err) < 0 ? mlflow_said(err) : 0;
}

/* Make the directories leading to the file `path`. */
static int make_parent_dirs(const char *path, nnx_rt_error *err)
{
    char dir[PATH_CAP];
    if (path_fmt(dir, err, "%s", path))
        return -1;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    return make_dirs(dir, err);
}

static int write_all(int fd, const char *data, size_t n)
{
    while (n) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A temporary file for `path` in `tmp_dir` (same file system, a directory
 * MLflow does not list as data), readable by all like MLflow's own files. */
static int begin_file(nnx_file_out *out, const char *tmp_dir, const char *path,
                      nnx_rt_error *err)
{
    char base[PATH_CAP];
    if (path_fmt(base, err, "%s/.nnx", tmp_dir) || make_parent_dirs(path, err))
        return -1;
    if (nnx_file_begin(out, path, base, NNX_FILE_UNIQUE, err) < 0)
        return mlflow_said(err);
    if (fchmod(fileno(out->f), 0644) != 0) {
        int e = errno;
        nnx_file_abort(out);
        return nnx_rt_fail(err, "mlflow: cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

/* Write `path` whole: a temporary file in `tmp_dir`, then rename over path. */
static int write_atomic(const char *tmp_dir, const char *path,
                        const char *data, size_t n, nnx_rt_error *err)
{
    nnx_file_out out;
    if (begin_file(&out, tmp_dir, path, err) < 0)
        return -1;
    fwrite(data, 1, n, out.f);
    return nnx_file_commit(&out, err) < 0 ? mlflow_said(err) : 0;
}

/* The whole small file in out[cap] (NUL-terminated); -1 if it cannot be read
 * or does not fit. */
static int read_small(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    int whole = n < cap - 1 || fgetc(f) == EOF;
    fclose(f);
    out[n] = '\0';
    return whole ? 0 : -1;
}

static int random_bytes(uint8_t *buf, size_t n, nnx_rt_error *err)
{
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f)
        return nnx_rt_fail(err, "mlflow: cannot open /dev/urandom: %s",
                           strerror(errno));
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n)
        return nnx_rt_fail(err, "mlflow: short read from /dev/urandom");
    return 0;
}

int64_t nnx_mlflow_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the store -------------------------------------------------------------- */

static int write_experiment_meta(const char *root, const char *id,
                                 const char *name, int64_t ms,
                                 nnx_rt_error *err)
{
    char dir[PATH_CAP], meta[PATH_CAP], loc[PATH_CAP];
    if (path_fmt(dir, err, "%s/%s", root, id)
        || path_fmt(meta, err, "%s/meta.yaml", dir)
        || path_fmt(loc, err, "%s/%s", root, id))
        return -1;
    text *t = calloc(1, sizeof *t);
    if (!t)
        return nnx_rt_fail(err, "mlflow: out of memory");
    mlflow_text_add(t, "artifact_location: ");
    mlflow_file_uri(t, loc);
    mlflow_text_add(t, "\ncreation_time: %lld\n", (long long)ms);
    mlflow_yaml_field(t, "experiment_id", id);
    mlflow_text_add(t, "last_update_time: %lld\n", (long long)ms);
    mlflow_text_add(t, "lifecycle_stage: active\n");
    mlflow_yaml_field(t, "name", name);
    int rc = t->full ? nnx_rt_fail(err, "mlflow: experiment name too long")
                     : write_atomic(dir, meta, t->s, t->len, err);
    free(t);
    return rc;
}

/* Create the store like FileStore's constructor: the root with experiment 0
 * "Default" when missing, and .trash. */
static int open_store(const char *root, int64_t ms, nnx_rt_error *err)
{
    struct stat st;
    if (stat(root, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return nnx_rt_fail(err, "mlflow: %s is not a directory", root);
    } else {
        char zero[PATH_CAP];
        if (make_dirs(root, err) || path_fmt(zero, err, "%s/0", root))
            return -1;
        if (mkdir(zero, 0777) != 0 && errno != EEXIST)
            return nnx_rt_fail(err, "mlflow: cannot create %s: %s", zero,
                               strerror(errno));
        if (write_experiment_meta(root, "0", "Default", ms, err))
            return -1;
    }
    char trash[PATH_CAP];
    if (path_fmt(trash, err, "%s/.trash", root))
        return -1;
    if (mkdir(trash, 0777) != 0 && (errno != EEXIST || !is_dir(trash)))
        return nnx_rt_fail(err, "mlflow: cannot create %s: %s", trash,
                           errno == EEXIST ? "a file is in the way"
                                           : strerror(errno));
    return 0;
}

/* Look through <root>/<id>/meta.yaml for an active experiment called name;
 * on a hit copy its id and artifact_location.  1 found, 0 not, -1 error. */
static int find_experiment(const char *root, const char *name, char *id,
                           size_t id_cap, char *location, size_t loc_cap,
                           nnx_rt_error *err)
{
    DIR *d = opendir(root);
    if (!d)
        return nnx_rt_fail(err, "mlflow: cannot read %s: %s", root,
                           strerror(errno));
    char *doc = malloc(4 * PATH_CAP);
    char *value = malloc(3 * PATH_CAP);
    if (!doc || !value) {
        closedir(d);
        free(doc);
        free(value);
        return nnx_rt_fail(err, "mlflow: out of memory");
    }
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        char meta[PATH_CAP];
        if (e->d_name[0] == '.' || strlen(e->d_name) >= id_cap
            || snprintf(meta, sizeof meta, "%s/%s/meta.yaml", root, e->d_name)
                   >= (int)sizeof meta
            || read_small(meta, doc, 4 * PATH_CAP) != 0)
            continue;
        if (mlflow_yaml_get(doc, "name", value, 3 * PATH_CAP) || strcmp(value, name))
            continue;
        if (!mlflow_yaml_get(doc, "lifecycle_stage", value, 3 * PATH_CAP)
            && strcmp(value, "active"))
            continue;
        found = 1;
        memcpy(id, e->d_name, strlen(e->d_name) + 1);  /* fits: checked above */
        if (mlflow_yaml_get(doc, "artifact_location", location, loc_cap))
            location[0] = '\0';
    }
    closedir(d);
    free(doc);
    free(value);
    return found;
}

/* A new experiment: an 18-digit id with no leading zero, as MLflow's
 * _generate_unique_integer_id makes them. */
static int create_experiment(const char *root, const char *name, int64_t ms,
                             char *id, size_t id_cap, nnx_rt_error *err)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        uint8_t r[18];
        if (random_bytes(r, sizeof r, err))
            return -1;
        char digits[19];
        for (int i = 0; i < 18; i++)
            digits[i] = (char)('0' + (i == 0 ? 1 + r[i] % 9 : r[i] % 10));
        digits[18] = '\0';
        char dir[PATH_CAP];
        if (path_fmt(dir, err, "%s/%s", root, digits))
            return -1;
        if (mkdir(dir, 0777) != 0) {
            if (errno == EEXIST)
                continue;
            return nnx_rt_fail(err, "mlflow: cannot create %s: %s", dir,
                               strerror(errno));
        }
        snprintf(id, id_cap, "%s", digits);
        return write_experiment_meta(root, digits, name, ms, err);
    }
    return nnx_rt_fail(err, "mlflow: no free experiment id in %s", root);
}

/* Find the experiment by name or create it, holding a POSIX record lock on
 * <root>/.nnx-lock so that trials started at once by several nnx processes
 * agree on one experiment.  (The lock is per process: threads of one process
 * must not start runs in the same store at the same moment.)  The kernel
 * drops the lock if the process dies, so it never goes stale. */
static int find_or_create_experiment(nnx_mlflow_run *run,
                                     const nnx_mlflow_start_opts *opts,
                                     char *location, size_t loc_cap,
                                     nnx_rt_error *err)
{
    char lock_path[PATH_CAP];
    if (path_fmt(lock_path, err, "%s/.nnx-lock", run->root))
        return -1;
    int fd = open(lock_path, O_RDWR | O_CREAT, 0644);
    if (fd < 0)
        return nnx_rt_fail(err, "mlflow: cannot open %s: %s", lock_path,
                           strerror(errno));
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int rc;
    while ((rc = fcntl(fd, F_SETLKW, &lk)) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        rc = nnx_rt_fail(err, "mlflow: cannot lock %s: %s", lock_path,
                         strerror(errno));
        close(fd);
        return rc;
    }
    int found = find_experiment(run->root, opts->experiment, run->exp_id,
                                sizeof run->exp_id, location, loc_cap, err);
    rc = found < 0 ? -1
         : found   ? 0
                   : create_experiment(run->root, opts->experiment,
                                       opts->start_ms, run->exp_id,
                                       sizeof run->exp_id, err);
    close(fd);  /* releases the lock */
    return rc;
}

/* meta.yaml of the run, keys sorted as yaml.safe_dump writes them. */
static int write_run_meta(const nnx_mlflow_run *run, int status,
                          int64_t end_ms, int ended, nnx_rt_error *err)
{
    char meta[PATH_CAP];
    if (path_fmt(meta, err, "%s/meta.yaml", run->run_dir))
        return -1;
    text *t = calloc(1, sizeof *t);
    if (!t)
        return nnx_rt_fail(err, "mlflow: out of memory");
    mlflow_yaml_field(t, "artifact_uri", run->artifact_uri);
    if (!ended)
        mlflow_text_add(t, "deleted_time: null\nend_time: null\n");
    else
        mlflow_text_add(t, "end_time: %lld\n", (long long)end_ms);
    mlflow_text_add(t, "entry_point_name: ''\n");
    mlflow_yaml_field(t, "experiment_id", run->exp_id);
    mlflow_text_add(t, "lifecycle_stage: active\n");
    mlflow_yaml_field(t, "run_id", run->run_id);
    mlflow_yaml_field(t, "run_name", run->run_name);
    mlflow_yaml_field(t, "run_uuid", run->run_id);
    mlflow_text_add(t, "source_name: ''\nsource_type: 4\nsource_version: ''\n");
    mlflow_text_add(t, "start_time: %lld\nstatus: %d\ntags: []\n",
             (long long)run->start_ms, status);
    mlflow_yaml_field(t, "user_id", run->user);
    int rc = t->full ? nnx_rt_fail(err, "mlflow: run metadata too long")
                     : write_atomic(run->run_dir, meta, t->s, t->len, err);
    free(t);
    return rc;
}

/* <run dir>/<kind>/<sanitised key> in out. */
static int key_path(const nnx_mlflow_run *run, const char *kind,
                    const char *key, char *out, nnx_rt_error *err)
{
    char clean[MLFLOW_KEY_MAX + 1];
    nnx_mlflow_sanitize_key(key, clean, sizeof clean);
    return path_fmt(out, err, "%s/%s/%s", run->run_dir, kind, clean);
}

int nnx_mlflow_tag(nnx_mlflow_run *run, const char *key, const char *value,
                   nnx_rt_error *err)
{
    char path[PATH_CAP];
    if (!value)
        value = "";
    if (key_path(run, "tags", key, path, err))
        return -1;
    return write_atomic(run->run_dir, path, value, strlen(value), err);
}

int nnx_mlflow_param(nnx_mlflow_run *run, const char *key, const char *value,
                     nnx_rt_error *err)
{
    char path[PATH_CAP];
    if (!value)
        value = "";
    if (key_path(run, "params", key, path, err))
        return -1;
    struct stat st;
    if (stat(path, &st) == 0) {
        size_t n = strlen(value);
        char *old = malloc(n + 2);
        if (!old)
            return nnx_rt_fail(err, "mlflow: out of memory");
        int same = S_ISREG(st.st_mode) && read_small(path, old, n + 2) == 0
                   && strcmp(old, value) == 0;
        free(old);
        if (same)
            return 0;
        return nnx_rt_fail(err, "mlflow: param '%s' already has another "
                                "value (MLflow params cannot change)", key);
    }
    return write_atomic(run->run_dir, path, value, strlen(value), err);
}

/* The shortest of %.15g, %.16g, %.17g that reads back as v. */
static void format_double(char *out, size_t cap, double v)
{
    if (isnan(v)) {
        snprintf(out, cap, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, v > 0 ? "inf" : "-inf");
        return;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, cap, "%.*g", digits, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

int nnx_mlflow_metric(nnx_mlflow_run *run, const char *key, double value,
                      int64_t timestamp_ms, int64_t step, nnx_rt_error *err)
{
    char path[PATH_CAP], num[40], line[128];
    if (key_path(run, "metrics", key, path, err) || make_parent_dirs(path, err))
        return -1;
    format_double(num, sizeof num, value);
    int n = snprintf(line, sizeof line, "%lld %s %lld\n",
                     (long long)timestamp_ms, num, (long long)step);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0)
        return nnx_rt_fail(err, "mlflow: cannot open %s: %s", path,
                           strerror(errno));
    int bad = write_all(fd, line, (size_t)n) != 0;
    int saved = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (bad)
        return nnx_rt_fail(err, "mlflow: cannot append to %s: %s", path,
                           strerror(saved));
    return 0;
}

const char *nnx_mlflow_run_id(const nnx_mlflow_run *run)
{
    return run->run_id;
}

const char *nnx_mlflow_experiment_id(const nnx_mlflow_run *run)
{
    return run->exp_id;
}

const char *nnx_mlflow_run_dir(const nnx_mlflow_run *run)
{
    return run->run_dir;
}

void nnx_mlflow_free(nnx_mlflow_run *run)
{
    if (!run)
        return;
    free(run->run_name);
    free(run->user);
    free(run);
}

/* Make run->run_id (UUID4 hex) and its directory under the experiment. */
static int create_run_dir(nnx_mlflow_run *run, nnx_rt_error *err)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        uint8_t u[16];
        if (random_bytes(u, sizeof u, err))
            return -1;
        u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);  /* version 4 */
        u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);  /* RFC 4122 variant */
        for (int i = 0; i < 16; i++)
            snprintf(run->run_id + 2 * i, 3, "%02x", u[i]);
        if (path_fmt(run->run_dir, err, "%s/%s/%s", run->root, run->exp_id,
                     run->run_id))
            return -1;
        if (mkdir(run->run_dir, 0777) == 0)
            return 0;
        if (errno != EEXIST)
            return nnx_rt_fail(err, "mlflow: cannot create %s: %s",
                               run->run_dir, strerror(errno));
    }
    return nnx_rt_fail(err, "mlflow: no free run id");
}

/* artifact_uri = <experiment artifact_location>/<run id>/artifacts, and the
 * local directory it names when it is a file: URI. */
static int set_artifact_location(nnx_mlflow_run *run, const char *exp_location,
                                 nnx_rt_error *err)
{
    text *t = calloc(1, sizeof *t);
    if (!t)
        return nnx_rt_fail(err, "mlflow: out of memory");
    if (exp_location && *exp_location) {
        size_t n = strlen(exp_location);
        while (n > 1 && exp_location[n - 1] == '/')
            n--;
        mlflow_text_add(t, "%.*s", (int)n, exp_location);
    } else {
        char loc[PATH_CAP];
        if (path_fmt(loc, err, "%s/%s", run->root, run->exp_id)) {
            free(t);
            return -1;
        }
        mlflow_file_uri(t, loc);
    }
    mlflow_text_add(t, "/%s/artifacts", run->run_id);
    int rc = 0;
    if (t->full || t->len >= sizeof run->artifact_uri)
        rc = nnx_rt_fail(err, "mlflow: artifact location too long");
    else
        memcpy(run->artifact_uri, t->s, t->len + 1);
    free(t);
    if (rc)
        return rc;
    /* file:///p, file://localhost/p, file:/p, or a bare absolute path. */
    const char *u = run->artifact_uri, *path = NULL;
    if (!strncmp(u, "file://localhost/", 17))
        path = u + 16;
    else if (!strncmp(u, "file:///", 8))
        path = u + 7;
    else if (!strncmp(u, "file:/", 6) && u[6] != '/')
        path = u + 5;
    else if (u[0] == '/')
        path = u;
    run->artifact_dir[0] = '\0';
    if (path && mlflow_percent_decode(path, run->artifact_dir, sizeof run->artifact_dir))
        return nnx_rt_fail(err, "mlflow: artifact location too long");
    return 0;
}

nnx_mlflow_run *nnx_mlflow_start(const nnx_mlflow_start_opts *opts,
                                 nnx_rt_error *err)
{
    if (!opts || !opts->experiment || !*opts->experiment) {
        nnx_rt_fail(err, "mlflow: a run needs an experiment name");
        return NULL;
    }
    if (!opts->run_name || !*opts->run_name) {
        nnx_rt_fail(err, "mlflow: a run needs a name");
        return NULL;
    }
    nnx_mlflow_run *run = calloc(1, sizeof *run);
    if (!run) {
        nnx_rt_fail(err, "mlflow: out of memory");
        return NULL;
    }
    run->start_ms = opts->start_ms;
    run->run_name = strdup(opts->run_name);
    run->user = strdup(opts->user && *opts->user ? opts->user : "unknown");
    char *location = malloc(3 * PATH_CAP);
    if (!run->run_name || !run->user || !location) {
        nnx_rt_fail(err, "mlflow: out of memory");
        goto fail;
    }
    location[0] = '\0';
    if (nnx_mlflow_resolve_root(opts->tracking_uri, opts->env_tracking_uri,
                                run->root, sizeof run->root, err)
        || open_store(run->root, opts->start_ms, err))
        goto fail;
    if (find_or_create_experiment(run, opts, location, 3 * PATH_CAP, err))
        goto fail;
    if (create_run_dir(run, err) || set_artifact_location(run, location, err))
        goto fail;
    static const char *const subdirs[] = {"metrics", "params", "artifacts"};
    for (size_t i = 0; i < 3; i++) {
        char dir[PATH_CAP];
        if (path_fmt(dir, err, "%s/%s", run->run_dir, subdirs[i]))
            goto fail;
        if (mkdir(dir, 0777) != 0) {
            nnx_rt_fail(err, "mlflow: cannot create %s: %s", dir,
                        strerror(errno));
            goto fail;
        }
    }
    if (write_run_meta(run, NNX_MLFLOW_RUNNING, 0, 0, err)
        || nnx_mlflow_tag(run, "mlflow.runName", run->run_name, err)
        || nnx_mlflow_tag(run, "mlflow.user", run->user, err)
        || (opts->source_name
            && nnx_mlflow_tag(run, "mlflow.source.name", opts->source_name, err))
        || nnx_mlflow_tag(run, "mlflow.source.type", "LOCAL", err))
        goto fail;
    free(location);
    return run;
fail:
    free(location);
    nnx_mlflow_free(run);
    return NULL;
}

int nnx_mlflow_end(nnx_mlflow_run *run, nnx_mlflow_status status,
                   int64_t end_ms, nnx_rt_error *err)
{
    if (status < NNX_MLFLOW_RUNNING || status > NNX_MLFLOW_KILLED)
        return nnx_rt_fail(err, "mlflow: bad run status %d", (int)status);
    return write_run_meta(run, (int)status, end_ms, 1, err);
}

/* --- artifacts --------------------------------------------------------------- */

static int copy_file(const nnx_mlflow_run *run, const char *from,
                     const char *to, nnx_rt_error *err)
{
    nnx_file_out out;
    if (begin_file(&out, run->run_dir, to, err) < 0)
        return -1;
    int in = open(from, O_RDONLY);
    if (in < 0) {
        int saved = errno;
        nnx_file_abort(&out);
        return nnx_rt_fail(err, "mlflow: cannot read %s: %s", from, strerror(saved));
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(in);
            nnx_file_abort(&out);
            return nnx_rt_fail(err, "mlflow: cannot copy %s to %s: %s", from, to,
                               strerror(saved));
        }
        fwrite(buf, 1, (size_t)n, out.f);
    }
    close(in);
    return nnx_file_commit(&out, err) < 0 ? mlflow_said(err) : 0;
}

/* Copy the regular files under from/ into to/, skipping the directory whose
 * (dev, ino) is `skip` (the store, if it lies inside). */
static int copy_tree(const nnx_mlflow_run *run, const char *from,
                     const char *to, const struct stat *skip, int depth,
                     nnx_rt_error *err)
{
    if (depth > 64)
        return nnx_rt_fail(err, "mlflow: %s: directories nested too deep", from);
    DIR *d = opendir(from);
    if (!d)
        return nnx_rt_fail(err, "mlflow: cannot read %s: %s", from,
                           strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char src[PATH_CAP], dst[PATH_CAP];
        if (path_fmt(src, err, "%s/%s", from, e->d_name)
            || path_fmt(dst, err, "%s/%s", to, e->d_name)) {
            rc = -1;
            break;
        }
        struct stat st;
        if (lstat(src, &st) != 0) {
            rc = nnx_rt_fail(err, "mlflow: cannot stat %s: %s", src,
                             strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            if (!(st.st_dev == skip->st_dev && st.st_ino == skip->st_ino))
                rc = copy_tree(run, src, dst, skip, depth + 1, err);
        } else if (S_ISREG(st.st_mode)) {
            rc = copy_file(run, src, dst, err);
        }
    }
    closedir(d);
    return rc;
}

int nnx_mlflow_artifacts(nnx_mlflow_run *run, const char *dir,
                         nnx_rt_error *err)
{
    if (!run->artifact_dir[0])
        return nnx_rt_fail(err, "mlflow: artifact location %s is not local; "
                                "nnx copies artifacts only into file stores",
                           run->artifact_uri);
    struct stat root_st;
    if (stat(run->root, &root_st) != 0)
        return nnx_rt_fail(err, "mlflow: %s: %s", run->root, strerror(errno));
    struct stat dir_st;
    if (stat(dir, &dir_st) != 0 || !S_ISDIR(dir_st.st_mode))
        return nnx_rt_fail(err, "mlflow: %s is not a directory", dir);
    if (make_dirs(run->artifact_dir, err))
        return -1;
    return copy_tree(run, dir, run->artifact_dir, &root_st, 0, err);
}
