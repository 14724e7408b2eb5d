#!/bin/sh
# select_ties.sh — ties of the select metric keep the lower valid loss (epochs, trials,
# stages); a staged search has one winner everywhere; an ensemble computes lua.* metrics
# and the label-smoothed loss on its averaged probabilities.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/t.nnx" <<'NNX'
data easy { train = blobs(n = 400, classes = 2, features = 4, spread = 0.5, seed = 2)  valid = split(train, 0.1) }
network net { dense(8) relu dense(2) }
experiment base { data = easy  model = net  optimizer = adam(lr = 1e-2)  epochs = 8  batch = 32
                  metrics = [accuracy, auc]  select = max(valid.auc) }
experiment g extends base { search grid { optimizer.lr in [1e-2, 3e-2, 1e-1] } }
experiment s extends base { search staged { optimizer.lr in [1e-2, 3e-2, 1e-1]  epochs in [4, 8] } }
NNX

# --- a run: every epoch reaches valid.auc 1; the kept one has the lowest valid loss of them
expect 0 "$tmp/out" "$nnx" run "$tmp/t.nnx" base --out "$tmp/r"
d=$(rundir "$tmp/r")
has "$tmp/out" 'tied by [0-9]* epochs: kept the one with the lowest valid loss'
has "$d/summary.json" '"tie_break": "lowest valid.loss"'
want=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "valid.auc") a = i; if ($i == "valid.loss") l = i }; next }
                $a == 1 && (best == "" || $l + 0 < best + 0) { best = $l; at = $1 } END { print at }' "$d/metrics.csv")
[ "$(select_epoch "$d/summary.json")" = "$want" ] || fail "kept epoch $(select_epoch "$d/summary.json"), the lowest valid loss among the ties is epoch $want"

# --- a grid: all three trials tie at 1; the first row is the lowest valid loss
expect 0 "$tmp/out" "$nnx" run "$tmp/t.nnx" g --out "$tmp/g"
d=$(rundir "$tmp/g")
first=$(sed -n 2p "$d/trials.csv" | cut -d, -f1)
low=$(for t in "$d"/trials/*/; do printf '%s %s\n' "$(sed -n 's/^    "valid.loss": \([-0-9.e+]*\),*$/\1/p' "$t/summary.json")" "$(basename "$t")"; done |
      sort -g | head -1 | cut -d' ' -f2)
[ "$first" = "$low" ] || fail "leaderboard leads with $first, the lowest valid loss is $low"
[ "$(json_str "$d/summary.json" winner)" = "$low" ] || fail "summary winner is not $low"
has "$d/summary.json" '"winner_ties": 3'
has "$tmp/out" "winner      $low  (valid.auc 1; 3 trials tie: the lowest valid loss wins)"
has "$tmp/out" "reading     best at ${low#lr=} "

# --- a staged search: the last stage's kept point is the winner in every place
expect 0 "$tmp/out" "$nnx" run "$tmp/t.nnx" s --out "$tmp/s"
d=$(rundir "$tmp/s")
last=$(sed -n '/"stages"/,$p' "$d/summary.json" | sed -n 's/^ *"winner": "\(.*\)",*$/\1/p' | tail -1)
[ -n "$last" ] || { cat "$d/summary.json" >&2; fail "no stage winner"; }
[ "$(json_str "$d/summary.json" winner)" = "$last" ] || fail "summary winner $(json_str "$d/summary.json" winner), last stage kept $last"
[ "$(sed -n 2p "$d/trials.csv" | cut -d, -f1)" = "$last" ] || fail "trials.csv does not lead with $last"
has "$tmp/out" "winner      $last  (valid.auc 1; the point the last stage kept"
expect 0 "$tmp/rep" "$nnx" report --text "$d"
has "$tmp/rep" "winner $last"

# --- an ensemble of one member: its averaged probabilities are the member's, so the
# label-smoothed loss and a Lua metric must come out as the member's own
cat >"$tmp/hooks.lua" <<'LUA'
function acc(y, p)
  local right = 0
  for i = 1, #y do if p:argmax(i) == y[i] then right = right + 1 end end
  return right / #y
end
LUA
cat >"$tmp/e.nnx" <<'NNX'
data toy { train = spirals(n = 600, classes = 3, noise = 0.3, seed = 7)  valid = split(train, 0.2)
           test = spirals(n = 300, classes = 3, noise = 0.3, seed = 8) }
network mlp { dense(16) relu dense(3) }
experiment one { data = toy  model = mlp  loss = cross_entropy(label_smoothing = 0.1)
                 optimizer = adam(lr = 1e-2)  epochs = 4  batch = 32  hooks = "hooks.lua"
                 metrics = [accuracy, lua.acc]  select = max(valid.accuracy)  ensemble { seeds = [3] } }
NNX
expect 0 "$tmp/out" "$nnx" run "$tmp/e.nnx" --out "$tmp/e"
d=$(rundir "$tmp/e")
ens() { sed -n '/^  "ensemble": {/,/^  }/p' "$d/summary.json" | sed -n "s/^ *\"$1\": \([-0-9.e+]*\),*$/\1/p"; }
mem() { sed -n "s/^    \"$1\": \([-0-9.e+]*\),*$/\1/p" "$d/members/3/summary.json"; }
for m in valid.acc test.acc valid.loss test.loss; do
    a=$(ens $m) b=$(mem $m)
    [ -n "$a" ] && [ -n "$b" ] || { cat "$d/summary.json" >&2; fail "no $m for the ensemble ('$a') or the member ('$b')"; }
    awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; exit !(d < 1e-6 && d > -1e-6) }' || fail "ensemble $m $a, member $b"
done
echo "select_ties: ok"
