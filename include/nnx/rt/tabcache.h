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
#include "nnx/util/buf.h"
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

/* The key an entry was made under (*key malloc'd; the caller frees it) and
 * its size in bytes, after checking its header and metadata (not the
 * features: that is the full read's).  -1 with err (no path in it: "bad
 * magic", "truncated: ...", "bad checksum", ...). */
int nnx_tabcache_read_key(const char *path, char **key, unsigned long long *bytes,
                          nnx_rt_error *err);

/* --- the cache directory (tabcache_load.c, tabcache_dir.c) ---------------------------
 *
 * An entry is DIR/HASH.nnxtab, HASH the key's part that names the files
 * (their real paths) and the options; the rest of the key (each file's
 * size, mtime, device and inode) tells a stale entry, which is parsed again
 * and replaced.  An entry's mtime is its last use (set on every hit).  The
 * key is lines of text, "path=LEN:PATH" for each source file first. */

#define NNX_TABCACHE_EXT ".nnxtab"

/* The first line of every key: "nnx parsed table VERSION".  Bump it when a
 * loader change makes the same file and options give another table: every
 * older entry then no longer matches its key (and is listed as stale). */
#define NNX_TABCACHE_LOADER_VERSION 2

/* What the cache did during one load (or several). */
typedef struct nnx_tabcache_use {
    int  hits;                  /* loads served from an entry */
    int  writes;                /* loads parsed and written to an entry */
    char warning[512];          /* entries that could not be used or written, or "" */
} nnx_tabcache_use;

/* A parse as the cache sees it: fill out (and enc when it is not NULL and
 * zeroed: the encoding fitted; st when not NULL: what applying one met). */
typedef int (*nnx_tabcache_parse_fn)(void *ctx, nnx_dataset *out, nnx_csv_encoding *enc,
                                     nnx_csv_stats *st, nnx_rt_error *err);

/* parse(ctx, ...) through the cache in dir (NULL: no cache).  paths: the
 * npaths (1..4) files the parse reads; options: every option that changes
 * its result, as text (nnx_tabcache_key_str, nnx_tabcache_key_csv).  An
 * entry made from the same files (path, size, mtime, inode) and options
 * (and enc when it is applied rather than fitted) serves out, enc (when
 * fitted) and st from its mapping; else the parse runs and its result is
 * written to an entry, after which, when NNX_CACHE_MAX is set (bytes, or
 * with K, M, G, T), the least recently used entries are removed until the
 * directory fits it.  An entry that is stale or corrupt is parsed again and
 * replaced, a write that fails leaves the load as it is: either adds to
 * use->warning, neither fails the load.  Errors: the parse's. */
int nnx_tabcache_load(const char *dir, const char *const *paths, int npaths, const char *options,
                      nnx_csv_encoding *enc, nnx_csv_stats *st, nnx_dataset *out,
                      nnx_tabcache_parse_fn parse, void *ctx, nnx_tabcache_use *use,
                      nnx_rt_error *err);

/* nnx_load_idx (labels not NULL) or nnx_load_idx_images through the cache. */
int nnx_tabcache_load_idx(const char *dir, const char *images, const char *labels,
                          const int32_t *keep, int32_t nkeep, nnx_dataset *out,
                          nnx_tabcache_use *use, nnx_rt_error *err);

/* Key text: "WHAT=LEN:S" (or "WHAT=none" for NULL), and every CSV option
 * and applied encoding. */
void nnx_tabcache_key_str(nnx_buf *b, const char *what, const char *s);
void nnx_tabcache_key_csv(nnx_buf *b, const nnx_csv_opts *o, const nnx_csv_encoding *enc);

/* Mark an entry used now (its mtime). */
void nnx_tabcache_touch(const char *path);

/* One entry of a cache directory, as nnx cache list shows it. */
typedef struct nnx_tabcache_entry {
    char  *path;                /* DIR/NAME */
    unsigned long long bytes;
    long long last_use;         /* seconds since the epoch */
    long   last_use_nsec;       /* and nanoseconds (the order of use) */
    char **sources;             /* the files it was made from, nsources of them */
    int    nsources;
    bool   orphan;              /* a source file no longer exists */
    bool   stale;               /* a source file changed since (the entry will not serve) */
    bool   broken;              /* not a usable entry: why says what */
    char   why[160];
} nnx_tabcache_entry;

/* The entries of dir, most recently used first (none when dir does not
 * exist).  Errors: "DIR: cannot read: REASON". */
int  nnx_tabcache_list(const char *dir, nnx_tabcache_entry **out, size_t *n, nnx_rt_error *err);
void nnx_tabcache_list_free(nnx_tabcache_entry *e, size_t n);

/* Remove the least recently used entries of dir (never `keep`, which may be
 * NULL) until their sizes add up to at most max bytes.  Errors: the
 * directory's or a removal's. */
int  nnx_tabcache_trim(const char *dir, unsigned long long max, const char *keep,
                       nnx_rt_error *err);

/* Remove from dir the entries that can never serve again (a source gone or
 * changed, an entry that does not read) and writers' temporaries a day old:
 * with unused_for < 0 those alone, with unused_for > 0 also the entries not
 * used for that many seconds; unused_for == 0: every entry and temporary.
 * *removed and *bytes: what went.  Errors: the directory's or a removal's. */
int  nnx_tabcache_clean(const char *dir, long long unused_for, size_t *removed,
                        unsigned long long *bytes, nnx_rt_error *err);

#endif
