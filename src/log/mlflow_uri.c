/* mlflow_uri.c — where an MLflow store is (a tracking URI or a path, made absolute) and the names it takes: file URIs both ways, sanitized keys. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nnx/mlflow.h"
#include "log/mlflow_int.h"

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

int mlflow_percent_decode(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s; s++) {
        if (o + 1 >= cap)
            return -1;
        if (*s == '%' && isxdigit((unsigned char)s[1])
            && isxdigit((unsigned char)s[2])) {
            out[o++] = (char)(hexval((unsigned char)s[1]) * 16
                              + hexval((unsigned char)s[2]));
            s += 2;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return 0;
}

void mlflow_file_uri(text *t, const char *path)
{
    mlflow_text_add(t, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("_.-~/", *p))
            mlflow_text_add(t, "%c", *p);
        else
            mlflow_text_add(t, "%%%02X", *p);
    }
}

int nnx_mlflow_resolve_root(const char *uri, const char *env_uri, char *out,
                            size_t cap, nnx_rt_error *err)
{
    if (!uri || !*uri)
        uri = env_uri;
    if (!uri || !*uri)
        uri = "./mlruns";
    char path[MLFLOW_PATH_CAP];
    if (!strncmp(uri, "file:", 5)) {
        const char *rest = uri + 5;
        if (!strncmp(rest, "//", 2)) {
            rest += 2;
            const char *slash = strchr(rest, '/');
            size_t host = slash ? (size_t)(slash - rest) : strlen(rest);
            if (host && !(host == 9 && !strncmp(rest, "localhost", 9)))
                return nnx_rt_fail(err, "mlflow: '%s' names another host; "
                                        "only local file stores are written",
                                   uri);
            rest += host;
        }
        if (!*rest)
            return nnx_rt_fail(err, "mlflow: '%s' has no path", uri);
        if (mlflow_percent_decode(rest, path, sizeof path))
            return nnx_rt_fail(err, "mlflow: tracking path too long");
    } else {
        size_t scheme = strspn(uri, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
                                    "NOPQRSTUVWXYZ0123456789+.-");
        if ((scheme > 1 && uri[scheme] == ':' && isalpha((unsigned char)uri[0]))
            || !strcmp(uri, "databricks") || !strcmp(uri, "databricks-uc"))
            return nnx_rt_fail(err, "mlflow: tracking URI '%s' is not a local "
                                    "file store (use file:/path or a path)",
                               uri);
        if (snprintf(path, sizeof path, "%s", uri) >= (int)sizeof path)
            return nnx_rt_fail(err, "mlflow: tracking path too long");
    }

    char abs[2 * MLFLOW_PATH_CAP];
    if (path[0] == '/') {
        snprintf(abs, sizeof abs, "%s", path);
    } else {
        char cwd[MLFLOW_PATH_CAP];
        if (!getcwd(cwd, sizeof cwd))
            return nnx_rt_fail(err, "mlflow: cannot get current directory: %s",
                               strerror(errno));
        snprintf(abs, sizeof abs, "%s/%s", cwd, path);
    }
    /* Drop empty and "." components, keep ".." (symlinks make it unsafe to
     * fold), no trailing slash. */
    size_t o = 0;
    for (const char *p = abs; *p;) {
        while (*p == '/')
            p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len && !(len == 1 && *p == '.')) {
            if (o + len + 2 > cap)
                return nnx_rt_fail(err, "mlflow: tracking path too long");
            out[o++] = '/';
            memcpy(out + o, p, len);
            o += len;
        }
        p += len;
    }
    if (cap < 2)
        return nnx_rt_fail(err, "mlflow: tracking path too long");
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return 0;
}

void nnx_mlflow_sanitize_key(const char *key, char *out, size_t cap)
{
    size_t limit = cap - 1 < MLFLOW_KEY_MAX ? cap - 1 : MLFLOW_KEY_MAX;
    size_t o = 0;
    const char *p = key ? key : "";
    while (*p && o < limit) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, "/");
        if (o && o < limit)
            out[o++] = '/';
        int dots = (len == 1 && p[0] == '.') || (len == 2 && !strncmp(p, "..", 2));
        for (size_t i = 0; i < len && o < limit; i++) {
            unsigned char c = (unsigned char)p[i];
            int ok = c < 0x80 && (isalnum(c) || strchr("_-. ", c));
            out[o++] = dots ? '_' : ok ? (char)c : '_';
        }
        p += len;
    }
    while (o && out[o - 1] == '/')
        o--;
    if (o == 0)
        out[o++] = '_';
    out[o] = '\0';
}
