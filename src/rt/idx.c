/* idx.c — load IDX image/label files (MNIST format), gzip or plain, into a data set. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "nnx/rt/data.h"
#include "nnx/util/file.h"

/* An IDX file being read: gzip inflated by zlib straight into the caller's
 * memory (no buffer of gzio's between, no copy), or plain bytes read as they
 * lie.  Several gzip members are read as one stream; bytes after the last
 * member that are not another member are ignored, as gzip -dc does. */
typedef struct idx_file {
    FILE *f;
    const char *path;
    bool gz, zinit, ended;    /* gzip; inflateInit2 done; the data is over */
    z_stream z;
    size_t plain_at, plain_len;   /* plain: bytes of in[] not yet handed out */
    uint64_t size_hint;           /* the decompressed length as the file tells it, 0: unknown */
    uint64_t file_size;           /* the bytes on disk */
    unsigned char in[1 << 16];
} idx_file;

/* Fill r->in after the avail_in bytes left at next_in: the count added, 0 at
 * the end of the file, -1 with err on a read error. */
static int fill_in(idx_file *r, nnx_rt_error *err)
{
    size_t keep = r->z.avail_in;
    if (keep)
        memmove(r->in, r->z.next_in, keep);
    size_t n = fread(r->in + keep, 1, sizeof r->in - keep, r->f);
    if (n == 0 && ferror(r->f))
        return nnx_rt_fail(err, "%s: cannot read: %s", r->path, strerror(errno));
    r->z.next_in = r->in;
    r->z.avail_in = (uInt)(keep + n);
    return n > 0;
}

/* After a member's end: another member follows (inflate reset for it), or
 * the data is over. */
static int next_member(idx_file *r, nnx_rt_error *err)
{
    while (r->z.avail_in < 2) {
        int got = fill_in(r, err);
        if (got < 0)
            return -1;
        if (got == 0)
            break;
    }
    if (r->z.avail_in >= 2 && r->z.next_in[0] == 0x1f && r->z.next_in[1] == 0x8b)
        return inflateReset(&r->z) == Z_OK ? 0 : nnx_rt_fail(err, "%s: zlib: reset failed",
                                                               r->path);
    r->ended = true;
    return 0;
}

/* Read up to len bytes into dst: the count (less than len only at the end of
 * the data, a gzip stream cut short included), or -1 with err. */
static long long idx_read(idx_file *r, unsigned char *dst, size_t len, nnx_rt_error *err)
{
    size_t got = 0;
    if (!r->gz) {
        size_t first = r->plain_len - r->plain_at < len ? r->plain_len - r->plain_at : len;
        memcpy(dst, r->in + r->plain_at, first);
        r->plain_at += first;
        got = first;
        if (got < len) {
            got += fread(dst + got, 1, len - got, r->f);
            if (got < len && ferror(r->f))
                return nnx_rt_fail(err, "%s: cannot read: %s", r->path, strerror(errno));
        }
        return (long long)got;
    }
    while (got < len && !r->ended) {
        if (r->z.avail_in == 0) {
            int more = fill_in(r, err);
            if (more < 0)
                return -1;
            if (more == 0)      /* the stream is cut short: what came is all there is */
                break;
        }
        size_t want = len - got < (1u << 30) ? len - got : (1u << 30);
        r->z.next_out = dst + got;
        r->z.avail_out = (uInt)want;
        int zr = inflate(&r->z, Z_NO_FLUSH);
        got += want - r->z.avail_out;
        if (zr == Z_STREAM_END) {
            if (next_member(r, err) < 0)
                return -1;
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            return nnx_rt_fail(err, "%s: not valid gzip data (%s)", r->path,
                               r->z.msg ? r->z.msg : zError(zr));
        }
    }
    return (long long)got;
}

/* Open path for reading (gzip or plain, told by its first two bytes). */
static idx_file *idx_open(const char *path, nnx_rt_error *err)
{
    const char *what = nnx_file_not_regular(path);
    if (what) { /* a FIFO or /dev/zero may never end */
        nnx_rt_fail(err, "%s: not a regular file (%s): data is read only from regular files "
                    "(or a gzip of one)", path, what);
        return NULL;
    }
    idx_file *r = calloc(1, sizeof *r);
    if (!r) {
        nnx_rt_fail(err, "%s: out of memory", path);
        return NULL;
    }
    r->path = path;
    errno = 0;
    if (!(r->f = fopen(path, "rb"))) {
        nnx_rt_fail(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        free(r);
        return NULL;
    }
    struct stat st;
    int got = fstat(fileno(r->f), &st) == 0 ? fill_in(r, err) : nnx_rt_fail(err, "%s: cannot "
                                                                              "stat", path);
    if (got < 0) {
        fclose(r->f);
        free(r);
        return NULL;
    }
    r->file_size = (uint64_t)st.st_size;
    r->gz = r->z.avail_in >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b;
    if (!r->gz) {
        r->plain_len = r->z.avail_in;
        r->z.avail_in = 0;
        r->size_hint = (uint64_t)st.st_size;
        return r;
    }
    unsigned char isize[4];   /* the last member's length mod 2^32: a hint, checked as read */
    if (st.st_size >= 18 && pread(fileno(r->f), isize, 4, st.st_size - 4) == 4)
        r->size_hint = (uint64_t)isize[0] | (uint64_t)isize[1] << 8 | (uint64_t)isize[2] << 16
                     | (uint64_t)isize[3] << 24;
    if (inflateInit2(&r->z, 15 + 16) != Z_OK) {
        nnx_rt_fail(err, "%s: out of memory", path);
        fclose(r->f);
        free(r);
        return NULL;
    }
    r->zinit = true;
    return r;
}

static void idx_close(idx_file *r)
{
    if (!r)
        return;
    if (r->zinit)
        inflateEnd(&r->z);
    fclose(r->f);
    free(r);
}

/* Read len bytes into buf, the part of the `total` bytes of `what` after
 * `before` of them; -1 with err on a short read (which names the bytes
 * needed and found of the total) or a read error. */
static int read_part(idx_file *f, unsigned char *buf, size_t len, size_t before, size_t total,
                     const char *what, nnx_rt_error *err)
{
    long long got = idx_read(f, buf, len, err);
    if (got < 0)
        return -1;
    if ((size_t)got < len)
        return nnx_rt_fail(err, "%s: file is truncated: %s needs %zu bytes, found %zu",
                           f->path, what, total, before + (size_t)got);
    return 0;
}

/* Read exactly len bytes into buf. */
static int read_exact(idx_file *f, void *buf, size_t len, const char *what, nnx_rt_error *err)
{
    return read_part(f, buf, len, 0, len, what, err);
}

/* Read exactly len bytes into a new buffer (the caller frees it), or NULL
 * with err.  The buffer grows as the bytes arrive (64 MB, then doubling), so
 * a header that announces more than the file holds costs the memory of what
 * is there (and 64 MB at most besides), not of what it announces; a file of
 * Fashion-MNIST's size is still read into one allocation. */
static unsigned char *read_new(idx_file *f, size_t len, const char *what, nnx_rt_error *err)
{
    const size_t first = (size_t)64 << 20;
    unsigned char *buf = NULL;
    size_t cap = 0;
    do {
        size_t next = cap == 0 ? (len < first ? len : first) : (len - cap < cap ? len : 2 * cap);
        unsigned char *more = realloc(buf, next ? next : 1);
        if (!more) {
            free(buf);
            nnx_rt_fail(err, "%s: out of memory for %s (%zu bytes)", f->path, what, len);
            return NULL;
        }
        buf = more;
        if (read_part(f, buf + cap, next - cap, cap, len, what, err) < 0) {
            free(buf);
            return NULL;
        }
        cap = next;
    } while (cap < len);
    return buf;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Open path, check the magic for ndims unsigned-byte dimensions, read dims. */
static idx_file *open_idx(const char *path, int ndims, uint32_t *dims, nnx_rt_error *err)
{
    idx_file *f = idx_open(path, err);
    if (!f)
        return NULL;
    unsigned char head[4 + 4 * 3];
    if (read_exact(f, head, 4, "the header", err) < 0)
        goto fail;
    uint32_t magic = be32(head);
    if (magic >> 16 != 0 || (magic >> 8 & 0xff) != 0x08 || (magic & 0xff) != (uint32_t)ndims) {
        nnx_rt_fail(err, "%s: not an IDX file of unsigned bytes with %d dimension%s "
                    "(magic 0x%08x, expected 0x%08x)", path, ndims, ndims == 1 ? "" : "s",
                    (unsigned)magic, 0x800u | (unsigned)ndims);
        goto fail;
    }
    if (read_exact(f, head + 4, 4 * (size_t)ndims, "the header", err) < 0)
        goto fail;
    for (int i = 0; i < ndims; i++) {
        dims[i] = be32(head + 4 + 4 * i);
        if (dims[i] == 0 || dims[i] > INT32_MAX) {
            nnx_rt_fail(err, "%s: dimension %d has bad size %u", path, i + 1, (unsigned)dims[i]);
            goto fail;
        }
    }
    return f;
fail:
    idx_close(f);
    return NULL;
}

/* Fail unless f is at its end. */
static int expect_end(idx_file *f, nnx_rt_error *err)
{
    unsigned char extra;
    long long r = idx_read(f, &extra, 1, err);
    if (r < 0)
        return -1;
    if (r > 0)
        return nnx_rt_fail(err, "%s: unexpected bytes after the data the header announces",
                           f->path);
    return 0;
}

/* Read the labels file into a fresh array of n bytes. */
static unsigned char *read_labels(const char *path, uint32_t *n, nnx_rt_error *err)
{
    uint32_t dims[1];
    idx_file *f = open_idx(path, 1, dims, err);
    if (!f)
        return NULL;
    unsigned char *lab = read_new(f, dims[0], "the labels", err);
    if (lab && expect_end(f, err) < 0) {
        free(lab);
        lab = NULL;
    }
    idx_close(f);
    *n = dims[0];
    return lab;
}

/* Whether the file says, before its data is read, that it holds `len`
 * decompressed bytes: a plain file of that size, or a gzip whose trailer
 * (the length mod 2^32) agrees, within deflate's largest ratio (1032:1) of
 * its size on disk.  Only a hint for sizing memory once: the reads still
 * check every byte is there. */
static bool holds(const idx_file *f, uint64_t len)
{
    if (!f->gz)
        return f->size_hint == len;
    return f->size_hint == (len & 0xffffffffu) && len / 1032 <= f->file_size;
}

/* dst[j] = src[j] / 255 (exactly as torchvision's ToTensor divides) for n
 * pixels.  With AVX2 the floats bypass the cache (streaming stores): the
 * table is far larger than the cache, and a store that first reads its
 * line (as a plain one does) doubles the memory traffic that bounds this
 * loop.  The caller fences once after the last (pixels_done). */
static void pixels_to_unit(float *dst, const unsigned char *src, size_t n)
{
    size_t j = 0;
#ifdef __AVX2__
    for (; j < n && ((uintptr_t)(dst + j) & 31); j++)
        dst[j] = (float)src[j] / 255.0f;
    const __m256 scale = _mm256_set1_ps(255.0f);
    for (; j + 8 <= n; j += 8) {
        __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(src + j));
        __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
        _mm256_stream_ps(dst + j, _mm256_div_ps(f, scale));
    }
#endif
    for (; j < n; j++)
        dst[j] = (float)src[j] / 255.0f;
}

/* Make pixels_to_unit's streaming stores visible before the table is read. */
static void pixels_done(void)
{
#ifdef __AVX2__
    _mm_sfence();
#endif
}

/* Class of each label byte under the filter: -1 = dropped. */
static int class_map(const int32_t *keep, int32_t nkeep, int32_t map[256],
                     nnx_rt_error *err)
{
    for (int i = 0; i < 256; i++)
        map[i] = nkeep > 0 ? -1 : i;
    for (int32_t c = 0; c < nkeep; c++) {
        if (keep[c] < 0 || keep[c] > 255)
            return nnx_rt_fail(err, "class %d cannot occur in an IDX label file (0..255)",
                               (int)keep[c]);
        if (map[keep[c]] >= 0)
            return nnx_rt_fail(err, "class %d is listed twice", (int)keep[c]);
        map[keep[c]] = c;
    }
    return 0;
}

static int name_kept_classes(nnx_dataset *ds, const int32_t *keep, int32_t nkeep,
                             nnx_rt_error *err)
{
    ds->class_names = calloc((size_t)nkeep, sizeof *ds->class_names);
    if (!ds->class_names)
        return nnx_rt_fail(err, "out of memory for class names");
    for (int32_t c = 0; c < nkeep; c++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", (int)keep[c]);
        if (!(ds->class_names[c] = strdup(buf)))
            return nnx_rt_fail(err, "out of memory for class names");
    }
    return 0;
}

/* The pixels of an images file, inflated a window at a time (small enough
 * to stay in the core's cache) and converted from there (byte / 255,
 * exactly as torchvision's ToTensor divides) straight into the rows of a
 * float table: one pass over memory, no copy of the file.  Row i of the
 * file goes to the next row of x when kept[i] (kept NULL: every row).  x is
 * allocated once when the file's size (or gzip trailer) agrees with its
 * header; otherwise it grows with the bytes read (16 MB of floats, then
 * doubling; glibc moves a large block's pages, not its bytes), so a header
 * that announces more than the file holds costs the memory of what is
 * there, not of what it announces.  With kept, the file must hold nrows
 * images (labels_path has that many labels).  NULL with err. */
static float *read_images(const char *path, uint32_t dims[3], const unsigned char *kept,
                          size_t nrows, size_t nkept, const char *labels_path,
                          nnx_rt_error *err)
{
    idx_file *f = open_idx(path, 3, dims, err);
    if (!f)
        return NULL;
    float *x = NULL;
    unsigned char *chunk = NULL;
    if (kept && dims[0] != nrows) {
        nnx_rt_fail(err, "%s has %u images but %s has %zu labels", path, (unsigned)dims[0],
                    labels_path, nrows);
        goto fail;
    }
    if ((uint64_t)dims[1] * dims[2] > INT32_MAX || dims[0] > INT32_MAX
        || (uint64_t)dims[0] * dims[1] * dims[2] > (uint64_t)SIZE_MAX / sizeof(float)) {
        nnx_rt_fail(err, "%s: images of %u x %u x %u are too large", path,
                    (unsigned)dims[0], (unsigned)dims[1], (unsigned)dims[2]);
        goto fail;
    }
    const size_t d = (size_t)dims[1] * dims[2], total = (size_t)dims[0] * d;
    const size_t need = (kept ? nkept : dims[0]) * d;   /* floats */
    const size_t chunk_bytes = (size_t)256 << 10;
    chunk = malloc(chunk_bytes);
    if (!chunk) {
        nnx_rt_fail(err, "%s: out of memory", path);
        goto fail;
    }
    size_t got = 0, cap = 0, out = 0;   /* bytes read; floats allocated, written */
    size_t first = holds(f, 16 + (uint64_t)total) ? need : (size_t)4 << 20;
    while (got < total) {
        size_t want = total - got < chunk_bytes ? total - got : chunk_bytes;
        if (read_part(f, chunk, want, got, total, "the pixels", err) < 0)
            goto fail;
        for (size_t k = 0; k < want;) {
            size_t pos = got + k, row = pos / d, col = pos % d;
            size_t seg = d - col < want - k ? d - col : want - k;
            if (!kept || kept[row]) {
                if (out + seg > cap) {
                    size_t more = cap ? 2 * cap : first;
                    if (more > need)
                        more = need;
                    float *bigger = realloc(x, more * sizeof *x);
                    if (!bigger) {
                        nnx_rt_fail(err, "%s: out of memory for %zu pixels", path, need);
                        goto fail;
                    }
                    x = bigger;
                    nnx_table_hugepages(x + cap, (more - cap) * sizeof *x);
                    nnx_table_prefault(x + cap, (more - cap) * sizeof *x);
                    cap = more;
                }
                pixels_to_unit(x + out, chunk + k, seg);
                out += seg;
            }
            k += seg;
        }
        got += want;
    }
    pixels_done();
    if (expect_end(f, err) < 0)
        goto fail;
    if (out == 0) {   /* nothing kept: the caller says why */
        free(x);
        x = malloc(sizeof *x);
        if (!x) {
            nnx_rt_fail(err, "%s: out of memory", path);
            goto fail;
        }
    }
    free(chunk);
    idx_close(f);
    return x;
fail:
    free(chunk);
    free(x);
    idx_close(f);
    return NULL;
}

int nnx_load_idx(nnx_dataset *out, const char *images_path, const char *labels_path,
                 const int32_t *keep, int32_t nkeep, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    int32_t map[256];
    if (nkeep < 0 || (nkeep > 0 && !keep))
        return nnx_rt_fail(err, "bad class filter");
    if (class_map(keep, nkeep, map, err) < 0)
        return -1;

    uint32_t nlab;
    unsigned char *lab = read_labels(labels_path, &nlab, err);
    if (!lab)
        return -1;

    /* The kept rows and the classes, before a pixel is read. */
    int32_t kept = 0, maxlab = 0;
    int64_t seen[256] = {0};
    unsigned char *keep_row = malloc(nlab ? nlab : 1);
    float *x = NULL;
    int rc = -1;
    if (!keep_row) {
        nnx_rt_fail(err, "%s: out of memory", labels_path);
        goto done;
    }
    for (uint32_t i = 0; i < nlab; i++) {
        seen[lab[i]]++;
        keep_row[i] = map[lab[i]] >= 0;
        if (keep_row[i]) {
            kept++;
            if (lab[i] > maxlab)
                maxlab = lab[i];
        }
    }
    for (int32_t c = 0; c < nkeep; c++)
        if (!seen[keep[c]]) {
            nnx_rt_fail(err, "%s: class %d never occurs", labels_path, (int)keep[c]);
            goto done;
        }
    if (kept == 0) {
        nnx_rt_fail(err, "%s: no rows", labels_path);
        goto done;
    }
    uint32_t dims[3];
    x = read_images(images_path, dims, keep_row, nlab, (size_t)kept, labels_path, err);
    if (!x)
        goto done;
    out->y = malloc((size_t)kept * sizeof *out->y);
    if (!out->y) {
        nnx_rt_fail(err, "out of memory for %d labels", (int)kept);
        goto done;
    }
    out->x = x;
    x = NULL;
    out->n = kept;
    out->d = (int32_t)((size_t)dims[1] * dims[2]);
    out->kind = NNX_TARGET_CLASS;
    out->classes = nkeep > 0 ? nkeep : maxlab + 1;
    nnx_dataset_set_shape(out, 1, (int32_t)dims[1], (int32_t)dims[2], NULL);
    int32_t row = 0;
    for (uint32_t i = 0; i < nlab; i++)
        if (keep_row[i])
            out->y[row++] = map[lab[i]];
    if (nkeep > 0 && name_kept_classes(out, keep, nkeep, err) < 0)
        goto done;
    rc = 0;
done:
    if (rc < 0)
        nnx_dataset_free(out);
    free(x);
    free(keep_row);
    free(lab);
    return rc;
}

int nnx_load_idx_images(nnx_dataset *out, const char *images_path, nnx_rt_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t dims[3];
    float *x = read_images(images_path, dims, NULL, 0, 0, NULL, err);
    if (!x)
        return -1;
    out->x = x;
    out->n = (int32_t)dims[0];
    out->d = (int32_t)((size_t)dims[1] * dims[2]);
    out->kind = NNX_TARGET_NONE;
    nnx_dataset_set_shape(out, 1, (int32_t)dims[1], (int32_t)dims[2], NULL);
    return 0;
}
