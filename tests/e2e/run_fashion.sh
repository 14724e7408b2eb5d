#!/bin/sh
# run_fashion.sh — two epochs of examples/fashion_mlp.nnx on the real Fashion-MNIST files
# reach at least 0.84 test accuracy (the full 20 epochs reach about 0.89; see README),
# and the thread count does not change a single number: -j 1 and -j 2 give the same
# metrics.csv (but its seconds) and the same weights.
. "$(dirname "$0")/lib/run_common.sh"

dir=${NNX_DATA:-/usr/share/datasets/fashion-mnist}
[ -f "$dir/train-images-idx3-ubyte.gz" ] ||
    fail "Fashion-MNIST is not in $dir (make data-deps installs dataset-fashion-mnist)"
expect 0 "$tmp/out" "$nnx" run "$root/examples/fashion_mlp.nnx" --set epochs=2 -j 2 --out "$tmp/runs"
d=$(rundir "$tmp/runs")
has "$tmp/out" "54000 train, 6000 valid, 10000 test rows"
acc=$(sed -n 's/^    "test.accuracy": \([0-9.e-]*\),*$/\1/p' "$d/summary.json")
[ -n "$acc" ] || fail "no test.accuracy in summary.json"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.84) }' || fail "test accuracy $acc < 0.84 after 2 epochs"
[ "$(nrows "$d/metrics.csv")" = 2 ] || fail "expected 2 epochs"
[ "$(nrows "$d/steps.csv")" = $((2 * 422)) ] || fail "expected 2 x 422 steps"
expect 0 "$tmp/out1" "$nnx" run "$root/examples/fashion_mlp.nnx" --set epochs=2 -j 1 --out "$tmp/runs1"
d1=$(rundir "$tmp/runs1")
strip_seconds() { awk -F, '{ NF--; print }' OFS=, "$1"; }
strip_seconds "$d/metrics.csv" >"$tmp/m2"
strip_seconds "$d1/metrics.csv" >"$tmp/m1"
cmp -s "$tmp/m1" "$tmp/m2" || { diff "$tmp/m1" "$tmp/m2" >&2; fail "-j 1 and -j 2 gave different metrics"; }
cmp -s "$d/weights.nnxw" "$d1/weights.nnxw" || fail "-j 1 and -j 2 gave different weights"
echo "run_fashion: ok (test accuracy $acc, the same bits on 1 and 2 threads)"
