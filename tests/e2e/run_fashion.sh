#!/bin/sh
# run_fashion.sh — two epochs of examples/fashion_mlp.nnx on the real Fashion-MNIST files
# reach at least 0.84 test accuracy (the full 20 epochs reach about 0.89; see README).
. "$(dirname "$0")/lib/run_common.sh"

dir=${NNX_DATA:-/usr/share/datasets/fashion-mnist}
[ -f "$dir/train-images-idx3-ubyte.gz" ] ||
    fail "Fashion-MNIST is not in $dir (make data-deps installs dataset-fashion-mnist)"
expect 0 "$tmp/out" "$nnx" run "$root/examples/fashion_mlp.nnx" --set epochs=2 --out "$tmp/runs"
d=$(rundir "$tmp/runs")
has "$tmp/out" "54000 train, 6000 valid, 10000 test rows"
acc=$(sed -n 's/^    "test.accuracy": \([0-9.e-]*\),*$/\1/p' "$d/summary.json")
[ -n "$acc" ] || fail "no test.accuracy in summary.json"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.84) }' || fail "test accuracy $acc < 0.84 after 2 epochs"
[ "$(nrows "$d/metrics.csv")" = 2 ] || fail "expected 2 epochs"
[ "$(nrows "$d/steps.csv")" = $((2 * 422)) ] || fail "expected 2 x 422 steps"
echo "run_fashion: ok (test accuracy $acc)"
