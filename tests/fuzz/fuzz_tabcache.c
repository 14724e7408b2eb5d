/* fuzz_tabcache.c — fuzz the parsed-data cache's entry format: nnx_tabcache_read_key, nnx_tabcache_read and nnx_tabcache_list.
 *
 * Input: a flags byte, then an entry file.  With bit 0 set the target first
 * rewrites the entry's length and checksums (header, metadata, features) as
 * a writer would, so that mutations get past them to the metadata and the
 * numbers behind.  The entry is read under the key it holds (read by
 * nnx_tabcache_read_key), then listed as `nnx cache list` does; a set read
 * has every feature and target touched once.  Set FUZZ_TABCACHE_SEED=DIR to
 * write entries of every shape (classes with names and an encoding, real
 * targets, images) to DIR as inputs (how tests/fuzz/corpus/tabcache was
 * seeded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnx/rt/tabcache.h"
#include "nnx/util/file.h"

#include "fuzz_io.h"

/* The header's fields this target rewrites (tabcache.c's layout). */
enum { FILE_SIZE = 8, META_OFF = 16, META_LEN = 24, X_OFF = 32, X_LEN = 40, META_SUM = 48,
       X_SUM = 56, HEADER_SUM = 120, HEADER = 128 };

static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void fix_sums(uint8_t *e, size_t n)
{
    if (n < HEADER)
        return;
    put64(e + FILE_SIZE, n);
    uint64_t mo = get64(e + META_OFF), ml = get64(e + META_LEN);
    uint64_t xo = get64(e + X_OFF), xl = get64(e + X_LEN);
    if (mo <= n && ml <= n - mo)
        put64(e + META_SUM, nnx_tabcache_hash(e + mo, (size_t)ml));
    if (xo <= n && xl <= n - xo)
        put64(e + X_SUM, nnx_tabcache_hash(e + xo, (size_t)xl));
    put64(e + HEADER_SUM, nnx_tabcache_hash(e, HEADER_SUM));
}

/* Entries of every shape, each written to dir/NAME with a zero flags byte. */
static void write_seeds(const char *dir)
{
    nnx_rt_error err;
    nnx_dataset ds;
    char *path = fuzz_path("seed.nnxtab");
    static const char *const names[] = { "red", "green" };
    for (int kind = 0; kind < 3; kind++) {
        if (nnx_dataset_alloc(&ds, 3, 4, kind == 0 ? NNX_TARGET_CLASS : kind == 1
                              ? NNX_TARGET_REAL : NNX_TARGET_NONE, kind == 0 ? 2 : 0, &err) < 0)
            abort();
        for (int i = 0; i < 12; i++)
            ds.x[i] = (float)i / 7.0f;
        for (int i = 0; i < 3; i++) {
            if (ds.y)
                ds.y[i] = i % 2;
            if (ds.t)
                ds.t[i] = (float)i - 0.5f;
        }
        nnx_csv_column cols[2] = { { .name = (char *)"color", .index = 0, .categorical = 1,
                                     .categories = (char **)names, .ncategories = 2 },
                                   { .name = (char *)"age", .index = 2, .indicator = 1,
                                     .fill = 3.5f } };
        nnx_csv_encoding enc = { .cols = cols, .ncols = 2, .features = 4 };
        if (kind == 2)
            nnx_dataset_set_shape(&ds, 1, 2, 2, NULL);
        nnx_csv_stats st = { .unseen = 1, .imputed = 2, .example = "blue" };
        const char *key = kind == 0 ? "nnx parsed table 2\npath=9:/data.csv\nkind=csv\n--\n"
                                      "size=10\nmtime=1.000000000\ndev=1\nino=2\n"
                        : "nnx parsed table 2\npath=4:/a.gz\npath=4:/b.gz\n--\nsize=1\n";
        if (nnx_tabcache_write(path, key, &ds, kind == 0 ? &enc : NULL, &st, &err) < 0)
            abort();
        nnx_dataset_free(&ds);
        size_t len;
        char *bytes = nnx_file_read(path, 0, &len, &err);
        char name[32];
        snprintf(name, sizeof name, "seed_%d", kind);
        char *out = nnx_path_join(dir, name);
        FILE *f = out ? fopen(out, "wb") : NULL;
        if (!bytes || !f || fputc(0, f) == EOF || fwrite(bytes, 1, len, f) != len || fclose(f))
            abort();
        free(bytes);
        free(out);
    }
    free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int seeded;
    if (!seeded++ && getenv("FUZZ_TABCACHE_SEED"))
        write_seeds(getenv("FUZZ_TABCACHE_SEED"));
    if (size < 1)
        return 0;
    uint8_t *e = malloc(size);
    if (!e)
        abort();
    memcpy(e, data + 1, size - 1);
    if (data[0] & 1)
        fix_sums(e, size - 1);
    char *path = fuzz_write("cache/0123456789abcdef.nnxtab", e, size - 1);
    char *dir = fuzz_path("cache");
    free(e);
    if (!path || !dir)
        abort();
    nnx_rt_error err;
    char *key = NULL;
    unsigned long long bytes;
    if (nnx_tabcache_read_key(path, &key, &bytes, &err) == 0) {
        nnx_dataset ds;
        nnx_csv_encoding enc;
        nnx_csv_stats st;
        if (nnx_tabcache_read(path, key, &ds, &enc, &st, &err) == 1) {
            volatile float sum = 0;
            for (size_t i = 0; i < (size_t)ds.n * (size_t)ds.d; i++)
                sum += ds.x[i];
            for (int32_t i = 0; ds.y && i < ds.n; i++)
                sum += ds.class_names ? (float)strlen(ds.class_names[ds.y[i]]) : (float)ds.y[i];
            for (int32_t i = 0; ds.t && i < ds.n; i++)
                sum += ds.t[i];
            for (int32_t j = 0; ds.feature_names && j < ds.d; j++)
                sum += ds.feature_names[j] ? (float)strlen(ds.feature_names[j]) : 0;
            (void)sum;
            nnx_dataset_free(&ds);
            nnx_csv_encoding_free(&enc);
        }
    }
    free(key);
    nnx_tabcache_entry *v;
    size_t n;
    if (nnx_tabcache_list(dir, &v, &n, &err) == 0)
        nnx_tabcache_list_free(v, n);
    free(path);
    free(dir);
    return 0;
}
