/* cmd_check.c — `nnx check FILE...`: parse, resolve, type- and shape-check every experiment. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nnx/check.h"
#include "nnx/diag.h"
#include "nnx/resolve.h"

static int check_file(const char *path, bool color, bool verbose)
{
    nnx_diags d = { 0 };
    nnx_program *p = nnx_program_load(path, NULL, &d);
    size_t n = 0;
    if (p) {
        nnx_checker *c = nnx_checker_new(p);
        if (c) {
            nnx_checker_set_verbose(c, verbose);
            n = nnx_check_program(c, &d);
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

int cmd_check(int argc, char **argv)
{
    bool verbose = argc >= 2 && !strcmp(argv[1], "--verbose");
    int first = verbose ? 2 : 1;
    if (argc <= first || !strcmp(argv[first], "-h") || !strcmp(argv[first], "--help")) {
        fprintf(argc <= first ? stderr : stdout,
                "usage: nnx check [--verbose] FILE...\n"
                "  parse, resolve imports, and check every name, key, type, range and shape;\n"
                "  exit 0 when every file is sound, 2 otherwise.  --verbose also notes what\n"
                "  the checker decided (the projection a residual block's skip path gets)\n");
        return argc <= first ? EXIT_BAD_INPUT : EXIT_OK;
    }
    bool color = isatty(fileno(stderr));
    int status = EXIT_OK;
    for (int i = first; i < argc; i++)
        if (check_file(argv[i], color, verbose) != EXIT_OK)
            status = EXIT_BAD_INPUT;
    return status;
}
