#!/bin/sh
# examples.sh — every example and stdlib file checks and is in canonical
# layout (`make fmt` keeps it so; bench/*.nnx too), README.md shows the quickstart as it is,
# and the quickstart trains to the accuracy it promises.  The Fashion-MNIST examples are trained in run_fashion.sh
# (a short one) and measured by hand (README.md).
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2
NNX=${NNX:-$root/nnx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

files="examples/*.nnx examples/*/*.nnx stdlib/std/*.nnx bench/*.nnx"
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
