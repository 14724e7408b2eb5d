#!/usr/bin/python3
"""torch_bench.py — PyTorch on the benchmark work nnx_bench.c times.

Fashion-MNIST training set (60000 rows) in memory, batch 128 in a shuffled
order each epoch (the last batch smaller, as nnx's train loop), Adam lr 1e-3,
cross entropy:

  mlp  784-256-128-10: Linear-BatchNorm1d-SiLU-Dropout(0.2) twice, Linear
  cnn  Conv(32,3,pad 1)-BN-SiLU-MaxPool(2)-Conv(64,3,pad 1)-BN-SiLU-MaxPool(2)
       -Flatten-Dropout(0.3)-Linear(128)-SiLU-Linear(10)

Each configuration — torch threads 1 and 2, OPENBLAS_NUM_THREADS=1 and unset —
runs in its own process (thread pools and BLAS read their settings at start);
the fastest is reported, with the CPU seconds (all threads) its epoch took.  Output lines are "key=value ..." for bench/run.sh.

usage: torch_bench.py DATA_DIR [mlp|cnn|all] [epochs] [cnn_batches]
  epochs       MLP epochs timed, the fastest reported (default 3)
  cnn_batches  CNN batches timed and scaled to an epoch (0 = a full epoch)
A timed epoch that runs past NNX_BENCH_BUDGET seconds (default 20) stops
there and is scaled to a whole epoch, so an oversubscribed configuration
(two threads on a busy machine) cannot stall the benchmark.
"""
import gzip
import os
import subprocess
import sys
import time

BATCH = 128


def load(data_dir):
    import numpy as np
    with gzip.open(os.path.join(data_dir, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    with gzip.open(os.path.join(data_dir, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    x = x.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0
    return x, y.astype(np.int64)


def build(name):
    import torch.nn as nn
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.BatchNorm1d(256), nn.SiLU(), nn.Dropout(0.2),
            nn.Linear(256, 128), nn.BatchNorm1d(128), nn.SiLU(), nn.Dropout(0.2),
            nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.SiLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.SiLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3),
        nn.Linear(64 * 7 * 7, 128), nn.SiLU(), nn.Linear(128, 10))


def child(data_dir, name, threads, epochs, limit, budget):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    xs, ys = load(data_dir)
    x, y = torch.from_numpy(xs), torch.from_numpy(ys)
    n = x.shape[0]
    batches = (n + BATCH - 1) // BATCH
    model = build(name)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(stop, budget=None):
        perm = torch.randperm(n)
        done, total = 0, 0.0
        t0 = time.perf_counter()
        for b in range(batches):
            idx = perm[b * BATCH:(b + 1) * BATCH]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item()
            done += 1
            if stop and done >= stop:
                break
            if budget and time.perf_counter() - t0 > budget:
                break
        return done, total / done

    epoch(5)                                   # warm-up
    best, loss, cpu = float("inf"), 0.0, 0.0
    for _ in range(epochs if name == "mlp" else 1):
        c0, t0 = time.process_time(), time.perf_counter()
        done, loss = epoch(0 if name == "mlp" else limit, budget)
        s = (time.perf_counter() - t0) * batches / done
        if s < best:
            best, cpu = s, (time.process_time() - c0) * batches / done
        if done < batches and name == "mlp":
            break                              # over budget: one partial epoch is enough
    print(f"torch model={name} threads={threads} "
          f"openblas={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} "
          f"s_per_epoch={best:.3f} cpu_s_per_epoch={cpu:.3f} loss={loss:.4f}", flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, data_dir, name, threads, epochs, limit, budget = sys.argv
        child(data_dir, name, int(threads), int(epochs), int(limit), float(budget))
        return
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    data_dir = sys.argv[1]
    which = sys.argv[2] if len(sys.argv) > 2 else "all"
    epochs = sys.argv[3] if len(sys.argv) > 3 else "3"
    limit = sys.argv[4] if len(sys.argv) > 4 else "0"
    budget = os.environ.get("NNX_BENCH_BUDGET", "20")
    for name in ("mlp", "cnn"):
        if which not in ("all", name):
            continue
        best = None
        for threads in (1, 2):
            for blas in ("1", None):
                env = dict(os.environ)
                env.pop("OPENBLAS_NUM_THREADS", None)
                if blas:
                    env["OPENBLAS_NUM_THREADS"] = blas
                out = subprocess.run(
                    [sys.executable, __file__, "--child", data_dir, name, str(threads),
                     epochs, limit, budget], env=env, check=True, capture_output=True, text=True)
                line = out.stdout.strip().splitlines()[-1]
                print(line, flush=True)
                fields = dict(kv.split("=") for kv in line.split()[1:])
                s = float(fields["s_per_epoch"])
                if best is None or s < best[0]:
                    best = (s, threads, fields["openblas"], fields["cpu_s_per_epoch"])
        print(f"torch model={name} best_s_per_epoch={best[0]:.3f} cpu_s_per_epoch={best[3]} "
              f"threads={best[1]} openblas={best[2]} partial={limit if name == 'cnn' else 0}",
              flush=True)


if __name__ == "__main__":
    main()
