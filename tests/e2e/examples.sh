#!/bin/sh
# examples.sh — every example and stdlib file checks and is in canonical
# layout (`make fmt` keeps it so; bench/bench.nnx, bench/lr_find.nnx and bench/staged_grid.nnx too), README.md shows the quickstart as it is,
# the quickstart trains to the accuracy it promises, and the ResNet example's
# network trains (on a small budget, below).  The Fashion-MNIST examples are trained in run_fashion.sh
# (a short one) and measured by hand (README.md).
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2
NNX=${NNX:-$root/nnx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

files="examples/*.nnx examples/*/*.nnx stdlib/std/*.nnx bench/bench.nnx bench/lr_find.nnx bench/staged_grid.nnx"
# shellcheck disable=SC2086
"$NNX" check $files >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "nnx check of the examples"; }
# shellcheck disable=SC2086
"$NNX" fmt --check $files >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "examples not in canonical layout (run make fmt)"; }

# README.md's language example is examples/quickstart.nnx, word for word
awk '/^```nnx$/ { on = 1; next } /^```/ { on = 0 } on' README.md >"$tmp/readme.nnx"
grep -v '^#' examples/quickstart.nnx | sed '/./,$!d' | cmp -s - "$tmp/readme.nnx" ||
    { diff "$tmp/readme.nnx" examples/quickstart.nnx; fail "README.md's example is not examples/quickstart.nnx"; }

"$NNX" run examples/quickstart.nnx --out "$tmp/runs" --quiet >"$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "quickstart did not run"; }
summary=$(ls "$tmp"/runs/quickstart-*/summary.json)
acc=$(sed -n 's/.*"valid.accuracy": *\([0-9.e-]*\).*/\1/p' "$summary" | head -n 1)
[ -n "$acc" ] || fail "no valid.accuracy in $summary"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' || fail "quickstart valid.accuracy $acc < 0.95"
echo "quickstart valid.accuracy $acc"

# examples/fashion_resnet.nnx: `nnx check --verbose` names its two projections,
# and its network trains: 2 epochs on the two classes most alike, T-shirt/top
# and Shirt (12,000 rows, to keep the suite quick; the full run is measured by
# hand, see README.md), with the example's settings and augmentation, reach a
# test accuracy of at least 0.84.  Measured: 0.874 with seed 1, the seed this
# test runs (it repeats bit for bit, whatever -j), and 0.8645 with seed 2.
# The floor sits more than that spread below the worse of them: room for a
# kernel change that rounds differently (which moves a run as much as
# another seed does), none for a network that stopped learning (chance is
# 0.5; the example's earlier settings gave 0.848 to 0.858).
"$NNX" check --verbose examples/fashion_resnet.nnx >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "nnx check --verbose"; }
[ "$(grep -c 'note: residual: .* 1×1 conv projection' "$tmp/out")" = 2 ] ||
    { cat "$tmp/out"; fail "nnx check --verbose does not note the resnet's two projections"; }
dir=${NNX_DATA:-/usr/share/datasets/fashion-mnist}
[ -f "$dir/train-images-idx3-ubyte.gz" ] ||
    fail "Fashion-MNIST is not in $dir (make data-deps installs dataset-fashion-mnist)"
cat >"$tmp/resnet2.nnx" <<EOF2
import "$root/examples/fashion_resnet.nnx"
data tops {
    train = idx(fashion_dir + "/train-images-idx3-ubyte.gz",
                fashion_dir + "/train-labels-idx1-ubyte.gz", classes = [0, 6])
    test  = idx(fashion_dir + "/t10k-images-idx3-ubyte.gz",
                fashion_dir + "/t10k-labels-idx1-ubyte.gz", classes = [0, 6])
    valid = split(train, 0.1)
    normalize = standard
    shape = [1, 28, 28]
    augment.flip  = true    # as fashion_aug
    augment.shift = 1
}
experiment resnet2 extends fashion_resnet { data = tops  model = resnet(classes = 2)  epochs = 2 }
EOF2
"$NNX" run "$tmp/resnet2.nnx" --out "$tmp/runs" --quiet >"$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "the resnet did not train"; }
summary=$(ls "$tmp"/runs/resnet2-*/summary.json)
acc=$(sed -n 's/^    "test.accuracy": \([0-9.e-]*\),*$/\1/p' "$summary")
[ -n "$acc" ] || fail "no test.accuracy in $summary"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.84) }' || fail "resnet test accuracy $acc < 0.84 after 2 epochs on 2 classes"
echo "fashion_resnet (2 epochs, T-shirt vs Shirt) test.accuracy $acc"
