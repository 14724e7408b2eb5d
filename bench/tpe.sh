#!/bin/sh
# bench/tpe.sh — does the TPE sampler learn?  bench/tpe.nnx's spirals search,
# 40 trials over one space, drawn at random and by `search tpe(startup = 10)`,
# search seeds 1 to 5.  Per seed: the mean valid accuracy of trials 1-20 and
# 21-40 (in proposal order, summary.json's trial_index) and the best.  The
# issue's check, on every seed: tpe's later-20 mean at least 0.1 above
# random's, and its best at least as good.  Exit status 1 when it fails.
#
# Environment:
#   NNX_BENCH_TPE_JOBS   trials at once (default 2; the numbers do not depend on it)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/bench/tpe
jobs=${NNX_BENCH_TPE_JOBS:-2}
rm -rf "$out"
mkdir -p "$out"
make -C "$root" --no-print-directory nnx >/dev/null

# DIR: "first20 later20 best" of the search in DIR
stats() {
    for t in "$1"/*/trials/*/; do
        k=$(sed -n 's/^  "trial_index": \([0-9]*\),$/\1/p' "$t/summary.json")
        v=$(sed -n '/^  "select": {/,/^  }/s/^    "value": \([-0-9.e]*\),*$/\1/p' "$t/summary.json")
        echo "$k ${v:-0}"
    done | awk '{ if ($1 <= 20) { a += $2; na++ } else { b += $2; nb++ } if ($2 > best) best = $2 }
                END { printf "%.4f %.4f %.4f\n", a / na, b / nb, best }'
}

t0=$(date +%s.%N)
echo "tpe bench: spirals (3 classes, 2000 rows), 40 trials, 10 epochs; -j $jobs;" \
     "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf '%-5s %-28s %-28s %s\n' seed "random: 1-20  21-40  best" "tpe: 1-20  21-40  best" check
ok=0
for s in 1 2 3 4 5; do
    for k in random tpe; do
        NNX_STDLIB="$root/stdlib" "$root/nnx" run "$root/bench/tpe.nnx" ${k}_$s --out "$out/${k}_$s" -j "$jobs" \
            >"$out/${k}_$s.txt" 2>&1 || { tail -20 "$out/${k}_$s.txt"; exit 1; }
    done
    r=$(stats "$out/random_$s")
    t=$(stats "$out/tpe_$s")
    verdict=$(echo "$r $t" | awk '{ print ($5 >= $2 + 0.1 && $6 >= $3) ? "ok" : "FAILED" }')
    [ "$verdict" = ok ] || ok=1
    printf '%-5s %-28s %-28s %s\n' "$s" "$(echo "$r" | awk '{ printf "%.3f  %.3f  %.4f", $1, $2, $3 }')" \
        "$(echo "$t" | awk '{ printf "%.3f  %.3f  %.4f", $1, $2, $3 }')" "$verdict"
done
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "tpe bench: %.0f s (load average %s at the end)\n", b - a, "'"$(cut -d' ' -f1-3 /proc/loadavg)"'" }'
[ $ok = 0 ] || { echo "tpe bench: FAILED: tpe's later 20 not 0.1 above random's, or its best below, on some seed"; exit 1; }
