/* probs.h — a run's per-row predictions on a split (probs_valid.f32, probs_test.f32).
 *
 * Every run that kept an epoch's weights writes them for its valid and test
 * splits (docs/run-directory.md): a 16-byte header "NNXP", version 1, rows,
 * columns (int32, little-endian), then `rows` int32 class labels (-1 for
 * numeric targets and for unlabelled rows), then rows × columns float32 row
 * by row, as the selected weights predict them: softmax probabilities, one
 * column per class (cross_entropy); P(class 1) in one column
 * (binary_cross_entropy); the predicted value in one column (mse).
 * Ownership: an nnx_probs owns labels and p.
 */
#ifndef NNX_PROBS_H
#define NNX_PROBS_H

#include <stdint.h>

#include "nnx/util/error.h"

typedef struct nnx_probs {
    int32_t  rows, cols;
    int32_t *labels;            /* [rows], owned */
    float   *p;                 /* [rows * cols], owned */
} nnx_probs;

/* Write atomically (a unique temporary, then a rename). */
int  nnx_probs_write(const char *path, const nnx_probs *p, nnx_rt_error *err);
int  nnx_probs_read(const char *path, nnx_probs *p, nnx_rt_error *err);
void nnx_probs_free(nnx_probs *p);

#endif
