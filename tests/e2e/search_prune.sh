#!/bin/sh
# search_prune.sh — prune = halving(min_epochs, eta): nnx plan shows the rungs; the
# pruned trials keep their epochs, the promoted ones continue from their checkpoint
# to the numbers an unpruned run gives; the search is the same for -j 1 and -j 2 and
# after a kill -9 mid-rung and --resume; mistakes are refused in words.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/exp.nnx" <<'NNX'
data toy { train = spirals(n = 3000, classes = 3, noise = 0.2, seed = 7)
           valid = split(train, 0.2) }
network net(width = 16) { dense(width) swish dense(width) swish dense(3) }
experiment base {
    data = toy  model = net  optimizer = adam(lr = 1e-2)  epochs = 27  batch = 32  seed = 1
    metrics = [accuracy]  select = max(valid.accuracy)
}
experiment rs extends base {
    prune = halving(min_epochs = 1, eta = 3)
    search random(trials = 9, seed = 3) { optimizer.lr in loguniform(1e-4, 1)  model.width in [4, 16, 32] }
}
experiment staged extends base {
    prune = halving
    search staged { optimizer.lr in [1e-3, 1e-2] }
}
experiment alone extends base { prune = halving(eta = 2) }
experiment med extends rs { prune = median(after = 0) }
experiment hyper extends rs { prune = hyperband(min_epochs = 1, eta = 1) }
experiment eta1 extends rs { prune = halving(eta = 1) }
NNX

# the plan: 9 trials to epoch 1, 3 to epoch 3, 1 to epoch 9, it to 27 = 39 epochs of 243
expect 0 "$tmp/plan" "$nnx" plan "$tmp/exp.nnx" rs
has "$tmp/plan" "rung 1      9 trials to epoch 1"
has "$tmp/plan" "rung 2      3 trials to epoch 3"
has "$tmp/plan" "rung 3      1 trial  to epoch 9"
has "$tmp/plan" "rung 4      1 trial  to epoch 27"
has "$tmp/plan" "epochs  at most 39, against 243 without pruning"

# mistakes: each a message at its place, exit 2
expect 2 "$tmp/e1" "$nnx" plan "$tmp/exp.nnx" staged
has "$tmp/e1" "exp.nnx:13:13: error: prune needs a grid, random or tpe search, not a staged one"
expect 2 "$tmp/e2" "$nnx" plan "$tmp/exp.nnx" alone
has "$tmp/e2" "exp.nnx:16:41: error: prune needs a grid, random or tpe search; this experiment has none"
expect 2 "$tmp/e3" "$nnx" plan "$tmp/exp.nnx" med
has "$tmp/e3" "exp.nnx:17:"
expect 2 "$tmp/e4" "$nnx" plan "$tmp/exp.nnx" hyper
has "$tmp/e4" "exp.nnx:18:"
expect 2 "$tmp/e5" "$nnx" plan "$tmp/exp.nnx" eta1
has "$tmp/e5" "eta"
expect 2 "$tmp/e6" "$nnx" run "$tmp/exp.nnx" rs --trial 10 --out "$tmp/t"
has "$tmp/e6" "no trial '10' in rs"

# -j 1 and -j 2: the same trials, statuses, epochs and values (seconds aside)
expect 0 "$tmp/o1" "$nnx" run "$tmp/exp.nnx" rs --out "$tmp/j1" -j 1
expect 0 "$tmp/o2" "$nnx" run "$tmp/exp.nnx" rs --out "$tmp/j2" -j 2
d1=$(rundir "$tmp/j1")
sed 's/,[^,]*$//' "$d1/trials.csv" >"$tmp/c1"
sed 's/,[^,]*$//' "$(rundir "$tmp/j2")/trials.csv" >"$tmp/c2"
cmp -s "$tmp/c1" "$tmp/c2" || { diff "$tmp/c1" "$tmp/c2" >&2; fail "-j 1 and -j 2 give other trials.csv"; }
head -n 1 "$tmp/c1" | grep -q '^trial,optimizer.lr,model.width,status,epoch,epochs_run,valid.accuracy$' ||
    fail "trials.csv header: $(head -n 1 "$tmp/c1")"
[ "$(grep -c ',pruned,' "$tmp/c1")" = 8 ] || { cat "$tmp/c1" >&2; fail "expected 8 pruned trials"; }
[ "$(awk -F, '$4 == "pruned" { print $6 }' "$tmp/c1" | sort | uniq -c | tr -s ' ' | tr '\n' ';')" = " 6 1; 2 3;" ] ||
    { cat "$tmp/c1" >&2; fail "expected 6 trials pruned at epoch 1 and 2 at epoch 3"; }
has "$tmp/o1" "epochs      39 trained, of 243 without pruning"
has "$d1/summary.json" '"epochs_trained": 39'
has "$d1/summary.json" '"epochs_unpruned": 243'
has "$tmp/o1" "pruned at 3"
# the 3 + 1 + 1 promotions continue from their checkpoints, none starts over
[ "$(grep -c '^  continue .* (from its resume.state)$' "$tmp/o1")" = 5 ] || { cat "$tmp/o1" >&2; fail "not 5 promotions continued"; }
# each trial says its place in proposal order, 1..9
[ "$(cat "$d1"/trials/*/summary.json | sed -n 's/^  "trial_index": \([0-9]*\),$/\1/p' | sort -n | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 " ] ||
    fail "trial_index is not 1..9 over the trials"
# the winner went through every rung, continued from its checkpoints: the numbers
# of one unpruned run of its experiment
win=$(sed -n '2s/,.*//p' "$d1/trials.csv")
[ "$(sed -n '2p' "$tmp/c1" | cut -d, -f4,6)" = "completed,27" ] || fail "the winner did not train 27 epochs"
expect 0 "$tmp/o3" "$nnx" run "$d1/trials/$win/experiment.nnx" --out "$tmp/single" --quiet
cut -d, -f1-5 "$d1/trials/$win/metrics.csv" >"$tmp/m1"
cut -d, -f1-5 "$(rundir "$tmp/single")/metrics.csv" >"$tmp/m2"
cmp -s "$tmp/m1" "$tmp/m2" || { diff "$tmp/m1" "$tmp/m2" >&2; fail "the promoted trial differs from an unpruned run"; }
# a pruned trial keeps its epoch and its checkpoint
p=$(awk -F, '$4 == "pruned" && $6 == 1 { print $1; exit }' "$tmp/c1")
[ "$(nrows "$d1/trials/$p/metrics.csv")" = 1 ] || fail "pruned trial $p lost its epoch"
[ -f "$d1/trials/$p/resume.state" ] || fail "pruned trial $p has no resume.state"

# kill -9 in the middle of rung 2 (a trial at its second epoch), then --resume
"$nnx" run "$tmp/exp.nnx" rs --out "$tmp/k" -j 2 >"$tmp/ok" 2>&1 &
pid=$!
i=0
while :; do
    n=$(cat "$tmp"/k/*/trials/*/metrics.csv 2>/dev/null | grep -c '^2,')
    [ "$n" -ge 1 ] && break
    i=$((i + 1))
    [ $i -lt 3000 ] || { kill -9 $pid; fail "rung 2 did not start in 60 s"; }
    sleep 0.02
done
kill -STOP $pid         # no new worker meanwhile; then its workers, then it
pkill -9 -P $pid
kill -9 $pid
wait $pid 2>/dev/null
k=$(rundir "$tmp/k")
grep -q ',completed,' "$k/trials.csv" && fail "the kill came too late: a trial completed"
ended=$(grep -c ',pruned,' "$k/trials.csv")  # rows written when it died
expect 0 "$tmp/ok2" "$nnx" run "$tmp/exp.nnx" rs --out "$tmp/k" --resume
sed 's/,[^,]*$//' "$k/trials.csv" >"$tmp/c3"
cmp -s "$tmp/c1" "$tmp/c3" || { diff "$tmp/c1" "$tmp/c3" >&2; fail "kill -9 and --resume give another trials.csv"; }
has "$tmp/ok2" "finished before"
echo "search_prune: ok (killed in rung 2 or later, $ended pruned rows written then)"
