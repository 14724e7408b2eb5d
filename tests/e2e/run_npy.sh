#!/bin/sh
# run_npy.sh — npy(x, y): arrays written by NumPy itself (float32, float64,
# uint8 images in 4-D, int64 and uint8 labels) load with the values NumPy
# wrote (the per-feature mean and std nnx fits for normalize = standard equal
# NumPy's), train, and give C×H×W from a 4-D x; a Fortran-order array, an
# unknown dtype and row counts that differ are errors naming the file.
. "$(dirname "$0")/lib/run_common.sh"

py=/usr/bin/python3
if ! "$py" -c 'import numpy' 2>/dev/null; then
    sh "$root/tests/install-deps.sh" python3-numpy || fail "python3-numpy is missing and could not be installed"
fi
cd "$tmp" || exit 2
"$py" - <<'PY' || fail "numpy could not write the arrays"
import numpy as np
rng = np.random.default_rng(7)
n = 600
y = rng.integers(0, 3, n)
x = rng.normal(0, 1, (n, 4)).astype(np.float32)
x[:, 0] += 3 * y                      # class in feature 0
np.save("x32.npy", x)
np.save("y64.npy", y.astype(np.int64))
np.save("x64.npy", x.astype(np.float64) * 10 + 1)
np.save("yu8.npy", y.astype(np.uint8))
img = rng.integers(0, 60, (n, 2, 6, 6)).astype(np.uint8)
img[:, 0, :3, :] += (80 * y[:, None, None]).astype(np.uint8)   # class in the top of channel 0
np.save("img.npy", img)
np.save("fortran.npy", np.asfortranarray(rng.normal(0, 1, (n, 3))))
np.save("complex.npy", np.zeros((n, 2), dtype=np.complex64))
np.save("short_y.npy", y[:10].astype(np.int64))
np.save("y_five.npy", np.where(y == 2, 5, y).astype(np.int64))   # label 5: no such class
np.save("x3.npy", x[:, :3])
with open("stats.txt", "w") as f:
    f.write(" ".join("%.6g" % v for v in x.astype(np.float64).mean(0)) + "\n")
    f.write(" ".join("%.6g" % v for v in x.astype(np.float64).std(0)) + "\n")
    c = img.astype(np.float64) / 1.0
    f.write(" ".join("%.6g" % c[:, k].mean() for k in range(2)) + "\n")
PY
cat >exp.nnx <<'NNX'
data tab  { train = npy("x32.npy", "y64.npy")  normalize = standard }
data tab64 { train = npy("x64.npy", "yu8.npy")  valid = split(train, 0.2)  normalize = standard }
data img  { train = npy("img.npy", "y64.npy")  valid = split(train, 0.2)  normalize = standard }
data bad_order { train = npy("fortran.npy", "y64.npy") }
data bad_type  { train = npy("complex.npy", "y64.npy") }
data bad_rows  { train = npy("x32.npy", "short_y.npy") }
network mlp { dense(16) relu dense(3) }
network cnn { conv(4, 3, pad = 1) relu global_avgpool dense(3) }
experiment t   { data = tab    model = mlp  epochs = 5  optimizer = adam(lr = 0.02)  metrics = [accuracy] }
experiment t64 { data = tab64  model = mlp  epochs = 5  optimizer = adam(lr = 0.02)  metrics = [accuracy] }
experiment i   { data = img    model = cnn  epochs = 5  optimizer = adam(lr = 0.02)  metrics = [accuracy] }
NNX
cp exp.nnx good.nnx
sed -i '/bad_/d' good.nnx
expect 0 check.out "$nnx" check good.nnx
expect 2 bad.out "$nnx" check exp.nnx
has bad.out "fortran.npy': a Fortran-order .npy array; save it in C order"
has bad.out "complex.npy': .npy of dtype '<c8'"
has bad.out "npy: 'x32.npy' has 600 rows but 'short_y.npy' has 10 labels"

expect 0 t.out "$nnx" run good.nnx t --out runs_t --quiet
d=$(rundir runs_t)
# nnx's standard normalisation of the float32 table is NumPy's mean and std
"$py" - "$d/model.json" <<'PY' || fail "the mean and std nnx fitted differ from NumPy's (the values were not read as written)"
import json, sys
m = json.load(open(sys.argv[1]))["normalize"]
mean, std = [list(map(float, l.split())) for l in open("stats.txt")][:2]
shift, scale = m["shift"], m["scale"]
for j in range(4):
    assert abs(shift[j] - mean[j]) < 1e-4 * max(1, abs(mean[j])), (j, shift[j], mean[j])
    assert abs(1 / scale[j] - std[j]) < 1e-4 * std[j], (j, 1 / scale[j], std[j])
PY
expect 0 rt.out "$nnx" check "$d/experiment.nnx"     # the run's record names npy(...) again
has "$d/experiment.nnx" 'npy("'
expect 0 t64.out "$nnx" run good.nnx t64 --out runs_64 --quiet
acc64=$(sed -n 's/^    "valid.accuracy": \([0-9.e-]*\),*$/\1/p' "$(rundir runs_64)/summary.json")
awk -v a="$acc64" 'BEGIN { exit !(a >= 0.85) }' || fail "float64 x / uint8 y: valid accuracy $acc64 < 0.85"
expect 0 i.out "$nnx" run good.nnx i --out runs_i --verbose
has i.out "conv  *-> 4x6x6"
has i.out "480 train, 120 valid rows, 72 features"
di=$(rundir runs_i)
has "$di/model.json" '"source": "npy"'
acci=$(sed -n 's/^    "valid.accuracy": \([0-9.e-]*\),*$/\1/p' "$di/summary.json")
awk -v a="$acci" 'BEGIN { exit !(a >= 0.9) }' || fail "4-D uint8 images: valid accuracy $acci < 0.9"

# nnx predict and nnx eval read .npy as npy(...) does: the images' classes
# predicted from img.npy score, against y64.npy, the accuracy nnx eval
# reports for the same arrays; the table run predicts from x32.npy
expect 0 p.out "$nnx" predict "$di" img.npy -o pred.csv
[ "$(nrows pred.csv)" = 600 ] || fail "predict img.npy: $(nrows pred.csv) rows, expected 600"
expect 0 e.out "$nnx" eval "$di" img.npy y64.npy --json
"$py" - pred.csv e.out <<'PY' || fail "predict's classes from img.npy do not give eval's accuracy"
import json, sys
import numpy as np
y = np.load("y64.npy")
rows = open(sys.argv[1]).read().split("\n")[1:-1]
pred = np.array([int(r.split(",")[0]) for r in rows])
acc = float((pred == y).mean())
ev = json.load(open(sys.argv[2]))
got = ev.get("test.accuracy", ev.get("metrics", {}).get("test.accuracy"))
assert got is not None, ev
assert abs(acc - got) < 1e-6, (acc, got)
assert acc >= 0.9, acc
PY
expect 0 pt.out "$nnx" predict "$d" x32.npy --probs -o pt.csv
[ "$(nrows pt.csv)" = 600 ] || fail "predict x32.npy: $(nrows pt.csv) rows, expected 600"
expect 2 bad.out "$nnx" eval "$di" img.npy
has bad.out "img.npy is a .npy array of features: give the .npy file of its labels too"
expect 2 bad.out "$nnx" eval "$di" img.npy y_five.npy
has bad.out "y_five.npy: item [0-9]* has the label 5, which is not a class of the model"
expect 2 bad.out "$nnx" predict "$d" x3.npy
has bad.out "x3.npy: rows of 3 features; the model takes 4 features"
expect 2 bad.out "$nnx" predict "$d" img.npy
has bad.out "img.npy: images of 2×6×6; the model takes 4 features"
expect 2 bad.out "$nnx" predict "$di" fortran.npy
has bad.out "Fortran-order"
expect 2 bad.out "$nnx" eval "$di" img.npy short_y.npy
has bad.out "img.npy has 600 rows but short_y.npy has 10 labels"

if [ -x "$nnx_san" ]; then
    expect 0 san.out "$nnx_san" run good.nnx i --out runs_san --set epochs=1 --quiet
    expect 0 sp.out "$nnx_san" predict "$di" img.npy -o san_pred.csv
    cmp -s pred.csv san_pred.csv || fail "the sanitized build predicts other classes from img.npy"
    expect 2 bad.out "$nnx_san" eval "$di" img.npy y_five.npy
fi
echo "run_npy: ok (valid accuracy $acc64 on float64, $acci on 4-D uint8 images)"
