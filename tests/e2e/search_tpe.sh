#!/bin/sh
# search_tpe.sh — search tpe(...) with prune = halving, median and hyperband: nnx plan
# shows what is proposed and the brackets; -j 1 and -j 2 give the same trials.csv; a
# kill -9 mid-rung and --resume give it again (also a kill before a paused trial said so),
# and so does one process per trial (--trial); every trial the median rule stopped
# (and none it let go on) was worse than the median of the trials before it at that
# epoch, recomputed here from their metrics.csv; mistakes are refused at their place.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/exp.nnx" <<'NNX'
data toy { train = spirals(n = 15000, classes = 3, noise = 0.2, seed = 7)
           valid = split(train, 0.2) }
network net(width = 16) { dense(width) swish dense(width) swish dense(3) }
experiment base {
    data = toy  model = net  optimizer = adam(lr = 1e-2)  epochs = 9  batch = 32  seed = 1
    metrics = [accuracy]  select = max(valid.accuracy)
    search tpe(trials = 12, seed = 3, startup = 5) {
        optimizer.lr in loguniform(1e-4, 1)
        model.width in [4, 16, 32]
    }
}
experiment halving extends base { prune = halving(min_epochs = 1, eta = 3) }
experiment median extends base { prune = median(after = 3) }
experiment hyper extends base { prune = hyperband(min_epochs = 1, eta = 3) }
experiment bad1 extends base { search tpe(trials = 5, lag = 0) { optimizer.lr in loguniform(1e-4, 1) } }
experiment bad2 extends base { prune = median(after = 0) }
experiment bad3 extends base { prune = hyperband(eta = 1) }
experiment bad4 extends base { search tpe(trials = 5, ahead = 1) { optimizer.lr in loguniform(1e-4, 1) } }
experiment bad5 extends base { prune = median  search staged { optimizer.lr in [1e-3, 1e-2] } }
experiment lists extends base {
    epochs = 2
    search tpe(trials = 9, seed = 3, startup = 3) { optimizer.lr in [1e-3, 1e-2, 1e-1]  model.width in [4, 16, 32] }
}
NNX

# the plan: 5 random draws, then 6 trials proposed as the search runs; the brackets
expect 0 "$tmp/plan" "$nnx" plan "$tmp/exp.nnx" hyper
has "$tmp/plan" "experiment hyper: tpe search, 12 trials"
has "$tmp/plan" "6..12  proposed while the search runs (tree-structured Parzen estimator): trial k from trials 1..k-2"
has "$tmp/plan" "bracket 1 (s = 2)  trials 1..9"
has "$tmp/plan" "bracket 2 (s = 1)  trials 10..12"
has "$tmp/plan" "epochs  at most 36, against 108 without pruning"
expect 0 "$tmp/plan2" "$nnx_san" plan "$tmp/exp.nnx" median
has "$tmp/plan2" "pruned by the median rule (after = 3)"

# mistakes: each at its place, exit 2
expect 2 "$tmp/e1" "$nnx" plan "$tmp/exp.nnx" bad1
has "$tmp/e1" "exp.nnx:15:61: error: tpe: lag must be >= 1, got 0"
expect 2 "$tmp/e2" "$nnx" plan "$tmp/exp.nnx" bad2
has "$tmp/e2" "exp.nnx:16:55: error: median: after must be >= 1, got 0"
expect 2 "$tmp/e3" "$nnx" plan "$tmp/exp.nnx" bad3
has "$tmp/e3" "exp.nnx:17:56: error: hyperband: eta must be >= 2, got 1"
expect 2 "$tmp/e4" "$nnx" plan "$tmp/exp.nnx" bad4
has "$tmp/e4" "exp.nnx:18:55: error: tpe has no argument 'ahead'"
expect 2 "$tmp/e5" "$nnx" plan "$tmp/exp.nnx" bad5
has "$tmp/e5" "exp.nnx:19:40: error: prune needs a grid, random or tpe search, not a staged one"

# -j 1 and -j 2: the same trials.csv (the last column, seconds, aside)
same() {    # EXPERIMENT: run it with -j 1 and -j 2, keep the -j 1 table in $tmp/EXPERIMENT.csv
    expect 0 "$tmp/$1.o1" "$nnx" run "$tmp/exp.nnx" "$1" --out "$tmp/$1.j1" -j 1
    expect 0 "$tmp/$1.o2" "$nnx" run "$tmp/exp.nnx" "$1" --out "$tmp/$1.j2" -j 2
    sed 's/,[^,]*$//' "$(rundir "$tmp/$1.j1")/trials.csv" >"$tmp/$1.csv"
    sed 's/,[^,]*$//' "$(rundir "$tmp/$1.j2")/trials.csv" >"$tmp/$1.c2"
    cmp -s "$tmp/$1.csv" "$tmp/$1.c2" || { diff "$tmp/$1.csv" "$tmp/$1.c2" >&2; fail "$1: -j 1 and -j 2 differ"; }
    [ "$(nrows "$tmp/$1.csv")" = 12 ] || fail "$1: expected 12 trials"
}
same halving
same median
same hyper
grep -q ',pruned,' "$tmp/median.csv" || fail "median: the rule stopped no trial"
has "$(rundir "$tmp/hyper.j1")/summary.json" '"rule": "hyperband"'
has "$(rundir "$tmp/hyper.j1")/summary.json" '"lag": 2'
[ "$(json_num "$(rundir "$tmp/hyper.j1")/summary.json" epochs_trained)" -le 36 ] || fail "hyperband: more than 36 epochs"

# a trial Hyperband's first bracket promoted twice (epochs 1, 3, 9) continued from its
# checkpoints: the numbers of one unpruned run of its experiment
h=$(rundir "$tmp/hyper.j1")
win=
for t in "$h"/trials/*/; do
    k=$(sed -n 's/^  "trial_index": \([0-9]*\),$/\1/p' "$t/summary.json")
    [ "$k" -le 9 ] && grep -q '^  "status": "completed",$' "$t/summary.json" && win=$t
done
[ -n "$win" ] || fail "hyperband: no trial of bracket 1 completed"
expect 0 "$tmp/single.o" "$nnx" run "$win/experiment.nnx" --out "$tmp/single" --quiet
cut -d, -f1-5 "$win/metrics.csv" >"$tmp/m1"
cut -d, -f1-5 "$(rundir "$tmp/single")/metrics.csv" >"$tmp/m2"
cmp -s "$tmp/m1" "$tmp/m2" || { diff "$tmp/m1" "$tmp/m2" >&2; fail "hyperband: the promoted trial differs from an unpruned run"; }

# the median rule, recomputed: trial k at epoch e (e >= 3) goes on unless its best
# valid.accuracy so far is below the median of the trials before it that reached e
d=$(rundir "$tmp/median.j1")
for t in "$d"/trials/*/; do
    k=$(sed -n 's/^  "trial_index": \([0-9]*\),$/\1/p' "$t/summary.json")
    awk -F, -v k="$k" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "valid.accuracy") c = i; next }
                       { print k, $1, $c }' "$t/metrics.csv"
done >"$tmp/curves"
awk -v after=3 -v epochs=9 '
    { v = $3 + 0; if (!(($1, $2 - 1) in best) || best[$1, $2 - 1] < v) best[$1, $2] = v; else best[$1, $2] = best[$1, $2 - 1]
      if ($2 > last[$1]) last[$1] = $2; if ($1 > n) n = $1 }
    END {
        for (k = 1; k <= n; k++)
            for (e = after; e <= last[k]; e++) {
                m = 0
                for (j = 1; j < k; j++) if (last[j] >= e) vals[++m] = best[j, e]
                for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (vals[b] < vals[a]) { x = vals[a]; vals[a] = vals[b]; vals[b] = x }
                med = m % 2 ? vals[(m + 1) / 2] : (vals[m / 2] + vals[m / 2 + 1]) / 2
                stop = m > 0 && best[k, e] < med
                if (e < last[k] && stop) { printf "trial %d went on after epoch %d below the median %g\n", k, e, med; bad = 1 }
                if (e == last[k] && last[k] < epochs && !stop) { printf "trial %d stopped at epoch %d, not below the median\n", k, e; bad = 1 }
            }
        exit bad
    }' "$tmp/curves" || fail "the median rule was not followed"

# kill -9 in the middle of the search (a trial past its first rung), then --resume
kill_resume() {     # EXPERIMENT EPOCH: kill once a metrics.csv has row EPOCH; compare with -j 1
    "$nnx" run "$tmp/exp.nnx" "$1" --out "$tmp/$1.k" -j 2 >"$tmp/$1.ok" 2>&1 &
    pid=$!
    i=0
    while ! cat "$tmp/$1.k"/*/trials/*/metrics.csv 2>/dev/null | grep -q "^$2,"; do
        i=$((i + 1))
        [ $i -lt 3000 ] || { kill -9 $pid; fail "$1: epoch $2 did not come in 60 s"; }
        sleep 0.02
    done
    kill -STOP $pid         # no new worker meanwhile; then its workers, then it
    pkill -9 -P $pid
    kill -9 $pid
    wait $pid 2>/dev/null
    k=$(rundir "$tmp/$1.k")
    [ -f "$k/report.html" ] && fail "$1: the kill came too late: the search had ended"
    expect 0 "$tmp/$1.ok2" "$nnx" run "$tmp/exp.nnx" "$1" --out "$tmp/$1.k" --resume
    sed 's/,[^,]*$//' "$k/trials.csv" >"$tmp/$1.c3"
    cmp -s "$tmp/$1.csv" "$tmp/$1.c3" || { diff "$tmp/$1.csv" "$tmp/$1.c3" >&2; fail "$1: kill -9 and --resume differ"; }
}
kill_resume halving 2
kill_resume median 4
# the kill that kill_resume hits only now and then, made on purpose: after a trial
# marked epoch 3 resumable, before its summary said it paused there (still
# "running", 0 epochs). On --resume the median rule stops it at epoch 3 again and
# its row is the uninterrupted one; it used to come back with no status and 0 epochs.
cp -r "$tmp/median.j1" "$tmp/median.w"
name=$(grep -m 1 ',pruned,3,3,' "$tmp/median.csv" | cut -d, -f1)
[ -n "$name" ] || fail "median: no trial the rule stopped at epoch 3"
w=$(rundir "$tmp/median.w")/trials/$name
[ -f "$w/resume.state" ] || fail "median: $name keeps no resume.state"
sed -i -e 's/"status": "pruned"/"status": "running"/' -e 's/"epochs_run": 3,/"epochs_run": 0,/' \
    "$w/summary.json"
expect 0 "$tmp/median.w.o" "$nnx" run "$tmp/exp.nnx" median --out "$tmp/median.w" --resume
sed 's/,[^,]*$//' "$(rundir "$tmp/median.w")/trials.csv" >"$tmp/median.w.csv"
cmp -s "$tmp/median.csv" "$tmp/median.w.csv" ||
    { diff "$tmp/median.csv" "$tmp/median.w.csv" >&2; fail "median: a trial killed before it said it paused"; }
# lists only, 9 points and 9 trials: neither a random startup draw nor a proposal repeats a
# point tried before it (a repeat would be named like the first with _2): all 9 are tried
expect 0 "$tmp/lists.o" "$nnx" run "$tmp/exp.nnx" lists --out "$tmp/lists" -j 2
[ "$(ls "$(rundir "$tmp/lists")/trials" | grep -c '_[0-9]$')" = 0 ] ||
    fail "lists: a point was tried twice: $(ls "$(rundir "$tmp/lists")/trials")"
[ "$(ls "$(rundir "$tmp/lists")/trials" | wc -l)" = 9 ] || fail "lists: expected 9 trials"

# one trial per process (nnx run --trial, as the tasks of nnx submit run them): nnx submit
# --dry-run says which trials the open step holds (a wave of tpe proposals, a rung, an epoch
# of the median rule); running them (at once), again and again, gives the trials.csv of -j 1.
# With KILL, the trial of -j 1's table that the rule stopped at epoch EPOCH is left as a
# kill -9 leaves it once that epoch's row is in its metrics.csv: before it saved its
# resume.state (KILL=state) or after (KILL=summary), its summary still "running" from 0.
# The step must wait for it and its task run again end it: the trial was taken as past
# the step and stopped there by the rule, its row left out of trials.csv for good.
by_trial() {    # EXPERIMENT [KILL EPOCH]
    victim=
    [ -n "${2:-}" ] && victim=$(grep -m 1 ",pruned,$3,$3," "$tmp/$1.csv" | cut -d, -f1)
    [ -z "${2:-}" ] || [ -n "$victim" ] || fail "$1: no trial the rule stopped at epoch $3"
    r=0
    while :; do
        r=$((r + 1))
        [ $r -le 60 ] || fail "$1: --trial: the search did not end in 60 steps"
        expect 0 "$tmp/$1.dry" "$nnx" submit "$tmp/exp.nnx" "$1" --out "$tmp/$1.t" --dry-run
        grep -q "the search has ended" "$tmp/$1.dry" && break
        if [ $r = 2 ] && [ -z "${2:-}" ]; then  # the first wave (5 random draws) has ended, the rest not proposed
            expect 0 "$tmp/$1.st" "$nnx" status "$(rundir "$tmp/$1.t")"
            has "$tmp/$1.st" "12 planned: 5 ended (0 failed or diverged), 0 running, .*, 7 not begun"
        fi
        has "$tmp/$1.dry" "step [0-9]* of [0-9]*, [0-9]* trials* (pruned tpe search)"
        # the step's trials at once, as an array job runs them
        pids=
        for n in $(sed -n 's/^#SBATCH --array=//p' "$tmp/$1.dry" | tr ',' ' '); do
            for m in $(seq "${n%-*}" "${n#*-}"); do
                "$nnx" run "$tmp/exp.nnx" "$1" --trial "$m" --out "$tmp/$1.t" >"$tmp/$1.tr$m" 2>&1 &
                pids="$pids $!"
            done
        done
        for p in $pids; do wait "$p" || { cat "$tmp/$1".tr* >&2; fail "$1: a --trial process failed"; }; done
        v=${victim:+$(rundir "$tmp/$1.t")/trials/$victim}
        if [ -n "$victim" ] && grep -q "^$3," "$v/metrics.csv" 2>/dev/null; then
            [ "$2" = state ] && rm "$v/resume.state"
            sed -i -e 's/"status": "pruned"/"status": "running"/' \
                -e 's/"epochs_run": [0-9]*,/"epochs_run": 0,/' "$v/summary.json"
            expect 0 "$tmp/$1.st" "$nnx" status "$(rundir "$tmp/$1.t")"
            has "$tmp/$1.st" "$victim  *\(killed\|interrupted\)"
            victim=
        fi
    done
    sed 's/,[^,]*$//' "$(rundir "$tmp/$1.t")/trials.csv" >"$tmp/$1.c4"
    cmp -s "$tmp/$1.csv" "$tmp/$1.c4" || { diff "$tmp/$1.csv" "$tmp/$1.c4" >&2; fail "$1: --trial and -j 1 differ"; }
    cmp -s "$(rundir "$tmp/$1.j1")/summary.json" "$(rundir "$tmp/$1.t")/summary.json" ||
        fail "$1: --trial and -j 1 give another summary.json"
}
expect 2 "$tmp/e6" "$nnx" run "$tmp/exp.nnx" halving --trial 12 --out "$tmp/early"
has "$tmp/e6" "trial 12 is not in step 1 of 7, the first whose trials have not all ended"
by_trial halving summary 1
by_trial median state 3
by_trial hyper
echo "search_tpe: ok"
