/* fuzz_weights.c — fuzz the weights/checkpoint readers: nnx_net_load into a network with every layer kind, and nnx_net_open.
 *
 * Input: a flags byte, then the file.  With bit 0 set the target first
 * rewrites the last four bytes as the CRC-32 of the rest, as a writer would,
 * so that mutations get past the checksum to the numbers behind it.  After a
 * successful load the network runs one forward pass on zeros (loaded
 * weights may be anything, NaN included; nothing may crash).  The same file
 * is then opened alone (nnx_net_open, which builds the network from the
 * file's own layer list, as nnx predict does) and run the same way.  Set
 * FUZZ_WEIGHTS_SEED=FILE to write the network's own checkpoint as an input
 * (how tests/fuzz/corpus/weights was seeded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnx/rt/checkpoint.h"
#include "nnx/util/file.h"
#include "nnx/rt/net.h"

#include "fuzz_io.h"

static nnx_net *net;

static void free_net(void)
{
    nnx_net_free(net);
}

/* 1×8×8 → conv(4, 3, pad 1) batchnorm relu maxpool(2) dropout avgpool(2)
 * flatten dense(6) swish dense(3, no bias) */
static nnx_net *make_net(void)
{
    nnx_rt_error err;
    nnx_net *n = nnx_net_new(1, 8, 8, &err);
    if (!n || nnx_net_add_conv(n, 4, 3, 1, 1, true, &err) || nnx_net_add_batchnorm(n, 0.1f, 1e-5f, &err) ||
        nnx_net_add_act(n, NNX_ACT_RELU, 0, &err) || nnx_net_add_maxpool(n, 2, 2, &err) ||
        nnx_net_add_dropout(n, 0.25f, &err) || nnx_net_add_avgpool(n, 2, 2, &err) ||
        nnx_net_add_flatten(n, &err) || nnx_net_add_dense(n, 6, true, &err) ||
        nnx_net_add_act(n, NNX_ACT_SWISH, 1.0f, &err) || nnx_net_add_dense(n, 3, false, &err) ||
        nnx_net_compile(n, 2, 1, &err))
        abort();
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!net) {
        net = make_net();
        atexit(free_net);
        const char *seed = getenv("FUZZ_WEIGHTS_SEED");
        nnx_rt_error err;
        char *saved = fuzz_path("saved.nnxw");
        size_t len = 0;
        char *bytes = NULL;
        if (seed && (nnx_net_save(net, saved, &err) < 0 || !(bytes = nnx_file_read(saved, 0, &len, &err))))
            abort();
        FILE *f = seed ? fopen(seed, "wb") : NULL;
        if (f) {
            fputc(0, f);
            fwrite(bytes, 1, len, f);
            fclose(f);
        }
        free(bytes);
        free(saved);
    }
    uint8_t *file = malloc(size);
    if (!file)
        abort();
    size_t n = size - 1;
    memcpy(file, data + 1, n);
    if ((data[0] & 1) && n >= 4) {
        uint32_t crc = (uint32_t)crc32_z(0L, file, n - 4);
        for (int i = 0; i < 4; i++)
            file[n - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    char *path = fuzz_write("weights.nnxw", file, n);
    free(file);
    if (!path)
        abort();
    nnx_rt_error err;
    if (nnx_net_load(net, path, &err) == 0) {
        memset(nnx_net_input(net), 0, (size_t)nnx_net_in_size(net) * 2 * sizeof(float));
        nnx_net_forward(net, nnx_net_input(net), 2, false);
    }
    nnx_net *alone = nnx_net_open(path, 2, &err);
    if (alone) {
        memset(nnx_net_input(alone), 0, (size_t)nnx_net_in_size(alone) * 2 * sizeof(float));
        nnx_net_forward(alone, nnx_net_input(alone), 2, false);
        nnx_net_free(alone);
    }
    free(path);
    return 0;
}
