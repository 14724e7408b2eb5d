/* tfevents.c — TensorBoard event files: Event protos in TFRecord framing. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnx/tfevents.h"
#include "nnx/util/crc32c.h"
#include "nnx/util/pb.h"

/* Field numbers, from tensorboard/compat/proto/{event,summary,tensor}.proto. */
enum {
    EVENT_WALL_TIME = 1,     /* double */
    EVENT_STEP = 2,          /* int64 */
    EVENT_FILE_VERSION = 3,  /* string, oneof what */
    EVENT_SUMMARY = 5,       /* Summary, oneof what */
    SUMMARY_VALUE = 1,       /* repeated Summary.Value */
    VALUE_TAG = 1,           /* string */
    VALUE_SIMPLE_VALUE = 2,  /* float, oneof value */
    VALUE_TENSOR = 8,        /* TensorProto, oneof value */
    VALUE_METADATA = 9,      /* SummaryMetadata */
    METADATA_PLUGIN_DATA = 1,
    PLUGIN_DATA_PLUGIN_NAME = 1,
    TENSOR_DTYPE = 1,        /* DataType enum */
    TENSOR_SHAPE = 2,        /* TensorShapeProto; empty = rank 0 */
    TENSOR_STRING_VAL = 8,   /* repeated bytes */
    DT_STRING = 7,
};

#define FILE_VERSION "brain.Event:2"

struct nnx_tb {
    FILE *f;        /* owned; closed by nnx_tb_close */
    char *path;     /* owned */
    /* Scratch buffers reused for every event, so logging an epoch does not
     * allocate once they have grown. */
    nnx_pb event, summary, value, inner, leaf;
};

const char *nnx_tb_path(const nnx_tb *tb)
{
    return tb->path;
}

/* Write one TFRecord around data[n]: length, its masked CRC, data, its
 * masked CRC. */
static int write_record(nnx_tb *tb, const uint8_t *data, size_t n,
                        nnx_rt_error *err)
{
    uint8_t head[12], tail[4];
    uint64_t len = n;
    for (int i = 0; i < 8; i++)
        head[i] = (uint8_t)(len >> (8 * i));
    uint32_t crc = nnx_crc32c_masked(head, 8);
    for (int i = 0; i < 4; i++)
        head[8 + i] = (uint8_t)(crc >> (8 * i));
    crc = nnx_crc32c_masked(data, n);
    for (int i = 0; i < 4; i++)
        tail[i] = (uint8_t)(crc >> (8 * i));
    if (fwrite(head, 1, sizeof head, tb->f) != sizeof head
        || (n && fwrite(data, 1, n, tb->f) != n)
        || fwrite(tail, 1, sizeof tail, tb->f) != sizeof tail)
        return nnx_rt_fail(err, "%s: write failed: %s", tb->path,
                           strerror(errno));
    return 0;
}

/* Start tb->event with the fields every event has; proto3 leaves out a
 * wall_time or step equal to 0. */
static void begin_event(nnx_tb *tb, double wall_time, int64_t step)
{
    nnx_pb_clear(&tb->event);
    if (wall_time != 0)
        nnx_pb_double_field(&tb->event, EVENT_WALL_TIME, wall_time);
    if (step != 0)
        nnx_pb_int64_field(&tb->event, EVENT_STEP, step);
}

/* Wrap tb->value into a Summary, put it in tb->event and write the record. */
static int finish_summary_event(nnx_tb *tb, nnx_rt_error *err)
{
    nnx_pb_clear(&tb->summary);
    nnx_pb_message_field(&tb->summary, SUMMARY_VALUE, &tb->value);
    nnx_pb_message_field(&tb->event, EVENT_SUMMARY, &tb->summary);
    if (!nnx_pb_ok(&tb->event))
        return nnx_rt_fail(err, "%s: out of memory", tb->path);
    return write_record(tb, tb->event.data, tb->event.len, err);
}

static int check_tag(const nnx_tb *tb, const char *tag, nnx_rt_error *err)
{
    if (!tag || !*tag)
        return nnx_rt_fail(err, "%s: a summary needs a non-empty tag",
                           tb->path);
    return 0;
}

int nnx_tb_scalar(nnx_tb *tb, const char *tag, int64_t step, double value,
                  double wall_time, nnx_rt_error *err)
{
    if (check_tag(tb, tag, err))
        return -1;
    begin_event(tb, wall_time, step);
    nnx_pb_clear(&tb->value);
    nnx_pb_string_field(&tb->value, VALUE_TAG, tag);
    /* A oneof member is written even when it is 0. */
    nnx_pb_float_field(&tb->value, VALUE_SIMPLE_VALUE, (float)value);
    return finish_summary_event(tb, err);
}

int nnx_tb_text(nnx_tb *tb, const char *tag, int64_t step, const char *text,
                double wall_time, nnx_rt_error *err)
{
    if (check_tag(tb, tag, err))
        return -1;
    if (!text)
        text = "";
    begin_event(tb, wall_time, step);
    nnx_pb_clear(&tb->value);
    nnx_pb_string_field(&tb->value, VALUE_TAG, tag);

    /* tensor = TensorProto{dtype: DT_STRING, tensor_shape: {}, string_val: [text]} */
    nnx_pb_clear(&tb->inner);
    nnx_pb_int64_field(&tb->inner, TENSOR_DTYPE, DT_STRING);
    nnx_pb_clear(&tb->leaf);
    nnx_pb_message_field(&tb->inner, TENSOR_SHAPE, &tb->leaf);
    nnx_pb_string_field(&tb->inner, TENSOR_STRING_VAL, text);
    nnx_pb_message_field(&tb->value, VALUE_TENSOR, &tb->inner);

    /* metadata = SummaryMetadata{plugin_data: {plugin_name: "text"}}; the
     * content, TextPluginData{version: 0}, serializes to nothing. */
    nnx_pb_clear(&tb->leaf);
    nnx_pb_string_field(&tb->leaf, PLUGIN_DATA_PLUGIN_NAME, "text");
    nnx_pb_clear(&tb->inner);
    nnx_pb_message_field(&tb->inner, METADATA_PLUGIN_DATA, &tb->leaf);
    nnx_pb_message_field(&tb->value, VALUE_METADATA, &tb->inner);
    return finish_summary_event(tb, err);
}

/* Append s to the Markdown buffer with '|' escaped and line breaks as spaces. */
static void md_cell(nnx_pb *md, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            nnx_pb_raw(md, "\\|", 2);
        else if (*s == '\n' || *s == '\r')
            nnx_pb_raw(md, " ", 1);
        else
            nnx_pb_raw(md, s, 1);
    }
}

int nnx_tb_params(nnx_tb *tb, const char *const *keys,
                  const char *const *values, size_t n, int64_t step,
                  double wall_time, nnx_rt_error *err)
{
    if (n && (!keys || !values))
        return nnx_rt_fail(err, "%s: parameters without keys or values",
                           tb->path);
    nnx_pb md;
    nnx_pb_init(&md);
    static const char head[] = "| parameter | value |\n|---|---|\n";
    nnx_pb_raw(&md, head, sizeof head - 1);
    for (size_t i = 0; i < n; i++) {
        nnx_pb_raw(&md, "| ", 2);
        md_cell(&md, keys[i]);
        nnx_pb_raw(&md, " | ", 3);
        md_cell(&md, values[i]);
        nnx_pb_raw(&md, " |\n", 3);
    }
    nnx_pb_raw(&md, "", 1);  /* the terminating NUL */
    int rc = nnx_pb_ok(&md)
                 ? nnx_tb_text(tb, "params", step, (const char *)md.data,
                               wall_time, err)
                 : nnx_rt_fail(err, "%s: out of memory", tb->path);
    nnx_pb_free(&md);
    return rc;
}

int nnx_tb_flush(nnx_tb *tb, nnx_rt_error *err)
{
    errno = 0;
    if (ferror(tb->f) || fflush(tb->f) != 0)
        return nnx_rt_fail(err, "%s: cannot write: %s", tb->path,
                           strerror(errno ? errno : EIO));
    return 0;
}

static void tb_free(nnx_tb *tb)
{
    nnx_pb_free(&tb->event);
    nnx_pb_free(&tb->summary);
    nnx_pb_free(&tb->value);
    nnx_pb_free(&tb->inner);
    nnx_pb_free(&tb->leaf);
    free(tb->path);
    free(tb);
}

int nnx_tb_close(nnx_tb *tb, nnx_rt_error *err)
{
    if (!tb)
        return 0;
    int rc = 0;
    if (tb->f) {
        int saved = 0;
        errno = 0;
        if (ferror(tb->f) || fflush(tb->f) != 0)
            saved = errno ? errno : EIO;
        if (fclose(tb->f) != 0 && !saved)
            saved = errno;
        if (saved)
            rc = nnx_rt_fail(err, "%s: close failed: %s", tb->path,
                             strerror(saved));
    }
    tb_free(tb);
    return rc;
}

/* The host part of the file name: gethostname() when host is NULL, with '/'
 * (which would make a path) replaced by '_'. */
static void host_part(const char *host, char *out, size_t cap)
{
    if (!host) {
        if (gethostname(out, cap) != 0)
            out[0] = '\0';
        out[cap - 1] = '\0';
    } else {
        snprintf(out, cap, "%s", host);
    }
    for (char *p = out; *p; p++)
        if (*p == '/')
            *p = '_';
    if (!out[0])
        snprintf(out, cap, "localhost");
}

/* Open a file that did not exist, trying base, base.1, base.2, ... */
static FILE *create_new(const char *base, char **path_out, nnx_rt_error *err)
{
    size_t cap = strlen(base) + 16;
    char *path = malloc(cap);
    if (!path) {
        nnx_rt_fail(err, "%s: out of memory", base);
        return NULL;
    }
    for (int i = 0; i < 1000; i++) {
        if (i == 0)
            snprintf(path, cap, "%s", base);
        else
            snprintf(path, cap, "%s.%d", base, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0) {
            nnx_rt_fail(err, "%s: cannot create: %s", path, strerror(errno));
            free(path);
            return NULL;
        }
        FILE *f = fdopen(fd, "wb");
        if (!f) {
            nnx_rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
            close(fd);
            free(path);
            return NULL;
        }
        *path_out = path;
        return f;
    }
    nnx_rt_fail(err, "%s: too many event files of that name", base);
    free(path);
    return NULL;
}

nnx_tb *nnx_tb_open(const char *dir, double wall_time, const char *host,
                    nnx_rt_error *err)
{
    if (!dir || !*dir) {
        nnx_rt_fail(err, "tensorboard: no directory given");
        return NULL;
    }
    if (!isfinite(wall_time) || wall_time < 0 || wall_time > 1e12) {
        nnx_rt_fail(err, "tensorboard: bad wall time %g", wall_time);
        return NULL;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        nnx_rt_fail(err, "%s: cannot create directory: %s", dir,
                    strerror(errno));
        return NULL;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        nnx_rt_fail(err, "%s: not a directory", dir);
        return NULL;
    }

    char hostname[256];
    host_part(host, hostname, sizeof hostname);
    size_t cap = strlen(dir) + strlen(hostname) + 64;
    char *base = malloc(cap);
    nnx_tb *tb = calloc(1, sizeof *tb);
    if (!base || !tb) {
        free(base);
        free(tb);
        nnx_rt_fail(err, "%s: out of memory", dir);
        return NULL;
    }
    snprintf(base, cap, "%s/events.out.tfevents.%010lld.%s", dir,
             (long long)floor(wall_time), hostname);
    nnx_pb_init(&tb->event);
    nnx_pb_init(&tb->summary);
    nnx_pb_init(&tb->value);
    nnx_pb_init(&tb->inner);
    nnx_pb_init(&tb->leaf);
    tb->f = create_new(base, &tb->path, err);
    free(base);
    if (!tb->f) {
        tb_free(tb);
        return NULL;
    }

    begin_event(tb, wall_time, 0);
    nnx_pb_string_field(&tb->event, EVENT_FILE_VERSION, FILE_VERSION);
    if (!nnx_pb_ok(&tb->event)) {
        nnx_rt_fail(err, "%s: out of memory", tb->path);
        nnx_tb_close(tb, NULL);
        return NULL;
    }
    if (write_record(tb, tb->event.data, tb->event.len, err) != 0
        || nnx_tb_flush(tb, err) != 0) {
        nnx_tb_close(tb, NULL);
        return NULL;
    }
    return tb;
}
