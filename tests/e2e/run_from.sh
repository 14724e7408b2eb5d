#!/bin/sh
# run_from.sh — `nnx run FILE NAME --from SEARCHDIR`: an experiment trained with the winning
# values of a finished search (then --set), and the mistakes named where they come from.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/x.nnx" <<'NNX'
data toy { train = spirals(n = 600, classes = 3, noise = 0.2, seed = 7)  valid = split(train, 0.2) }
network mlp(w = 16) { dense(w) swish dense(3) }
network other { dense(8) swish dense(3) }
experiment base { data = toy  model = mlp  optimizer = adam(lr = 1e-3)  epochs = 3  batch = 32
                  metrics = [accuracy]  select = max(valid.accuracy) }
experiment tune extends base { search grid { optimizer.lr in [1e-3, 3e-2]  model.w in [8, 32] } }
experiment final extends base { ensemble.seeds = 2 }
experiment plain { data = toy  model = other  optimizer = adam(lr = 1e-3)  epochs = 3  batch = 32
                   metrics = [accuracy]  select = max(valid.accuracy) }
NNX

expect 0 "$tmp/out" "$nnx" run "$tmp/x.nnx" tune --out "$tmp/o" --quiet
t=$(ls -d "$tmp"/o/tune-*)
win=$(json_str "$t/summary.json" winner)
lr=$(sed -n '/"winner_params"/,/}/s/^ *"optimizer.lr": \([-0-9.e+]*\),*$/\1/p' "$t/summary.json")
w=$(sed -n '/"winner_params"/,/}/s/^ *"model.w": \([-0-9.e+]*\),*$/\1/p' "$t/summary.json")
[ -n "$win" ] && [ -n "$lr" ] && [ -n "$w" ] || { cat "$t/summary.json" >&2; fail "no winner in the search"; }

# the winner's values, then the ensemble of `final` around them
expect 0 "$tmp/out" "$nnx" run "$tmp/x.nnx" final --from "$t" --out "$tmp/f"
has "$tmp/out" "from        $t: the winner $win, optimizer.lr=$lr model.w=$w"
d=$(rundir "$tmp/f")
for s in 1 2; do
    grep -q "lr = $lr" "$d/members/$s/experiment.nnx" || fail "member $s did not train with lr $lr"
    grep -q "^    dense($w, bias = true)" "$d/members/$s/experiment.nnx" || fail "member $s did not train with w = $w"
done

# --set comes after --from, so it wins
expect 0 "$tmp/out" "$nnx" run "$tmp/x.nnx" base --from "$t" --set model.w=4 --out "$tmp/b" --quiet
grep -q "^    dense(4, bias = true)" "$(rundir "$tmp/b")/experiment.nnx" || fail "--set did not override the winner's model.w"

# mistakes: named where they come from, nothing trained
expect 2 "$tmp/out" "$nnx" run "$tmp/x.nnx" plain --from "$t" --out "$tmp/p"
has "$tmp/out" "$t/summary.json:1:1: error: other has no argument 'w'"
[ -e "$tmp/p" ] && fail "a run directory was made for a bad --from"
expect 2 "$tmp/out" "$nnx" run "$tmp/x.nnx" base --from "$tmp/nosuch"
has "$tmp/out" "no such directory"
expect 2 "$tmp/out" "$nnx" run "$tmp/x.nnx" base --from "$d"
has "$tmp/out" "not a search directory"
expect 2 "$tmp/out" "$nnx" run "$tmp/x.nnx" base --from
has "$tmp/out" "--from needs a search directory"
expect 2 "$tmp/out" "$nnx_san" run "$tmp/x.nnx" plain --from "$t" --out "$tmp/p"
# the other commands that check an experiment take --from too
expect 0 "$tmp/out" "$nnx" plan "$tmp/x.nnx" final --from "$t"
has "$tmp/out" "from        $t: the winner $win, optimizer.lr=$lr model.w=$w"
has "$tmp/out" "experiment final: ensemble, 2 trials"
expect 2 "$tmp/out" "$nnx" plan "$tmp/x.nnx" plain --from "$t"
has "$tmp/out" "$t/summary.json:1:1: error: other has no argument 'w'"
expect 2 "$tmp/out" "$nnx" check "$tmp/x.nnx" --from "$t"
has "$tmp/out" "$t/summary.json:1:1: error: other has no argument 'w'"
grep -q "error" "$tmp/out" && ! grep -q "experiment 'base'" "$tmp/out" || fail "check --from: $(cat "$tmp/out")"
expect 2 "$tmp/out" "$nnx" check "$tmp/x.nnx" --from "$tmp/nosuch"
has "$tmp/out" "no such directory"
expect 0 "$tmp/out" "$nnx" lr-find "$tmp/x.nnx" base --from "$t" --steps 60 --out "$tmp/lf"
has "$tmp/out" "from        $t: the winner $win"
has "$tmp/out" "nnx run $tmp/x.nnx base --from $t --set optimizer.lr="
expect 0 "$tmp/out" "$nnx" submit "$tmp/x.nnx" final --from "$t" --dry-run --out "$tmp/s"
has "$tmp/out" "from        $t: the winner $win"
has "$tmp/out" "--set optimizer.lr=$lr --set model.w=$w"
expect 2 "$tmp/out" "$nnx_san" submit "$tmp/x.nnx" plain --from "$t" --dry-run --out "$tmp/s"
has "$tmp/out" "$t/summary.json:1:1: error: other has no argument 'w'"
expect 2 "$tmp/out" "$nnx_san" check "$tmp/x.nnx" --from
has "$tmp/out" "--from needs a search directory"
echo "run_from: ok"
