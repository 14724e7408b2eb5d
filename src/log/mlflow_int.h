/* mlflow_int.h — what mlflow.c (the store) and mlflow_yaml.c (its meta.yaml text) share (not public). */
#ifndef NNX_MLFLOW_INT_H
#define NNX_MLFLOW_INT_H

#include <stddef.h>

#define MLFLOW_PATH_CAP 4096

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

#endif
