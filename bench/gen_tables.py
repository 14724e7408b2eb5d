"""gen_tables.py — the deterministic npy tables bench/load.sh trains on (NumPy, seeded;
its CSV table comes from gen_table.py).

  python3 gen_tables.py npy DIR ROWS FEATURES DIR/big_x.npy (ROWS x FEATURES float32, written
                                              through a memory map in blocks: never whole in
                                              memory), DIR/big_y.npy, and a 10,000-row
                                              DIR/small_x.npy, DIR/small_y.npy for valid

The label is a linear rule of the first columns plus noise, so a run learns
something.  The same arguments give the same bytes.
"""
import sys

import numpy as np


def rows_of(rng, n, d):
    x = rng.standard_normal((n, d), dtype=np.float32)
    y = (x[:, :3].sum(axis=1) + 0.3 * rng.standard_normal(n, dtype=np.float32) > 0)
    return x, y.astype(np.int32)


def write_npy(out, n, d):
    rng = np.random.default_rng(21)
    x = np.lib.format.open_memmap(f"{out}/big_x.npy", mode="w+", dtype=np.float32, shape=(n, d))
    y = np.empty(n, dtype=np.int32)
    block = 50_000
    for start in range(0, n, block):
        m = min(block, n - start)
        xb, yb = rows_of(rng, m, d)
        x[start:start + m] = xb
        y[start:start + m] = yb
    x.flush()
    del x
    np.save(f"{out}/big_y.npy", y)
    xs, ys = rows_of(rng, 10_000, d)
    np.save(f"{out}/small_x.npy", xs)
    np.save(f"{out}/small_y.npy", ys)


if __name__ == "__main__":
    if sys.argv[1] != "npy":
        sys.exit("usage: gen_tables.py npy DIR ROWS FEATURES")
    write_npy(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
