/* tfevents.h — write a run's curves as a TensorBoard event file.
 *
 * With `log = [..., tensorboard]` a run writes
 *     <run dir>/events.out.tfevents.<unix seconds>.<hostname>
 * which `tensorboard --logdir <runs dir>` reads.  The file is a sequence of
 * TFRecords (little-endian u64 length, masked CRC-32C of those 8 bytes, the
 * serialized tensorboard.Event, masked CRC-32C of the data), and its first
 * event holds `file_version = "brain.Event:2"`.
 *
 * Protobuf fields written (tensorboard/compat/proto/{event,summary,tensor}.proto):
 *   Event         wall_time=1 (double)  step=2 (int64)  file_version=3 (string)
 *                 summary=5 (Summary)
 *   Summary       value=1 (repeated Value)
 *   Summary.Value tag=1 (string)  simple_value=2 (float)  metadata=9
 *                 tensor=8 (TensorProto)
 *   SummaryMetadata  plugin_data=1 (PluginData: plugin_name=1, content=2 left
 *                    empty = TextPluginData{version 0})
 *   TensorProto   dtype=1 (DT_STRING = 7)  tensor_shape=2 (empty: rank 0)
 *                 string_val=8
 * A scalar is one Event with one Value holding `simple_value` (float32, as
 * torch's SummaryWriter.add_scalar writes it); a text is one Value with
 * plugin_name "text" and a rank-0 DT_STRING tensor, rendered as Markdown by
 * TensorBoard's text plugin.
 *
 * Every write goes straight to the file's stdio buffer; nnx_tb_flush (call it
 * once per epoch) hands it to the kernel, so a crash after a flush loses
 * nothing already logged.
 *
 * Ownership: nnx_tb_open returns an nnx_tb owned by the caller, released only
 * by nnx_tb_close (which also flushes and closes the file).  Strings passed in
 * are copied or written at once; none is kept.
 *
 * Errors: functions returning int give 0 or -1 after filling *err (which may be
 * NULL); nnx_tb_open returns NULL after filling *err.  Nothing is printed.
 */
#ifndef NNX_TFEVENTS_H
#define NNX_TFEVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "nnx/util/error.h"

typedef struct nnx_tb nnx_tb;

/* Create `dir` if missing (one level, like mkdir) and open a new event file in
 * it named events.out.tfevents.<floor(wall_time)>.<host>; `host` NULL means
 * gethostname().  If that name exists, ".1", ".2", ... is appended, so an
 * existing file is never overwritten.  Writes and flushes the first event
 * (wall_time, file_version "brain.Event:2"). */
nnx_tb *nnx_tb_open(const char *dir, double wall_time, const char *host,
                    nnx_rt_error *err);

/* The file's full path (owned by tb, valid until nnx_tb_close). */
const char *nnx_tb_path(const nnx_tb *tb);

/* One scalar point: tag like "train/loss", "valid/auc", "lr"; step = epoch. */
int nnx_tb_scalar(nnx_tb *tb, const char *tag, int64_t step, double value,
                  double wall_time, nnx_rt_error *err);

/* A Markdown text under `tag` (TensorBoard's Text tab). */
int nnx_tb_text(nnx_tb *tb, const char *tag, int64_t step, const char *text,
                double wall_time, nnx_rt_error *err);

/* The trial's parameters as a Markdown table `| parameter | value |`, written
 * with nnx_tb_text under tag "params" at `step` (normally 0).  '|' and line
 * breaks inside keys or values are escaped so the table stays one row each. */
int nnx_tb_params(nnx_tb *tb, const char *const *keys,
                  const char *const *values, size_t n, int64_t step,
                  double wall_time, nnx_rt_error *err);

/* Hand everything written so far to the kernel (fflush). */
int nnx_tb_flush(nnx_tb *tb, nnx_rt_error *err);

/* Flush, close and free; tb may be NULL.  Returns -1 if the final flush or
 * close failed (tb is freed either way). */
int nnx_tb_close(nnx_tb *tb, nnx_rt_error *err);

#endif
