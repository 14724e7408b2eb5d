/* cmd_fmt.c — `nnx fmt [-w | --check] FILE...`: print, rewrite or check the canonical layout. */
#define _XOPEN_SOURCE 700       /* realpath() */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "nnx/ast.h"
#include "nnx/diag.h"
#include "nnx/fmt.h"
#include "nnx/util/file.h"

enum fmt_mode { FMT_PRINT, FMT_WRITE, FMT_CHECK };

static void fmt_usage(FILE *out)
{
    fprintf(out, "usage: nnx fmt [-w | --check] FILE...\n"
                 "  (no flag)  print each file in canonical layout to stdout\n"
                 "  -w         rewrite the files that are not in canonical layout\n"
                 "  --check    list the files that are not, and exit 1 if there are any\n");
}

/* Replace `path` by `text` atomically: a temporary file beside it, then
 * rename, keeping the file's mode.  A symbolic link stays a link: the file it
 * points to is replaced. */
static int write_atomically(const char *link, const char *text, nnx_rt_error *err)
{
    char *path = realpath(link, NULL);
    if (!path)
        return nnx_rt_fail(err, "%s", strerror(errno));
    nnx_file_out out;
    int rc = nnx_file_begin(&out, path, NULL, NNX_FILE_UNIQUE | NNX_FILE_SYNC, err);
    if (rc == 0) {
        struct stat st;
        if (stat(path, &st) == 0)
            fchmod(fileno(out.f), st.st_mode & 07777);
        fputs(text, out.f);
        rc = nnx_file_commit(&out, err);
    }
    free(path);
    return rc;
}

/* Is the file, byte for byte, `text`?  (The parser's copy has CRLF folded,
 * so a CRLF file is compared as it is on disk.) */
static bool file_is(const char *path, const char *text)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = strlen(text), i = 0;
    int c;
    bool same = true;
    while (same && (c = fgetc(f)) != EOF)
        same = i < n && (unsigned char)text[i++] == c;
    fclose(f);
    return same && i == n;
}

/* Format one file; returns the exit status it deserves on its own. */
static int fmt_one(const char *path, enum fmt_mode mode, bool color)
{
    nnx_diags diags = {0};
    nnx_source *src = nnx_source_read(path, &diags);
    nnx_file *file = src ? nnx_parse(src, &diags) : NULL;
    int status = EXIT_OK;
    if (src && !file)
        nnx_error(&diags, (nnx_loc){0}, "out of memory parsing '%s'", path);
    if (diags.nerrors > 0) {
        nnx_diags_print(&diags, stderr, color);
        nnx_file_free(file);
        nnx_diags_free(&diags);
        return EXIT_BAD_INPUT;
    }
    char *text = nnx_fmt_file(file);
    if (!text) {
        fprintf(stderr, "nnx fmt: out of memory formatting '%s'\n", path);
        status = EXIT_BAD_INPUT;
    } else if (mode == FMT_PRINT) {
        fputs(text, stdout);
    } else if (!file_is(path, text)) {
        if (mode == FMT_CHECK) {
            printf("%s\n", path);
            status = EXIT_RUN_FAILED;
        } else {
            nnx_rt_error err;
            if (write_atomically(path, text, &err) != 0) {
                fprintf(stderr, "nnx fmt: cannot rewrite '%s': %s\n", path, err.msg);
                status = EXIT_BAD_INPUT;
            }
        }
    }
    free(text);
    nnx_file_free(file);
    nnx_diags_free(&diags);
    return status;
}

int cmd_fmt(int argc, char **argv)
{
    enum fmt_mode mode = FMT_PRINT;
    int first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        const char *a = argv[first];
        enum fmt_mode m;
        if (!strcmp(a, "--")) {
            first++;
            break;
        } else if (!strcmp(a, "-w") || !strcmp(a, "--write")) {
            m = FMT_WRITE;
        } else if (!strcmp(a, "--check")) {
            m = FMT_CHECK;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fmt_usage(stdout);
            return EXIT_OK;
        } else {
            static const char *const known[] = { "--write", "--check", "--help" };
            cli_unknown_flag("fmt", a, known, 3);
            fmt_usage(stderr);
            return EXIT_BAD_INPUT;
        }
        if (mode != FMT_PRINT && mode != m) {
            fprintf(stderr, "nnx fmt: -w and --check cannot be used together\n");
            return EXIT_BAD_INPUT;
        }
        mode = m;
    }
    if (first >= argc) {
        fprintf(stderr, "nnx fmt: no file given\n");
        fmt_usage(stderr);
        return EXIT_BAD_INPUT;
    }
    bool color = isatty(fileno(stderr));
    int worst = EXIT_OK;
    for (int i = first; i < argc; i++) {
        int status = fmt_one(argv[i], mode, color);
        /* Bad input outranks a failed check. */
        if (status == EXIT_BAD_INPUT || (status == EXIT_RUN_FAILED && worst == EXIT_OK))
            worst = status;
    }
    return worst;
}
