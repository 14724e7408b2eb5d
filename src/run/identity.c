/* identity.c — what a run's identity is made of: the settings that change its numbers (not `log`, not hooks that only log). */
#include <stdlib.h>
#include <string.h>

#include "nnx/util/file.h"
#include "nnx/run.h"

bool nnx_run_hooks_log_only(const nnx_experiment *e)
{
    if (!e->hooks)
        return false;
    for (size_t i = 0; i < e->nmetrics; i++)
        if (e->metrics[i].kind == NNX_XMETRIC_LUA)
            return false;
    size_t len = 0;
    char *text = nnx_file_read(e->hooks, 4 << 20, &len, NULL);
    if (!text)
        return false;
    /* Only run:stop and run:set_lr change a run; any mention of their names
     * (a call, a string, a comment) keeps the hooks in the identity. */
    bool only = !strstr(text, "stop") && !strstr(text, "set_lr") && strlen(text) == len;
    free(text);
    return only;
}

/* A line of canonical text that is not part of the identity. */
static bool left_out(const char *line, size_t n, bool hooks_log_only)
{
    if (n && line[0] == '#')
        return true;
    if (n >= 10 && !strncmp(line, "    log = ", 10))
        return true;
    return hooks_log_only && n >= 12 && !strncmp(line, "    hooks = ", 12);
}

char *nnx_run_identity_text(const char *text, bool hooks_log_only)
{
    size_t len = strlen(text);
    char *out = malloc(len + 1), *w = out;
    if (!out)
        return NULL;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) + 1 : strlen(line);
        if (!left_out(line, n, hooks_log_only)) {
            memcpy(w, line, n);
            w += n;
        }
        line += n;
    }
    *w = 0;
    return out;
}
