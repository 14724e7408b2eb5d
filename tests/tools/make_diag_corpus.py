# make_diag_corpus.py — regenerate the labelled diagnosis corpus: real `nnx run`s of tests/fixtures/diag/exps/*.nnx.
#
# usage (from the repository root, after `make`):
#   python3 tests/tools/make_diag_corpus.py [--nnx ./nnx] [CASE...]
#
# Each row of tests/fixtures/diag/corpus.csv (the runs the rules were tuned
# on) and heldout.csv (runs made afterwards to measure them, never used to
# tune) names an experiment, a seed and the fault planted in it.  This script writes the generated CSV tables the
# experiments read (exps/data/, not committed), runs each case with
# `nnx run FILE NAME --set seed=S`, and keeps the run's metrics.csv,
# steps.csv and summary.json in tests/fixtures/diag/runs/CASE/, which
# tests/unit/test_diag_corpus.c diagnoses.  Without CASE arguments every
# case is rerun.  The runs train with -j 1, so the curves do not depend on
# the machine's core count.
import csv, gzip, json, math, os, random, shutil, struct, subprocess, sys, tempfile

ROOT = os.path.join("tests", "fixtures", "diag")
EXPS = os.path.join(ROOT, "exps")
DATA = os.path.join(EXPS, "data")
FASHION = "/usr/share/datasets/fashion-mnist"


def write_noisy_linear(path, n=2000, d=10, seed=11):
    """A linear rule with 25% of the labels flipped: no model does better than
    about 0.56 loss (ln 2 = 0.69), so a healthy run plateaus high."""
    r = random.Random(seed)
    w = [r.gauss(0, 1) for _ in range(d)]
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["x%d" % i for i in range(d)] + ["y"])
        for _ in range(n):
            x = [r.gauss(0, 1) for _ in range(d)]
            y = int(sum(a * b for a, b in zip(w, x)) > 0)
            if r.random() < 0.25:
                y = 1 - y
            out.writerow(["%.5f" % v for v in x] + [y])


def write_wide(path, n=300, d=60, seed=12):
    """Few rows, many features, three that matter: a large net memorises it."""
    r = random.Random(seed)
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["x%d" % i for i in range(d)] + ["y"])
        for _ in range(n):
            x = [r.gauss(0, 1) for _ in range(d)]
            z = x[0] + 0.8 * x[1] - 0.6 * x[2] + r.gauss(0, 0.8)
            out.writerow(["%.5f" % v for v in x] + [int(z > 0)])


def write_noisy3(path, n=2400, d=8, seed=21):
    """Three classes by a linear rule (the largest of three scores), 20% of the
    labels redrawn at random: the held-out corpus's table at its noise floor."""
    r = random.Random(seed)
    w = [[r.gauss(0, 1) for _ in range(d)] for _ in range(3)]
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["x%d" % i for i in range(d)] + ["y"])
        for _ in range(n):
            x = [r.gauss(0, 1) for _ in range(d)]
            score = [sum(a * b for a, b in zip(wk, x)) for wk in w]
            y = score.index(max(score))
            if r.random() < 0.2:
                y = r.randrange(3)
            out.writerow(["%.5f" % v for v in x] + [y])


def write_wide2(path, n=250, d=80, seed=22):
    """Few rows, many features, four that matter: the held-out overfitting table."""
    r = random.Random(seed)
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["x%d" % i for i in range(d)] + ["y"])
        for _ in range(n):
            x = [r.gauss(0, 1) for _ in range(d)]
            z = x[0] - 0.7 * x[1] + 0.5 * x[2] * x[3] + r.gauss(0, 0.7)
            out.writerow(["%.5f" % v for v in x] + [int(z > 0)])


def write_fashion(path, n=3000, first=0):
    """n rows of the Fashion-MNIST training set from row `first`, pixels 0-255."""
    with gzip.open(os.path.join(FASHION, "train-images-idx3-ubyte.gz")) as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        f.read(first * rows * cols)
        pix = f.read(n * rows * cols)
    with gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")) as f:
        f.read(8 + first)
        labels = f.read(n)
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["p%d" % i for i in range(rows * cols)] + ["label"])
        for i in range(n):
            out.writerow(list(pix[i * rows * cols:(i + 1) * rows * cols]) + [labels[i]])


def make_data():
    os.makedirs(DATA, exist_ok=True)
    for name, fn in (("noisy_linear.csv", write_noisy_linear), ("wide.csv", write_wide),
                     ("fashion_3k.csv", write_fashion),
                     ("fashion_3k_b.csv", lambda p: write_fashion(p, first=3000)),
                     ("noisy3.csv", write_noisy3), ("wide2.csv", write_wide2)):
        p = os.path.join(DATA, name)
        if not os.path.exists(p):
            fn(p)


def run_case(nnx, row):
    src = os.path.join(EXPS, row["file"])
    dest = os.path.join(ROOT, "runs", row["case"])
    with tempfile.TemporaryDirectory() as out:
        cmd = [nnx, "run", src, row["experiment"], "--set", "seed=" + row["seed"], "-j", "1",
               "--out", out]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode not in (0, 1):
            sys.exit("%s: %s exited %d:\n%s" % (row["case"], " ".join(cmd), p.returncode, p.stdout))
        (run,) = os.listdir(out)
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        for f in ("metrics.csv", "steps.csv"):
            shutil.copy(os.path.join(out, run, f), dest)
        # summary.json without this machine's checkout: no "git", and the
        # data paths its settings resolved relative to the repository
        with open(os.path.join(out, run, "summary.json")) as f:
            summary = json.loads(f.read().replace(os.getcwd() + "/", ""))
        summary.pop("git", None)
        with open(os.path.join(dest, "summary.json"), "w") as f:
            json.dump(summary, f, indent=4)
            f.write("\n")
    print("%-28s %s" % (row["case"], row["fault"]))


def main(argv):
    nnx = "./nnx"
    if argv[:1] == ["--nnx"]:
        nnx, argv = argv[1], argv[2:]
    make_data()
    rows = []
    for corpus in ("corpus.csv", "heldout.csv"):
        with open(os.path.join(ROOT, corpus)) as f:
            rows += list(csv.DictReader(f))
    unknown = set(argv) - {r["case"] for r in rows}
    if unknown:
        sys.exit("no such case: " + ", ".join(sorted(unknown)))
    for row in rows:
        if not argv or row["case"] in argv:
            run_case(nnx, row)


if __name__ == "__main__":
    main(sys.argv[1:])
