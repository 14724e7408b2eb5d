#!/bin/sh
# search_ensemble.sh — a 5-seed ensemble through the real binary: one run directory per
# member with its saved probabilities, mean ± std of the members, and the ensemble of
# averaged probabilities beating the average member on the test split.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/e.nnx" <<'NNX'
data toy {
    train = spirals(n = 1500, classes = 3, noise = 0.3, seed = 7)
    valid = split(train, 0.2)
    test  = spirals(n = 1500, classes = 3, noise = 0.3, seed = 8)
}
network mlp(width = 32) { dense(width) relu dense(width) relu dense(3) }
experiment members {
    data = toy
    model = mlp()
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs = 6
    batch = 32
    metrics = [accuracy]
    select = max(valid.accuracy)
    ensemble { seeds = 5 }
}
NNX

expect 0 "$tmp/out" "$nnx" run "$tmp/e.nnx" --out "$tmp/o" -j 2
d=$(rundir "$tmp/o")
[ -e "$d/trials.csv" ] && fail "an ensemble has no trials.csv (the report would read it as a search)"
for s in 1 2 3 4 5; do
    for f in summary.json metrics.csv weights.nnxw probs_valid.f32 probs_test.f32; do
        [ -s "$d/members/$s/$f" ] || fail "member $s has no $f"
    done
    # 16-byte header, 1500 labels, 1500 x 3 probabilities
    [ "$(wc -c <"$d/members/$s/probs_test.f32")" = $((16 + 1500 * 4 + 1500 * 3 * 4)) ] || fail "member $s: probs_test.f32 size"
    grep -q "\"seed\": \"$s\"\|\"seed\": $s" "$d/members/$s/summary.json" || fail "member $s: seed not in its summary"
done
has "$d/summary.json" '"kind": "ensemble"'
has "$tmp/out" "mean ± std"
has "$tmp/out" "ensemble (mean probabilities)"

# a number from summary.json: value of KEY inside the object that starts at line START (sed range)
inside() { sed -n "/^  \"$1\": {/,/^  }/p" "$d/summary.json" | sed -n "s/^ *\"$2\": \([-0-9.e+]*\),*$/\1/p" | head -1; }
mean=$(inside mean test.accuracy)
ens=$(inside ensemble test.accuracy)
mloss=$(inside mean test.loss)
eloss=$(inside ensemble test.loss)
[ -n "$mean" ] && [ -n "$ens" ] && [ -n "$mloss" ] && [ -n "$eloss" ] || { cat "$d/summary.json" >&2; fail "no mean/ensemble metrics"; }
# the mean really is the members' mean
calc=$(for s in 1 2 3 4 5; do sed -n 's/^    "test.accuracy": \([-0-9.e+]*\),*$/\1/p' "$d/members/$s/summary.json"; done |
       awk '{ s += $1; n++ } END { printf "%.9f", s / n }')
awk -v a="$mean" -v b="$calc" 'BEGIN { d = a - b; exit !(d < 1e-9 && d > -1e-9) }' || fail "mean test.accuracy $mean, members give $calc"
awk -v e="$ens" -v m="$mean" 'BEGIN { exit !(e > m) }' || fail "the ensemble ($ens) does not beat the average member ($mean)"
awk -v e="$eloss" -v m="$mloss" 'BEGIN { exit !(e < m) }' || fail "the ensemble's loss ($eloss) is not below the members' mean ($mloss)"
expect 0 "$tmp/rep" "$nnx" report --text "$d"
has "$tmp/rep" "ensemble"
echo "search_ensemble: ok ($ens vs members $mean)"
