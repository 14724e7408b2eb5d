/* compare_side.c — read one side of a comparison: a run directory's resolved experiment and summary, or a .nnx file checked now. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/compare_side.h"
#include "nnx/check.h"
#include "nnx/resolve.h"
#include "nnx/util/file.h"

/* Check `file`'s only experiment and keep its settings. */
static int load_experiment(const char *cmd, const char *file, const char *what, cli_side *s)
{
    nnx_diags d = { 0 };
    nnx_program *p = nnx_program_load(file, NULL, &d);
    nnx_checker *c = p ? nnx_checker_new(p) : NULL;
    nnx_experiment *e = c && d.nerrors == 0 ? nnx_check_experiment(c, NULL, NULL, 0, &d) : NULL;
    int rc = EXIT_OK;
    if (!e) {
        nnx_diags_print(&d, stderr, isatty(fileno(stderr)));
        fprintf(stderr, "nnx %s: %s: %s does not check%s\n", cmd, s->arg, what,
                d.nerrors ? "" : " (out of memory)");
        rc = EXIT_BAD_INPUT;
    } else {
        s->settings = nnx_experiment_settings(e, &s->nsettings);
        s->experiment = malloc(strlen(e->name) + 1);
        if (!s->settings || !s->experiment) {
            fprintf(stderr, "nnx %s: out of memory\n", cmd);
            rc = EXIT_BAD_INPUT;
        } else
            strcpy(s->experiment, e->name);
        if (rc == EXIT_OK && !s->is_run) {
            /* a file not yet run: its git state as it is now */
            const char **files = malloc((p->nfiles + 1) * sizeof *files);
            size_t n = 0;
            for (size_t i = 0; files && i < p->nfiles; i++)
                files[n++] = p->files[i]->src->path;
            if (files && e->hooks)
                files[n++] = e->hooks;
            if (files)
                nnx_provenance_collect(files, n, 0, &s->prov, NULL);
            free(files);
        }
    }
    nnx_experiment_free(e);
    nnx_checker_free(c);
    nnx_program_free(p);
    nnx_diags_free(&d);
    return rc;
}

int cli_side_load(const char *cmd, const char *arg, cli_side *s)
{
    memset(s, 0, sizeof *s);
    s->arg = arg;
    struct stat st;
    if (stat(arg, &st) != 0) {
        fprintf(stderr, "nnx %s: %s: %s\n", cmd, arg, strerror(errno));
        return EXIT_BAD_INPUT;
    }
    if (!S_ISDIR(st.st_mode))
        return load_experiment(cmd, arg, "the experiment", s);
    s->is_run = true;
    char *exp = nnx_path_join(arg, "experiment.nnx");
    char *sum = nnx_path_join(arg, "summary.json");
    int rc = EXIT_OK;
    if (!exp || !sum) {
        fprintf(stderr, "nnx %s: out of memory\n", cmd);
        rc = EXIT_BAD_INPUT;
    } else if (access(exp, R_OK) != 0) {
        fprintf(stderr, "nnx %s: %s: not a run directory (no experiment.nnx); "
                "give a directory that `nnx run` wrote, or a .nnx file\n", cmd, arg);
        cli_hint_rundirs(cmd, arg);
        rc = EXIT_BAD_INPUT;
    } else if (access(sum, F_OK) == 0) {
        nnx_rt_error err = { { 0 } };
        size_t len = 0;
        char *text = nnx_file_read(sum, 16 << 20, &len, &err);
        nnx_json_error je;
        if (!text) {
            fprintf(stderr, "nnx %s: %s\n", cmd, err.msg);
            rc = EXIT_BAD_INPUT;
        } else if (!(s->summary = nnx_json_parse(text, len, &je))) {
            fprintf(stderr, "nnx %s: %s:%d:%d: %s\n", cmd, sum, je.line, je.col, je.msg);
            rc = EXIT_BAD_INPUT;
        }
        free(text);
    }
    if (rc == EXIT_OK)
        rc = load_experiment(cmd, exp, "its experiment.nnx", s);
    free(exp);
    free(sum);
    return rc;
}

void cli_side_free(cli_side *s)
{
    nnx_json_free(s->summary);
    nnx_provenance_free(&s->prov);
    nnx_exp_params_free(s->settings, s->nsettings);
    free(s->experiment);
    memset(s, 0, sizeof *s);
}

void cli_side_git(const cli_side *s, const char **commit, const char **branch, bool *dirty, bool *in_repo)
{
    *commit = *branch = NULL;
    *dirty = *in_repo = false;
    if (!s->is_run) {
        *in_repo = s->prov.state == NNX_PROV_GIT;
        *commit = s->prov.commit;
        *branch = s->prov.branch;
        *dirty = s->prov.dirty;
        return;
    }
    const nnx_json *g = nnx_json_get(s->summary, "git");
    const nnx_json *d = nnx_json_get(g, "dirty");
    *in_repo = nnx_json_get(g, "repository") != NULL;
    *commit = nnx_json_as_string(nnx_json_get(g, "commit"), NULL);
    *branch = nnx_json_as_string(nnx_json_get(g, "branch"), NULL);
    *dirty = d && d->type == NNX_JSON_BOOL && d->boolean;
}
