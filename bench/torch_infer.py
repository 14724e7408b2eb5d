#!/usr/bin/python3
"""torch_infer.py — PyTorch inference throughput on the model bench/infer.sh times.

The network of examples/fashion_mlp.nnx or examples/fashion_cnn.nnx (the
modules torch_bench.py trains), in eval mode, with the normalisation in front
and a softmax behind, as `nnx predict` and the exported ONNX file compute;
PyTorch's own random weights (the speed does not depend on the values).  The
first ROWS images of an IDX file (byte / 255) are one input tensor; each
timed call is model(x) under torch.no_grad(), or model() on slices of 256
rows (nnx predict's own batch; a large tensor can be slower).  For torch
threads 1 and 2 and both batchings: one warm-up call, then calls for at
least SECONDS; prints
    torch_infer model=M threads=T batch=all|256 rows=N calls=K rows_per_s=R
(Measured on Debian's PyTorch 1.13: most of the CNN's time is its first,
one-channel convolution through oneDNN; turning oneDNN off speeds that layer
up but slows the rest more, so it stays on.)
usage: torch_infer.py IMAGES mlp|cnn ROWS [SECONDS]
"""
import gzip
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import build  # noqa: E402


class Normalize(torch.nn.Module):
    """(x - mean) * (1 / std), one mean and std for the image: nnx's standard normalisation."""

    def __init__(self, x):
        super().__init__()
        self.shift = float(x.mean())
        self.scale = float(1.0 / x.std())

    def forward(self, v):
        return (v - self.shift) * self.scale


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    path, name, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    budget = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    x = torch.from_numpy(raw[:rows * 784].reshape(rows, 1, 28, 28).astype(np.float32) / 255.0)
    torch.manual_seed(1)
    net = build(name)
    model = torch.nn.Sequential(Normalize(x), net, torch.nn.Softmax(dim=1)).eval()

    def whole():
        model(x)

    def sliced():
        for i in range(0, rows, 256):
            model(x[i:i + 256])

    settings = [(t, b) for t in (1, 2) for b in (("all", whole), ("256", sliced))]
    for threads, (batch, call) in settings:
        torch.set_num_threads(threads)
        with torch.no_grad():
            call()
            calls, t0 = 0, time.perf_counter()
            while True:
                call()
                calls += 1
                t = time.perf_counter() - t0
                if t >= budget:
                    break
        print(f"torch_infer model={name} threads={threads} batch={batch} rows={rows} "
              f"calls={calls} rows_per_s={calls * rows / t:.0f}", flush=True)


if __name__ == "__main__":
    main()
