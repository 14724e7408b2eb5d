# pandas_load.py — pandas' C engine reading the same table as float32, timed
# alone; with "none", the interpreter with pandas imported (its baseline).
# Prints "seconds=S rows=N features=D" like bench/load_data.c.
import sys
import time

import numpy as np
import pandas as pd

if sys.argv[1] == "none":
    print("seconds=0 rows=0 features=0")
    sys.exit(0)
t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1], dtype=np.float32, engine="c")
t = time.perf_counter() - t0
print(f"seconds={t:.3f} rows={df.shape[0]} features={df.shape[1] - 1}")
