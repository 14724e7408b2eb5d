/* rt.h — nnx's training runtime, the whole public API in one include.
 *
 * The runtime stands alone: it is a C library for building networks, loading
 * data, training and measuring, and it knows nothing of the nnx language.
 * Each subsystem has its own header under nnx/rt/.
 */
#ifndef NNX_RT_H
#define NNX_RT_H

#include "nnx/util/error.h"
#include "nnx/rt/rng.h"
#include "nnx/rt/data.h"
#include "nnx/rt/metrics.h"
#include "nnx/rt/lr_schedule.h"
#include "nnx/rt/optim.h"
#include "nnx/rt/net.h"
#include "nnx/rt/loss.h"
#include "nnx/rt/checkpoint.h"
#include "nnx/rt/train.h"
#include "nnx/rt/lr_range.h"

#endif
