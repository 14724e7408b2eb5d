/* tabcache.h — a parsed table in one file: written once, mapped on the next load, checked before it is trusted.
 *
 * An entry holds a data set as a loader made it (features, targets, class
 * and feature names, source rows), the CSV column encoding fitted with it
 * (when there was one) and what applying an encoding met (nnx_csv_stats),
 * under a key string that says what it was made from (the caller's: a
 * file's path, size and mtime and every parse option).
 *
 * Layout (native byte order, marked): a 128-byte header with its own
 * checksum, then the metadata (key, targets, names, encoding, stats), then
 * the features, n*d float32 at a page-aligned offset so that a reader maps
 * them where they lie.  The metadata and the features each carry a 64-bit
 * checksum, verified on every read, with the file's length: a truncated,
 * overwritten or foreign file is refused, never trusted.
 *
 * Nothing here prints; errors are values (see error.h).
 */
#ifndef NNX_RT_TABCACHE_H
#define NNX_RT_TABCACHE_H

#include "nnx/rt/data.h"
#include "nnx/util/error.h"

/* Write an entry to path through a unique temporary and a rename (a reader
 * never sees half of one; several writers may race, the last rename wins),
 * readable by its owner only (mode 0600: the rows may be private).
 * enc may be NULL (none stored); stats may be NULL (zeros stored).
 * Errors: the file writer's ("PATH: cannot write: REASON", ...). */
int nnx_tabcache_write(const char *path, const char *key, const nnx_dataset *ds,
                       const nnx_csv_encoding *enc, const nnx_csv_stats *stats,
                       nnx_rt_error *err);

/* Read the entry at path made under `key`: 1 with *out complete (its
 * features in a read-only mapping the set owns), *enc the stored encoding
 * when enc is not NULL (zeroed when none was stored; the caller frees it)
 * and *stats when not NULL; 0 when there is no entry (the path or its
 * directory does not exist); -1 when there is one that cannot be used, err saying why ("made
 * from another key" when the key differs, "truncated", "bad checksum",
 * "not a cache entry", ...).  *out and *enc are zeroed unless 1. */
int nnx_tabcache_read(const char *path, const char *key, nnx_dataset *out,
                      nnx_csv_encoding *enc, nnx_csv_stats *stats, nnx_rt_error *err);

/* A 64-bit hash of n bytes (the cache's checksum; also names an entry by
 * its key). */
uint64_t nnx_tabcache_hash(const void *data, size_t n);

#endif
