/* load.c — the start FILE [NAME] [--set ...] commands share: load the file, check the experiment, --from a search. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include <math.h>
#include <stdlib.h>

#include "nnx/check.h"
#include "nnx/util/json.h"
#include "nnx/rundir.h"
#include "nnx/exp.h"
#include "nnx/resolve.h"

nnx_experiment *cli_load_experiment(const char *cmd, const char *file, const char *name,
                                    const nnx_override *sets, const char *const *origins,
                                    size_t nsets, cli_loaded *l)
{
    memset(l, 0, sizeof *l);
    bool color = isatty(fileno(stderr));
    nnx_diags d = { 0 };
    l->program = nnx_program_load(file, NULL, &d);
    l->checker = l->program ? nnx_checker_new(l->program) : NULL;
    if (l->checker && d.nerrors == 0)
        l->e = nnx_check_experiment_from(l->checker, name, sets, origins, nsets, &d);
    nnx_diags_print(&d, stderr, color);
    if (!l->e) {
        if (!d.nerrors)
            fprintf(stderr, "nnx %s: out of memory\n", cmd);
        else
            fprintf(stderr, "%s: %d error%s; nothing was trained\n", file, d.nerrors,
                    d.nerrors == 1 ? "" : "s");
        cli_loaded_free(l);
    }
    nnx_diags_free(&d);
    return l->e;
}

void cli_loaded_free(cli_loaded *l)
{
    nnx_experiment_free(l->e);
    nnx_checker_free(l->checker);
    nnx_program_free(l->program);
    memset(l, 0, sizeof *l);
}

int cli_from_search(const char *cmd, const char *dir, nnx_override *sets, size_t *nsets, size_t max,
                    cli_from *from)
{
    memset(from, 0, sizeof *from);
    nnx_rundir d;
    nnx_rt_error err = { { 0 } };
    if (nnx_rundir_read(dir, &d, &err) < 0) {
        fprintf(stderr, "nnx %s: --from %s: %s\n", cmd, dir, err.msg);
        return -1;
    }
    bool search = d.kind == NNX_RUNDIR_SEARCH && d.summary;
    from->summary = search ? d.summary : NULL;
    if (search)
        d.summary = NULL;           /* kept: the overrides point into it */
    nnx_rundir_free(&d);
    if (!search) {
        fprintf(stderr, "nnx %s: --from %s: not a search directory (it needs trials.csv and "
                "summary.json, as `nnx run` writes for an experiment with a search)\n", cmd, dir);
        return -1;
    }
    const nnx_json *s = from->summary;
    const nnx_json *params = nnx_json_get(s, "winner_params");
    from->winner = nnx_json_as_string(nnx_json_get(s, "winner"), NULL);
    if (!from->winner || !params || params->type != NNX_JSON_OBJECT) {
        fprintf(stderr, "nnx %s: --from %s: the search has no winner yet (no trial finished with "
                "a value of its select metric)\n", cmd, dir);
        cli_from_free(from);
        return -1;
    }
    size_t len = strlen(dir) + sizeof "/summary.json";
    from->origin = malloc(len);
    from->texts = calloc(params->n + 1, sizeof *from->texts);
    if (!from->origin || !from->texts) {
        fprintf(stderr, "nnx %s: out of memory\n", cmd);
        cli_from_free(from);
        return -1;
    }
    snprintf(from->origin, len, "%s/summary.json", dir);
    for (size_t i = 0; i < params->n; i++) {
        const nnx_json *v = &params->items[i];
        char buf[64];
        const char *text = buf;
        if (v->type == NNX_JSON_NUMBER)
            snprintf(buf, sizeof buf, "%.15g", nnx_json_as_number(v));
        else if (v->type == NNX_JSON_BOOL)
            text = v->boolean ? "true" : "false";
        else
            text = nnx_json_as_string(v, "");
        if (*nsets == max) {
            fprintf(stderr, "nnx %s: at most %zu settings with --set and --from\n", cmd, max);
            cli_from_free(from);
            return -1;
        }
        from->texts[from->ntexts] = strdup(text);
        if (!from->texts[from->ntexts]) {
            fprintf(stderr, "nnx %s: out of memory\n", cmd);
            cli_from_free(from);
            return -1;
        }
        sets[(*nsets)++] = (nnx_override){ params->keys[i], from->texts[from->ntexts++] };
    }
    return 0;
}

void cli_from_free(cli_from *from)
{
    for (size_t i = 0; i < from->ntexts; i++)
        free(from->texts[i]);
    free(from->texts);
    free(from->origin);
    nnx_json_free(from->summary);
    memset(from, 0, sizeof *from);
}

int cli_from_merge(const char *cmd, const char *dir, const nnx_override *sets, size_t nsets,
                   nnx_override *all, const char **origins, size_t *nall, cli_from *from)
{
    memset(from, 0, sizeof *from);
    *nall = 0;
    if (dir && cli_from_search(cmd, dir, all, nall, CLI_MAX_SETS, from) < 0)
        return -1;
    for (size_t i = 0; i < *nall; i++)
        origins[i] = from->origin;
    for (size_t i = 0; i < nsets; i++) {
        origins[*nall] = NULL;
        all[(*nall)++] = sets[i];
    }
    return 0;
}

void cli_from_say(FILE *f, const char *dir, const cli_from *from, const nnx_override *all)
{
    fprintf(f, "from        %s: the winner %s,", dir, from->winner);
    for (size_t i = 0; i < from->ntexts; i++)
        fprintf(f, " %s=%s", all[i].path, all[i].value);
    fprintf(f, "\n");
}
