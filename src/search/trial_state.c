/* trial_state.c — what a trial's directory and lock file say of it: ended, running, interrupted or not started. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnx/util/json.h"
#include "search/search_int.h"

const char *nnx_trial_state_name(nnx_trial_state s)
{
    static const char *const names[] = { "ended", "running", "interrupted", "killed", "not started" };
    return s <= NNX_TRIAL_NOT_STARTED ? names[s] : "?";
}

/* Does another process hold the record lock of DIR/.nnx-lock (a whole-search run, or --trial processes)? */
static bool search_busy(const char *search_dir)
{
    char *path = nnx_path_join(search_dir, ".nnx-lock");
    int fd = path ? open(path, O_RDONLY) : -1;
    free(path);
    if (fd < 0)
        return false;
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    bool busy = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return busy;
}

/* The status summary.json gives, into buf ("" when none). */
static void summary_status(const char *trial_dir, char *buf, size_t size)
{
    buf[0] = 0;
    char *path = nnx_path_join(trial_dir, "summary.json");
    size_t len = 0;
    nnx_rt_error err;
    char *text = path && srch_exists(path) ? nnx_file_read(path, 1 << 20, &len, &err) : NULL;
    free(path);
    nnx_json_error je;
    nnx_json *j = text ? nnx_json_parse(text, len, &je) : NULL;
    free(text);
    if (j)
        snprintf(buf, size, "%s", nnx_json_as_string(nnx_json_get(j, "status"), ""));
    nnx_json_free(j);
}

int nnx_search_trial_look(const char *search_dir, const char *root, const char *name, nnx_search_row *row,
                          nnx_trial_state *state, char *holder, size_t hsize, nnx_rt_error *err)
{
    holder[0] = 0;
    char *dir = nnx_path_join(root, name);
    char *resume = dir ? nnx_path_join(dir, "resume.state") : NULL;
    if (!dir || !resume) {
        free(dir);
        free(resume);
        return nnx_rt_fail(err, "out of memory");
    }
    int r = nnx_search_row_read(dir, row, err);
    if (r < 0) {
        free(dir);
        free(resume);
        return -1;
    }
    srch_lock_holder h;
    srch_lock_state ls = srch_lock_probe(search_dir, name, &h);
    char status[32];
    summary_status(dir, status, sizeof status);
    if (r == 1)
        *state = NNX_TRIAL_ENDED;
    else if (ls == SRCH_LOCK_LIVE || ls == SRCH_LOCK_ELSEWHERE) {
        *state = NNX_TRIAL_RUNNING;
        if (h.host[0])
            snprintf(holder, hsize, "%s %ld", h.host, h.pid);
        else    /* an empty lock file, less than a minute old (lock.c) */
            snprintf(holder, hsize, "a process still writing its lock file");
    } else if (!strcmp(status, "running") && ls == SRCH_LOCK_FREE && search_busy(search_dir))
        *state = NNX_TRIAL_RUNNING;     /* a worker of a whole-search run, which takes no trial lock */
    else if (srch_exists(resume))
        *state = NNX_TRIAL_INTERRUPTED;
    else if (status[0])
        *state = NNX_TRIAL_KILLED;      /* it began, and left nothing to continue from */
    else
        *state = NNX_TRIAL_NOT_STARTED;
    if (r != 1)
        nnx_search_row_free(row);
    free(dir);
    free(resume);
    return 0;
}
