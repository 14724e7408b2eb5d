#!/usr/bin/python3
"""torch_bench.py — PyTorch on the work bench/bench.nnx gives nnx, run as an
expert would run it.

The work of one epoch, as `nnx run` does it for experiments bench_mlp and
bench_cnn: Fashion-MNIST's 60000 training rows, 6000 of them held out for
validation (54000 trained on, batch 128 in a shuffled order, the last batch
smaller), every feature standardised with the training rows' mean and std,
Adam lr 1e-3, cross entropy; then the 6000 validation rows evaluated
(no_grad, eval mode, large batches):

  mlp  784-256-128-10: Linear-BatchNorm1d-SiLU-Dropout(0.2) twice, Linear
  cnn  Conv(32,3,pad 1)-BN-SiLU-MaxPool(2)-Conv(64,3,pad 1)-BN-SiLU-MaxPool(2)
       -Flatten-Dropout(0.3)-Linear(128)-SiLU-Linear(10)

PyTorch at its fastest:
  - the inputs standardised once and held as one contiguous tensor,
    (rows, 784) for the MLP and (rows, 1, 28, 28) for the CNN; a batch is
    gathered with index_select into a buffer allocated once;
  - the allocator tuned: jemalloc (Debian's libjemalloc2, LD_PRELOAD) or
    glibc with MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ raised, so
    per-batch tensors do not cost an mmap/munmap each;
  - a warm-up, then several timed windows of training batches, each window
    followed by the validation pass; a window's seconds per epoch are its
    per-batch time times the batches of an epoch plus the validation time.
    The minimum and the median over the windows are printed;
  - every configuration (allocator x torch threads 1, 2 x
    OPENBLAS_NUM_THREADS = torch's threads, or unset too under
    NNX_BENCH_TORCH_SWEEP=full) in its own process, the fastest median kept
    and its configuration printed.

Output lines are "key=value ..." for bench/run.sh.

usage: torch_bench.py DATA_DIR [mlp|cnn|all]
Environment: NNX_BENCH_WINDOWS (timed windows, default 5),
NNX_BENCH_TORCH_BATCHES_MLP / _CNN (batches per window, default 100 / 30),
NNX_BENCH_BUDGET (seconds after which a window's training stops and is
scaled to its batches, default 10: an oversubscribed configuration, two
threads on a busy machine, cannot stall the benchmark),
NNX_BENCH_TORCH_SWEEP ("short", the default: OPENBLAS_NUM_THREADS always
set to torch's threads, 4 configurations; "full": also unset, 8).
"""
import glob
import gzip
import os
import statistics
import subprocess
import sys
import time

BATCH = 128
EVAL_BATCH = {"mlp": 6000, "cnn": 1000}   # the CNN's activations at 6000 rows are GBs
VALID_FRACTION = 0.1

GLIBC_TUNED = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20),   # glibc's largest
               "MALLOC_TRIM_THRESHOLD_": str(1 << 30),
               "MALLOC_TOP_PAD_": str(64 << 20)}


def load(data_dir, seed=1):
    import numpy as np
    with gzip.open(os.path.join(data_dir, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    with gzip.open(os.path.join(data_dir, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    x = x.reshape(-1, 784).astype(np.float32) / 255.0
    y = y.astype(np.int64)
    # hold out 10% (stratified by class, as nnx's split), standardise on the rest
    rng = np.random.default_rng(seed)
    valid = np.concatenate([rng.permutation(np.flatnonzero(y == c))[
        :int(round(VALID_FRACTION * np.count_nonzero(y == c)))] for c in range(10)])
    keep = np.ones(len(y), bool)
    keep[valid] = False
    xt, yt, xv, yv = x[keep], y[keep], x[valid], y[valid]
    mean, std = xt.mean(0), xt.std(0)
    std[std == 0] = 1.0
    xt = np.ascontiguousarray((xt - mean) / std, dtype=np.float32)
    xv = np.ascontiguousarray((xv - mean) / std, dtype=np.float32)
    return xt, yt, xv, yv


def build(name):
    import torch.nn as nn
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(),   # a view on (rows, 784); bench/torch_infer.py feeds images
            nn.Linear(784, 256), nn.BatchNorm1d(256), nn.SiLU(), nn.Dropout(0.2),
            nn.Linear(256, 128), nn.BatchNorm1d(128), nn.SiLU(), nn.Dropout(0.2),
            nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.SiLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.SiLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3),
        nn.Linear(64 * 7 * 7, 128), nn.SiLU(), nn.Linear(128, 10))


def child(data_dir, name, threads, windows, per_window, budget):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    xt, yt, xv, yv = load(data_dir)
    shape = (-1, 784) if name == "mlp" else (-1, 1, 28, 28)
    x = torch.from_numpy(xt).reshape(shape).contiguous()
    y = torch.from_numpy(yt)
    xvt = torch.from_numpy(xv).reshape(shape).contiguous()
    yvt = torch.from_numpy(yv)
    n = x.shape[0]
    batches = (n + BATCH - 1) // BATCH
    model = build(name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xb = torch.empty((BATCH,) + tuple(x.shape[1:]))
    yb = torch.empty(BATCH, dtype=torch.int64)
    state = {"perm": torch.randperm(n), "b": 0}

    def train(count, budget=None):
        """Train `count` batches (fewer once `budget` seconds have passed);
        the last loss and the batches done."""
        model.train()
        t0 = time.perf_counter()
        done = 0
        for _ in range(count):
            if budget and done and time.perf_counter() - t0 > budget:
                break
            if state["b"] == batches:
                state["perm"], state["b"] = torch.randperm(n), 0
            b = state["b"]
            idx = state["perm"][b * BATCH:(b + 1) * BATCH]
            if len(idx) == BATCH:
                torch.index_select(x, 0, idx, out=xb)
                torch.index_select(y, 0, idx, out=yb)
                xi, yi = xb, yb
            else:
                xi, yi = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xi), yi)
            loss.backward()
            opt.step()
            state["b"] = b + 1
            done += 1
        return loss.item(), done

    def evaluate():
        model.eval()
        correct = 0
        with torch.no_grad():
            step = EVAL_BATCH[name]
            for first in range(0, xvt.shape[0], step):
                out = model(xvt[first:first + step])
                correct += int((out.argmax(1) == yvt[first:first + step]).sum())
        return correct / xvt.shape[0]

    train(10)                                    # warm-up
    evaluate()
    per_epoch, cpu_per_epoch = [], []
    loss = acc = 0.0
    for _ in range(windows):
        c0, t0 = time.process_time(), time.perf_counter()
        loss, done = train(per_window, budget)
        c1, t1 = time.process_time(), time.perf_counter()
        acc = evaluate()
        c2, t2 = time.process_time(), time.perf_counter()
        per_epoch.append((t1 - t0) * batches / done + (t2 - t1))
        cpu_per_epoch.append((c1 - c0) * batches / done + (c2 - c1))
    print(f"torch model={name} threads={threads} "
          f"openblas={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} "
          f"alloc={os.environ.get('NNX_BENCH_ALLOC', '?')} "
          f"min_s_per_epoch={min(per_epoch):.3f} "
          f"median_s_per_epoch={statistics.median(per_epoch):.3f} "
          f"cpu_s_per_epoch={statistics.median(cpu_per_epoch):.3f} "
          f"loss={loss:.4f} valid_acc={acc:.4f}", flush=True)


def allocators():
    """(name, environment additions) of each allocator to try."""
    out = []
    jemalloc = sorted(glob.glob("/usr/lib/*/libjemalloc.so.2") + glob.glob("/usr/lib/libjemalloc.so.2"))
    if jemalloc:
        out.append(("jemalloc", {"LD_PRELOAD": jemalloc[0]}))
    out.append(("glibc-tuned", GLIBC_TUNED))
    return out


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, data_dir, name, threads, windows, per_window, budget = sys.argv
        child(data_dir, name, int(threads), int(windows), int(per_window), float(budget))
        return
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    data_dir = sys.argv[1]
    which = sys.argv[2] if len(sys.argv) > 2 else "all"
    windows = os.environ.get("NNX_BENCH_WINDOWS", "5")
    budget = os.environ.get("NNX_BENCH_BUDGET", "10")
    sweep = os.environ.get("NNX_BENCH_TORCH_SWEEP", "short")
    if sweep not in ("short", "full"):
        sys.exit(f"torch_bench.py: NNX_BENCH_TORCH_SWEEP is short or full, not {sweep!r}")
    for name in ("mlp", "cnn"):
        if which not in ("all", name):
            continue
        per_window = os.environ.get("NNX_BENCH_TORCH_BATCHES_" + name.upper(),
                                    "100" if name == "mlp" else "30")
        best = None
        for alloc, extra in allocators():
            for threads in (1, 2):
                for blas in (str(threads), None) if sweep == "full" else (str(threads),):
                    env = dict(os.environ)
                    for k in ("OPENBLAS_NUM_THREADS", "LD_PRELOAD", *GLIBC_TUNED):
                        env.pop(k, None)
                    env.update(extra)
                    env["NNX_BENCH_ALLOC"] = alloc
                    if blas:
                        env["OPENBLAS_NUM_THREADS"] = blas
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", data_dir, name, str(threads),
                         windows, per_window, budget], env=env, check=True, capture_output=True,
                        text=True)
                    line = out.stdout.strip().splitlines()[-1]
                    print(line, flush=True)
                    fields = dict(kv.split("=") for kv in line.split()[1:])
                    if best is None or float(fields["median_s_per_epoch"]) < \
                            float(best["median_s_per_epoch"]):
                        best = fields
        print(f"torch model={name} best_s_per_epoch={best['median_s_per_epoch']} "
              f"min_s_per_epoch={best['min_s_per_epoch']} "
              f"cpu_s_per_epoch={best['cpu_s_per_epoch']} threads={best['threads']} "
              f"openblas={best['openblas']} alloc={best['alloc']} "
              f"config=alloc:{best['alloc']},torch_threads:{best['threads']},"
              f"OPENBLAS_NUM_THREADS:{best['openblas']}", flush=True)


if __name__ == "__main__":
    main()
