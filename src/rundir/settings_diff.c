/* settings_diff.c — the differences between two experiments' settings lists, with the layers aligned by LCS. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/compare.h"

static bool is_layer(const char *path)
{
    return !strncmp(path, "model[", 6);
}

typedef struct changes {
    nnx_setting_change *v;
    size_t n, cap;
    bool oom;
} changes;

static void add(changes *c, const char *path, size_t index, const char *a, const char *b)
{
    if (c->oom)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        nnx_setting_change *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->oom = true;
            return;
        }
        c->v = v;
        c->cap = cap;
    }
    char buf[256];
    if (index)
        snprintf(buf, sizeof buf, "model[%zu]", index);
    else
        snprintf(buf, sizeof buf, "%s", path);
    char *p = malloc(strlen(buf) + 1);
    if (!p) {
        c->oom = true;
        return;
    }
    strcpy(p, buf);
    c->v[c->n++] = (nnx_setting_change){ .path = p, .a = a, .b = b };
}

/* The layers of both sides, aligned: an edit script from the LCS table. */
static void diff_layers(changes *c, const char *const *la, size_t na, const char *const *lb, size_t nb)
{
    size_t w = nb + 1;
    unsigned *t = calloc((na + 1) * w, sizeof *t);
    if (!t) {
        c->oom = true;
        return;
    }
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;)
            t[i * w + j] = !strcmp(la[i], lb[j]) ? t[(i + 1) * w + j + 1] + 1
                           : t[(i + 1) * w + j] > t[i * w + j + 1] ? t[(i + 1) * w + j]
                                                                   : t[i * w + j + 1];
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (i < na && j < nb && !strcmp(la[i], lb[j])) {
            i++, j++;
            continue;
        }
        /* a run of removals and additions between two common layers */
        size_t i0 = i, j0 = j;
        while (i < na || j < nb) {
            if (i < na && j < nb && !strcmp(la[i], lb[j]))
                break;
            if (j < nb && (i == na || t[i * w + j + 1] >= t[(i + 1) * w + j]))
                j++;
            else
                i++;
        }
        size_t del = i - i0, ins = j - j0, pair = del < ins ? del : ins;
        for (size_t k = 0; k < pair; k++)
            add(c, NULL, j0 + k + 1, la[i0 + k], lb[j0 + k]);
        for (size_t k = pair; k < del; k++)
            add(c, NULL, i0 + k + 1, la[i0 + k], NULL);
        for (size_t k = pair; k < ins; k++)
            add(c, NULL, j0 + k + 1, NULL, lb[j0 + k]);
    }
    free(t);
}

static const char *find(const nnx_exp_param *v, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].path, path))
            return v[i].value;
    return NULL;
}

static const char **layers(const nnx_exp_param *v, size_t n, size_t *count)
{
    const char **out = malloc((n ? n : 1) * sizeof *out);
    *count = 0;
    for (size_t i = 0; out && i < n; i++)
        if (is_layer(v[i].path))
            out[(*count)++] = v[i].value;
    return out;
}

int nnx_settings_diff(const nnx_exp_param *a, size_t na, const nnx_exp_param *b, size_t nb,
                      nnx_setting_change **out, size_t *n)
{
    changes c = { 0 };
    bool layers_done = false;
    for (size_t i = 0; i < na; i++) {
        if (is_layer(a[i].path)) {
            if (!layers_done) {
                size_t la_n, lb_n;
                const char **la = layers(a, na, &la_n), **lb = layers(b, nb, &lb_n);
                if (la && lb)
                    diff_layers(&c, la, la_n, lb, lb_n);
                else
                    c.oom = true;
                free(la);
                free(lb);
                layers_done = true;
            }
            continue;
        }
        const char *other = find(b, nb, a[i].path);
        if (!other || strcmp(other, a[i].value))
            add(&c, a[i].path, 0, a[i].value, other);
    }
    for (size_t i = 0; i < nb; i++) {
        if (is_layer(b[i].path)) {
            if (!layers_done) {         /* a had no layers at all */
                for (size_t j = i, k = 1; j < nb; j++)
                    if (is_layer(b[j].path))
                        add(&c, NULL, k++, NULL, b[j].value);
                layers_done = true;
            }
            continue;
        }
        if (!find(a, na, b[i].path))
            add(&c, b[i].path, 0, NULL, b[i].value);
    }
    if (c.oom) {
        nnx_setting_changes_free(c.v, c.n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    *out = c.v;
    *n = c.n;
    return 0;
}

void nnx_setting_changes_free(nnx_setting_change *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].path);
    free(c);
}
