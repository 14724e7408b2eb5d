# gen_table.py — the table of issue 20, deterministically: 1,000,000 rows of 30
# standard-normal features (6 decimals) and an integer label 0..9 that depends
# on them, with a header, written by NumPy's savetxt.
# usage: python3 gen_table.py OUT.csv [rows]
import sys

import numpy as np

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = np.random.default_rng(20)
x = rng.standard_normal((rows, 30), dtype=np.float64)
w = rng.standard_normal((30, 10))
label = np.argmax(x @ w, axis=1)
table = np.concatenate([x, label[:, None].astype(np.float64)], axis=1)
header = ",".join([f"c{i}" for i in range(30)] + ["label"])
np.savetxt(out, table, fmt=["%.6f"] * 30 + ["%d"], delimiter=",", header=header, comments="")
