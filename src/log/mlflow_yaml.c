/* mlflow_yaml.c — the YAML of an MLflow store's meta.yaml files: a bounded text, scalars quoted as PyYAML reads them, a top-level key read back. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/mlflow_int.h"
#include "nnx/util/utf8.h"

void mlflow_text_add(text *t, const char *fmt, ...)
{
    if (t->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->s + t->len, sizeof t->s - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof t->s - t->len)
        t->full = 1;
    else
        t->len += (size_t)n;
}

/* Would a YAML 1.1 reader (PyYAML) take this plain scalar as something other
 * than the same string, or not as a plain scalar at all?  Conservative: it
 * quotes some strings PyYAML would leave plain, never the other way round. */
static int yaml_needs_quotes(const char *s)
{
    static const char *const words[] = {
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"};
    size_t n = strlen(s);
    if (n == 0 || s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':')
        return 1;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t k = 0;
        while (words[i][k] && tolower((unsigned char)s[k]) == words[i][k])
            k++;
        if (!words[i][k] && !s[k])
            return 1;
    }
    /* Numbers in every YAML 1.1 form (0x1f, .inf, +1, 1_000, 12:30, 1e5)
     * start with a digit, a sign or a dot: quote those, except lowercase hex
     * with a letter other than 'e' (a run id), which no resolver takes for a
     * number. */
    int hex_id = strspn(s, "0123456789abcdef") == n && strpbrk(s, "abcdf");
    if (!isalpha((unsigned char)s[0]) && s[0] != '/' && s[0] != '_' && !hex_id)
        return 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e)  /* control, or non-ASCII: quote to be safe */
            return 1;
        if ((c == ':' && s[i + 1] == ' ') || (c == ' ' && s[i + 1] == '#'))
            return 1;
    }
    return 0;
}

/* Append s as a YAML scalar: plain when safe, else single-quoted, else
 * (control characters) double-quoted with escapes. */
static void yaml_scalar(text *t, const char *s)
{
    if (!yaml_needs_quotes(s)) {
        mlflow_text_add(t, "%s", s);
        return;
    }
    int printable = 1;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            printable = 0;
    if (printable) {
        mlflow_text_add(t, "'");
        for (const char *p = s; *p; p++)
            mlflow_text_add(t, *p == '\'' ? "''" : "%c", *p);
        mlflow_text_add(t, "'");
        return;
    }
    mlflow_text_add(t, "\"");
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            mlflow_text_add(t, "\\%c", c);
        else if (c == '\n')
            mlflow_text_add(t, "\\n");
        else if (c == '\t')
            mlflow_text_add(t, "\\t");
        else if (c < 0x20 || c == 0x7f)
            mlflow_text_add(t, "\\x%02x", c);
        else
            mlflow_text_add(t, "%c", c);
    }
    mlflow_text_add(t, "\"");
}

void mlflow_yaml_field(text *t, const char *key, const char *value)
{
    mlflow_text_add(t, "%s: ", key);
    yaml_scalar(t, value);
    mlflow_text_add(t, "\n");
}

/* Decode the scalar in v (already joined into one line) into out[cap]. */
static void yaml_unquote(const char *v, char *out, size_t cap)
{
    size_t o = 0;
    if (*v == '\'') {
        for (v++; *v && o + 1 < cap; v++) {
            if (*v == '\'') {
                if (v[1] != '\'')
                    break;
                v++;
            }
            out[o++] = *v;
        }
    } else if (*v == '"') {
        static const char from[] = "nt\"\\/ r", to[] = "\n\t\"\\/ \r";
        for (v++; *v && *v != '"' && o + 4 < cap; v++) {
            if (*v != '\\' || !v[1]) {
                out[o++] = *v;
                continue;
            }
            v++;
            const char *hit = strchr(from, *v);
            int digits = *v == 'x' ? 2 : *v == 'u' ? 4 : *v == 'U' ? 8 : 0;
            if (digits) {
                char hex[9] = {0};
                for (int i = 0; i < digits && isxdigit((unsigned char)v[1]); i++)
                    hex[i] = *++v;
                o += nnx_utf8_put(out + o, strtoul(hex, NULL, 16));
            } else if (hit) {
                out[o++] = to[hit - from];
            } else {
                out[o++] = *v;
            }
        }
    } else if (strcmp(v, "null") && strcmp(v, "~")) {
        for (; *v && o + 1 < cap; v++)
            out[o++] = *v;
    }
    out[o] = '\0';
}

/* The value of top-level `key` in a block-style YAML mapping (as MLflow's
 * yaml.safe_dump writes it), continuation lines folded with single spaces,
 * unquoted into out[cap].  0 if found, -1 if not. */
int mlflow_yaml_get(const char *doc, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *line = doc; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            char joined[3 * MLFLOW_PATH_CAP];
            size_t n = 0;
            const char *p = line + klen + 1;
            for (;;) {
                while (p < eol && *p == ' ')
                    p++;
                if (n && n + 1 < sizeof joined)
                    joined[n++] = ' ';
                while (p < eol && n + 1 < sizeof joined)
                    joined[n++] = *p++;
                if (*eol != '\n' || eol[1] != ' ')
                    break;
                p = eol + 1;
                eol = strchr(p, '\n');
                if (!eol)
                    eol = p + strlen(p);
            }
            while (n && joined[n - 1] == ' ')
                n--;
            joined[n] = '\0';
            yaml_unquote(joined, out, cap);
            return 0;
        }
        line = *eol ? eol + 1 : eol;
    }
    return -1;
}
