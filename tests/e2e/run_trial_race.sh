#!/bin/sh
# run_trial_race.sh — many `nnx run --trial` processes ending together (as Slurm's array tasks
# do) leave a whole leaderboard: trials.csv and summary.json list every trial that ended, each
# written under the search's board lock from every trial's summary.json read afresh.  Eight
# trials started at once, three rounds; each round's files equal those of `nnx run -j 2`.
# A pruned search by --trial processes, rung by rung, under ASan: the files of -j 1; then its
# two rounds 300 times with the release binary (NNX_RACE_ROUNDS), rung 2 continuing its 2
# trials each time; one interrupted by SIGTERM in rung 2 and continued, likewise.  nnx runs
# gives a search's time as its trials' seconds summed.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/g.nnx" <<'NNX'
data toy { train = spirals(n = 600, classes = 3, noise = 0.25, seed = 7)
           valid = split(train, 0.25) }
network net(width = 8) { dense(width) swish dense(3) }
experiment grid {
    data = toy  model = net  optimizer = adam(lr = 1e-2)  epochs = 3  batch = 32  seed = 1
    metrics = [accuracy]  select = max(valid.accuracy)
    search grid { optimizer.lr in [1e-3, 3e-3, 1e-2, 3e-2]  model.width in [8, 16] }
}
NNX
strip() { sed 's/,[^,]*$//' "$1"; }     # trials.csv without the seconds column
expect 0 "$tmp/ref.out" "$nnx" run "$tmp/g.nnx" --out "$tmp/ref" -j 2 --quiet
ref=$(rundir "$tmp/ref")
strip "$ref/trials.csv" >"$tmp/a.csv"
for round in 1 2 3; do
    out="$tmp/r$round"
    pids=""
    for t in 1 2 3 4 5 6 7 8; do
        "$nnx" run "$tmp/g.nnx" --out "$out" --trial $t -j 1 >"$tmp/o$round.$t" 2>&1 &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p" || fail "round $round: a trial process failed: $(cat "$tmp"/o$round.*)"; done
    d=$(rundir "$out")
    strip "$d/trials.csv" >"$tmp/b.csv"
    cmp -s "$tmp/a.csv" "$tmp/b.csv" ||
        { diff "$tmp/a.csv" "$tmp/b.csv" >&2; fail "round $round: trials.csv lacks trials that ended"; }
    cmp -s "$ref/summary.json" "$d/summary.json" ||
        { diff "$ref/summary.json" "$d/summary.json" >&2; fail "round $round: summary.json differs"; }
done
# a pruned search the same way, under ASan (leaks too): each round's processes all at once;
# round 1 trains rung 1 (4 trials to epoch 1), round 2 rung 2 (the best 2 continue to epoch
# 2; the others say they had ended): the files of `nnx run -j 1` (the same binary)
cat >>"$tmp/g.nnx" <<'NNX'
experiment pr extends grid {
    epochs = 2
    prune = halving(min_epochs = 1, eta = 2)
    search grid { optimizer.lr in [1e-3, 1e-2, 3e-2, 1e-1] }
}
NNX
expect 0 "$tmp/pref.out" "$nnx_san" run "$tmp/g.nnx" pr --out "$tmp/pref" -j 1 --quiet
pref=$(rundir "$tmp/pref")
# pruned_rounds BIN NAME WHAT: the pruned search's two rounds by BIN into $tmp/NAME, each
# round's 4 trial processes at once (outputs $tmp/NAME<round>.<trial>); rung 2 must
# continue its 2 trials
pruned_rounds() {
    for round in 1 2; do
        pids=""
        for t in 1 2 3 4; do
            "$1" run "$tmp/g.nnx" pr --out "$tmp/$2" --trial $t -j 1 >"$tmp/$2$round.$t" 2>&1 &
            pids="$pids $!"
        done
        for p in $pids; do
            wait "$p" || fail "$3, round $round: a trial process failed: $(cat "$tmp/$2$round".*)"
        done
    done
    [ "$(cat "$tmp/$2"2.* | grep -c '^  continue ')" = 2 ] ||
        fail "$3: rung 2 did not continue its 2 trials: $(cat "$tmp/$2"2.*)"
}
pruned_rounds "$nnx_san" p "pruned search"
d=$(rundir "$tmp/p")
strip "$pref/trials.csv" >"$tmp/a.csv"
strip "$d/trials.csv" >"$tmp/b.csv"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || { diff "$tmp/a.csv" "$tmp/b.csv" >&2; fail "the pruned search by --trial differs from -j 1"; }
cmp -s "$pref/summary.json" "$d/summary.json" ||
    { diff "$pref/summary.json" "$d/summary.json" >&2; fail "the pruned search's summary.json differs from -j 1's"; }
# the same two rounds many times over (the release binary, a few ms a round): a process of
# rung 2 that reads a trial's summary.json while the process continuing that trial rewrites
# it must still see rung 1 as ended (one reading of the row decides; reading it twice left
# rung 1 looking open, and a kept trial not continued, in about 1 of 300 rounds)
for k in $(seq 1 "${NNX_RACE_ROUNDS:-300}"); do
    rm -rf "$tmp/q"
    pruned_rounds "$nnx" q "stress run $k"
done

# SIGTERM to a trial continuing in rung 2 (as scancel does): interrupted; nnx submit would
# resubmit only it; again, it continues from its last epoch, and the search is -j 1's
cat >>"$tmp/g.nnx" <<'NNX'
experiment pl extends pr {
    epochs = 100
    prune = halving(min_epochs = 1, eta = 100)
    hooks = "pace.lua"
}
NNX
# an epoch takes a millisecond or so: the hook paces them (about 30 ms each) so that the
# signal lands while the trial still trains, even on an idle machine; it changes no number
cat >"$tmp/pace.lua" <<'LUA'
function on_epoch_end(run)
  local x = 0 for i = 1, 2e6 do x = x + i end
end
LUA
for t in 1 2 3 4; do expect 0 "$tmp/l1.$t" "$nnx" run "$tmp/g.nnx" pl --out "$tmp/l" --trial $t -j 1; done
l=$(rundir "$tmp/l")
expect 0 "$tmp/l.dry" "$nnx" submit "$tmp/g.nnx" pl --out "$tmp/l" --dry-run
n=$(sed -n 's/^#SBATCH --array=\([0-9]*\)$/\1/p' "$tmp/l.dry")
has "$tmp/l.dry" "rung 2 of 2, 1 trial (pruned grid search)"
[ -n "$n" ] || fail "rung 2 is not one trial: $(grep array "$tmp/l.dry")"
"$nnx" run "$tmp/g.nnx" pl --out "$tmp/l" --trial "$n" -j 1 >"$tmp/l2" 2>&1 &
pid=$!
i=0
until [ "$(cat "$l"/trials/*/metrics.csv 2>/dev/null | grep -c '^5,')" -ge 1 ]; do
    i=$((i + 1)); [ $i -lt 1500 ] || { kill -9 $pid; fail "rung 2 made no progress in 30 s"; }
    sleep 0.02
done
kill -TERM $pid
wait $pid
[ $? = 143 ] || { cat "$tmp/l2" >&2; fail "SIGTERM: not exit 143"; }
expect 0 "$tmp/l.dry2" "$nnx" submit "$tmp/g.nnx" pl --out "$tmp/l" --dry-run
has "$tmp/l.dry2" "#SBATCH --array=$n\$"
expect 0 "$tmp/l3" "$nnx" run "$tmp/g.nnx" pl --out "$tmp/l" --trial "$n" -j 1
has "$tmp/l3" "continue "
expect 0 "$tmp/lref.out" "$nnx" run "$tmp/g.nnx" pl --out "$tmp/lref" -j 1
strip "$(rundir "$tmp/lref")/trials.csv" >"$tmp/a.csv"
strip "$l/trials.csv" >"$tmp/b.csv"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || { diff "$tmp/a.csv" "$tmp/b.csv" >&2; fail "interrupted in rung 2, then continued: not -j 1's trials.csv"; }
cmp -s "$(rundir "$tmp/lref")/summary.json" "$l/summary.json" || fail "interrupted in rung 2, then continued: not -j 1's summary.json"

# nnx runs: a search's time is its trials' seconds summed (trials.csv), not the winner's alone
expect 0 "$tmp/runs.csv" "$nnx" runs "$tmp/ref" --csv
sum=$(awk -F, 'NR > 1 { s += $NF } END { printf "%.2f", s }' "$ref/trials.csv")
got=$(awk -F, 'NR == 2 { printf "%.2f", $9 }' "$tmp/runs.csv")
[ "$got" = "$sum" ] || { cat "$tmp/runs.csv" >&2; fail "nnx runs: the search's seconds $got, its trials' sum $sum"; }
echo "run_trial_race: ok"
