/* cmd_check.c — `nnx check FILE... [--from DIR] [--set path=value]...`: parse, resolve, type- and shape-check every experiment. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nnx/check.h"
#include "nnx/diag.h"
#include "nnx/resolve.h"

static int check_file(const char *path, const nnx_override *sets, const char *const *origins,
                      size_t nsets, bool color, bool verbose)
{
    nnx_diags d = { 0 };
    nnx_program *p = nnx_program_load(path, NULL, &d);
    size_t n = 0;
    if (p) {
        nnx_checker *c = nnx_checker_new(p);
        if (c) {
            nnx_checker_set_verbose(c, verbose);
            n = nnx_check_program_from(c, sets, origins, nsets, &d);
            nnx_diags_print(&d, stderr, color);
            nnx_checker_free(c);
        } else {
            fprintf(stderr, "nnx check: out of memory\n");
            d.nerrors++;
        }
        nnx_program_free(p);
    } else {
        nnx_diags_print(&d, stderr, color);
        if (!d.nerrors) {
            fprintf(stderr, "nnx check: out of memory\n");
            d.nerrors++;
        }
    }
    int errors = d.nerrors;
    nnx_diags_free(&d);
    if (errors) {
        fprintf(stderr, "%s: %d error%s\n", path, errors, errors == 1 ? "" : "s");
        return EXIT_BAD_INPUT;
    }
    printf("%s: ok (%zu experiment%s)\n", path, n, n == 1 ? "" : "s");
    return EXIT_OK;
}

static int usage(FILE *f, int status)
{
    fprintf(f, "usage: nnx check [--verbose] FILE... [--from DIR] [--set path=value]...\n"
               "  parse, resolve imports, and check every name, key, type, range and shape;\n"
               "  --from DIR         first apply the winning values of the search in DIR to every\n"
               "                     experiment, as `nnx run --from` does to one\n"
               "  --set path=value   override a setting of every experiment, as `nnx run` does\n"
               "  --verbose          also note what the checker decided (a residual block's projection)\n"
               "  exit 0 when every file is sound, 2 otherwise\n");
    return status;
}

int cmd_check(int argc, char **argv)
{
    nnx_override sets[CLI_MAX_SETS];
    const char *from_dir = NULL;
    bool verbose = false;
    size_t nsets = 0, nfiles = 0;
    const char *files[256];
    int set;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout, EXIT_OK);
        if (!strcmp(a, "--verbose"))
            verbose = true;
        else if ((set = cli_set_flag("check", argc, argv, &i, sets, &nsets)) != 0 ||
                 (set = cli_from_flag("check", argc, argv, &i, &from_dir)) != 0) {
            if (set < 0)
                return EXIT_BAD_INPUT;
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = { "--set", "--from", "--verbose", "--help" };
            cli_unknown_flag("check", a, known, 4);
            return usage(stderr, EXIT_BAD_INPUT);
        } else if (nfiles == sizeof files / sizeof *files) {
            fprintf(stderr, "nnx check: at most %zu files at once\n", sizeof files / sizeof *files);
            return EXIT_BAD_INPUT;
        } else
            files[nfiles++] = a;
    }
    if (!nfiles)
        return usage(stderr, EXIT_BAD_INPUT);
    cli_from from;
    nnx_override all[2 * CLI_MAX_SETS];
    const char *origins[2 * CLI_MAX_SETS];
    size_t nall;
    if (cli_from_merge("check", from_dir, sets, nsets, all, origins, &nall, &from) < 0)
        return EXIT_BAD_INPUT;
    if (from_dir)
        cli_from_say(stdout, from_dir, &from, all);
    bool color = isatty(fileno(stderr));
    int status = EXIT_OK;
    for (size_t i = 0; i < nfiles; i++)
        if (check_file(files[i], all, origins, nall, color, verbose) != EXIT_OK)
            status = EXIT_BAD_INPUT;
    cli_from_free(&from);
    return status;
}
