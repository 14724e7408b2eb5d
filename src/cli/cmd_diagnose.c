/* cmd_diagnose.c — `nnx diagnose DIR [--json]`: the loss-curve diagnosis of a run (or of each trial or member). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "nnx/diagnose.h"
#include "nnx/util/json.h"
#include "nnx/rundir.h"

/* Print text wrapped at 78 columns, each line indented. */
static void print_wrapped(const char *text, const char *indent)
{
    size_t width = 78 - strlen(indent), col = 0;
    const char *p = text;
    fputs(indent, stdout);
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (col && col + 1 + n > width) {
            printf("\n%s", indent);
            col = 0;
        } else if (col) {
            putchar(' ');
            col++;
        }
        fwrite(p, 1, n, stdout);
        col += n;
        p += n;
    }
    putchar('\n');
}

static void print_findings(const nnx_findings *f)
{
    if (f->n == 0) {
        printf("  no findings: the curves look healthy\n");
        return;
    }
    for (size_t i = 0; i < f->n; i++) {
        const nnx_finding *x = &f->items[i];
        printf("  %s: %s", nnx_severity_name(x->severity), nnx_rule_name(x->rule));
        if (x->epoch)
            printf(" (epoch %d)", x->epoch);
        putchar('\n');
        print_wrapped(x->message, "      ");
        char ev[512] = "evidence:";
        for (int k = 0; k < x->nevidence; k++) {
            size_t len = strlen(ev);
            snprintf(ev + len, sizeof ev - len, "%s %s = %.4g", k ? "," : "", x->evidence[k].name,
                     x->evidence[k].value);
        }
        print_wrapped(ev, "      ");
    }
}

/* Diagnose one run; -1 (after printing why) when it has no curves. */
static int diagnose_run(const nnx_run *run, const char *label, bool json, nnx_json_writer *w)
{
    nnx_curves c;
    nnx_findings f;
    nnx_rt_error err = { { 0 } };
    if (nnx_run_curves(run, &c, &err) < 0 || nnx_diagnose(&c, &f, &err) < 0) {
        if (json) {
            nnx_json_key(w, label);
            nnx_json_null(w);
        } else {
            const char *msg = nnx_json_as_string(nnx_json_get(run->summary, "status_message"), "");
            printf("%s: %s%s%s\n", label, err.msg, msg[0] ? ": " : "", msg);
        }
        return -1;
    }
    if (json) {
        nnx_json_key(w, label);
        nnx_findings_write_json(&f, w);
        return 0;
    }
    printf("%s: %s%s%zu epochs, status %s, select %s(%s)\n", label, run->experiment,
           run->experiment[0] ? ", " : "", c.epochs, run->status, run->select_max ? "max" : "min",
           run->select_metric);
    print_findings(&f);
    return 0;
}

int cmd_diagnose(int argc, char **argv)
{
    const char *dir = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            static const char *const known[] = { "--json" };
            cli_unknown_flag("diagnose", argv[i], known, 1);
            fprintf(stderr, "usage: nnx diagnose DIR [--json]\n");
            return EXIT_BAD_INPUT;
        } else if (dir) {
            fprintf(stderr, "nnx diagnose: one directory at a time ('%s' and '%s')\n", dir, argv[i]);
            return EXIT_BAD_INPUT;
        } else {
            dir = argv[i];
        }
    }
    if (!dir) {
        fprintf(stderr, "usage: nnx diagnose DIR [--json]\n");
        return EXIT_BAD_INPUT;
    }
    nnx_rundir d;
    nnx_rt_error err = { { 0 } };
    if (nnx_rundir_read(dir, &d, &err) < 0) {
        fprintf(stderr, "nnx diagnose: %s\n", err.msg);
        cli_hint_rundirs("diagnose", dir);
        return EXIT_BAD_INPUT;
    }
    nnx_json_writer w;
    nnx_json_writer_to_file(&w, stdout, 2);
    int status = EXIT_OK;
    if (d.kind == NNX_RUNDIR_RUN) {
        if (json) {
            nnx_curves c;
            nnx_findings f;
            if (nnx_run_curves(&d.run, &c, &err) < 0 || nnx_diagnose(&c, &f, &err) < 0) {
                fprintf(stderr, "nnx diagnose: %s\n", err.msg);
                nnx_rundir_free(&d);
                return EXIT_BAD_INPUT;
            }
            nnx_findings_write_json(&f, &w);
        } else if (diagnose_run(&d.run, d.path, false, NULL) < 0) {
            status = EXIT_BAD_INPUT;
        }
    } else {
        const char *what = d.kind == NNX_RUNDIR_SEARCH ? "trial" : "member";
        if (json)
            nnx_json_begin_object(&w);
        for (size_t i = 0; i < d.nchildren; i++) {
            char label[600];
            if (json)
                snprintf(label, sizeof label, "%s", d.child_names[i]);
            else
                snprintf(label, sizeof label, "%s%s %s", i ? "\n" : "", what, d.child_names[i]);
            if (d.child_errors[i]) {
                if (json) {
                    nnx_json_key(&w, label);
                    nnx_json_null(&w);
                } else {
                    printf("%s: %s\n", label, d.child_errors[i]);
                }
                continue;
            }
            diagnose_run(&d.children[i], label, json, &w);
        }
        if (json)
            nnx_json_end_object(&w);
    }
    if (json && nnx_json_writer_finish(&w, &err) < 0) {
        fprintf(stderr, "nnx diagnose: %s\n", err.msg);
        status = EXIT_BAD_INPUT;
    }
    nnx_rundir_free(&d);
    return status;
}
