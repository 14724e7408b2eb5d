/* checkpoint.h — saving and loading a compiled network's parameters and state.
 *
 * File layout (little-endian): the magic "NNXCKPT1", a u32 version, the input
 * shape, the layer count and for each layer its kind, hyper-parameters and
 * output shape, then nparams + nstate floats and a CRC-32 of everything
 * before it.  Saving writes PATH.tmp and renames it over PATH, so a reader
 * never sees half a file.  Loading checks every header field against the
 * network it loads into and reports the first difference ("layer 3: dense
 * has 128 units in the file, 256 in the network"); a short or corrupt file is
 * an error, and on any error the network is left unchanged.
 */
#ifndef NNX_RT_CHECKPOINT_H
#define NNX_RT_CHECKPOINT_H

#include "nnx/util/error.h"
#include "nnx/rt/net.h"

#define NNX_CHECKPOINT_VERSION 1

int nnx_net_save(const nnx_net *net, const char *path, nnx_rt_error *err);
int nnx_net_load(nnx_net *net, const char *path, nnx_rt_error *err);

/* A new network built from the file alone: its input shape and layer list
 * (kind, hyper-parameters) make the layers, then the network is compiled for
 * batches of at most max_batch rows and loaded with the file's parameters
 * and state.  Nothing but the file is needed (no experiment).  The caller
 * owns the result (nnx_net_free); NULL with err for a file that is not a
 * checkpoint, is truncated or corrupt, or lists a layer this runtime cannot
 * build.  What compiling allocates is bounded: a network whose activations
 * would need more than 256 MB a row (and 64 bytes more for each byte of the
 * file) is refused as corrupt, and max_batch is lowered until a batch's
 * activations fit 1 GB (nnx_net_max_batch tells the batch compiled for). */
nnx_net *nnx_net_open(const char *path, int max_batch, nnx_rt_error *err);

#endif
