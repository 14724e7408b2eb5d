/* mlflow_int.h — what mlflow.c (the store), mlflow_uri.c (its location and names) and mlflow_yaml.c (its meta.yaml text) share (not public). */
#ifndef NNX_MLFLOW_INT_H
#define NNX_MLFLOW_INT_H

#include <stddef.h>

#define MLFLOW_PATH_CAP 4096
#define MLFLOW_KEY_MAX 250  /* MLflow's MAX_ENTITY_KEY_LENGTH */

/* A bounded text being built; `full` is set once something did not fit. */
typedef struct text {
    char s[3 * MLFLOW_PATH_CAP + 4096];
    size_t len;
    int full;
} text;

/* Append printf-style to t (nothing once it is full). */
__attribute__((format(printf, 2, 3)))
void mlflow_text_add(text *t, const char *fmt, ...);
/* "key: value\n", the value a YAML scalar PyYAML reads back as the same string. */
void mlflow_yaml_field(text *t, const char *key, const char *value);
/* The value of top-level `key` in a block-style YAML mapping (as MLflow's
 * yaml.safe_dump writes it), unquoted into out[cap].  0 if found, -1 if not. */
int mlflow_yaml_get(const char *doc, const char *key, char *out, size_t cap);

/* file:///a%20b → /a b: percent-decoding into out[cap]; -1 if it does not fit. */
int mlflow_percent_decode(const char *s, char *out, size_t cap);
/* Append path as a file URI (pathlib's as_uri): "file://" + path with
 * everything but letters, digits, "_.-~/" percent-encoded. */
void mlflow_file_uri(text *t, const char *path);

#endif
