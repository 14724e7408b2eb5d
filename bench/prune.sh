#!/bin/sh
# bench/prune.sh — what successive halving saves: the 27-draw random
# Fashion-MNIST search of bench/prune.nnx (lr over six decades, batch,
# width; 9 epochs) run whole and with prune = halving(min_epochs = 1,
# eta = 3) and with prune = hyperband(min_epochs = 1, eta = 3): epochs
# trained, seconds and the best valid accuracy side by side.
# The issue's target: the pruned best within 0.5 point of the unpruned one,
# with at most 40% of its epochs (the rung arithmetic gives 63 of 243).
#
# Environment:
#   NNX_DATA                 Fashion-MNIST directory (std/fashion.nnx's default otherwise)
#   NNX_BENCH_PRUNE_SUBSET   non-empty: a quick look on a subset, T-shirts and
#                            shirts only (bench/prune.nnx); the table says so
#   NNX_BENCH_PRUNE_JOBS     trials at once (default 2)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/bench/prune
jobs=${NNX_BENCH_PRUNE_JOBS:-2}
rm -rf "$out"
mkdir -p "$out"
make -C "$root" --no-print-directory nnx >/dev/null
pre=fashion
label="all of Fashion-MNIST"
if [ -n "${NNX_BENCH_PRUNE_SUBSET:-}" ]; then
    pre=pair
    label="a SUBSET: classes 0 and 6 (T-shirt, shirt) of Fashion-MNIST"
fi
. "$root/bench/quiet.sh"
mark=$(cpu_mark)
for e in ${pre}_random ${pre}_halving ${pre}_hyperband; do
    t0=$(date +%s.%N)
    NNX_STDLIB="$root/stdlib" "$root/nnx" run "$root/bench/prune.nnx" $e --out "$out" -j "$jobs" \
        >"$out/$e.txt" 2>&1 || { tail -20 "$out/$e.txt"; exit 1; }
    t1=$(date +%s.%N)
    awk -v e=$e -v a="$t0" -v b="$t1" "BEGIN { print e, b - a }" >>"$out/seconds.txt"
done
others "$mark"
echo "prune bench on $label; -j $jobs; $(verdict "$others") over the three searches"
printf '%-18s %8s %10s %16s\n' search epochs seconds "best valid.acc"
for e in ${pre}_random ${pre}_halving ${pre}_hyperband; do
    d=$(ls -d "$out/$e"-*/)
    ep=$(sed -n 's/^  "epochs_trained": \([0-9]*\),$/\1/p' "$d/summary.json")
    best=$(sed -n 's/^  "winner_value": \([-0-9.e]*\),*$/\1/p' "$d/summary.json")
    s=$(sed -n "s/^$e //p" "$out/seconds.txt")
    printf '%-18s %8s %10.1f %16s\n' "$e" "$ep" "$s" "$best"
done
