#!/bin/sh
# run_trial.sh — `nnx run FILE NAME --trial T`: one trial of a search trained by one process,
# as many processes on many machines would share a search directory.  Trials run one by one
# this way give the leaderboard `nnx run -j 2` gives (a grid and a staged search); a trial held
# by a live process is skipped, a stale lock of this host is taken over, one of another host
# is reported, an empty one is taken over once it is a minute old; SIGTERM then the same command continues the trial; bad selections exit 2.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/g.nnx" <<'NNX'
data toy {
    train = spirals(n = 1200, classes = 3, noise = 0.25, seed = 7)
    valid = split(train, 0.25)
}
network net(p = 0) { dense(32) swish dropout(p) dense(3) }
experiment grid {
    data = toy
    model = net()
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs = 6
    batch = 32
    seed = 1
    metrics = [accuracy]
    select = max(valid.accuracy)
    search grid {
        optimizer.lr in [1e-3, 1e-2, 5e-2]
        model.p      in [0, 0.2]
    }
}
experiment staged extends grid {
    search staged {
        optimizer.lr in [1e-3, 1e-2]
        model.p      in [0, 0.2]
        batch        in [16, 32]
    }
}
experiment long extends grid {
    epochs = 100000
    search grid { optimizer.lr in [1e-3, 1e-2] }
}
experiment single { data = toy  model = net()  epochs = 2 }
NNX
strip() { sed 's/,[^,]*$//' "$1"; }    # trials.csv without the seconds column

# the grid, trial by trial (numbers and names as nnx plan prints them), in another order
expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/ref" -j 2
for t in 6 2 lr=0.01_p=0 1 5 4; do
    expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/one" --trial $t
done
has "$tmp/o" "trial       lr=0.01_p=0.2 completed"
strip "$(rundir "$tmp/ref")/trials.csv" >"$tmp/a"
strip "$(rundir "$tmp/one")/trials.csv" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || { diff "$tmp/a" "$tmp/b" >&2; fail "--trial one by one gives another leaderboard"; }
d=$(rundir "$tmp/one")
[ "$(json_str "$d/summary.json" winner)" = "$(json_str "$(rundir "$tmp/ref")/summary.json" winner)" ] ||
    fail "another winner"
[ -s "$d/report.html" ] || fail "no report.html"
[ -z "$(ls "$d/.locks")" ] || fail "a lock file was left: $(ls "$d/.locks")"
# a trial that ended is not trained again
expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/one" --trial 3
has "$tmp/o" "had ended (completed): nothing to train"

# a staged search: STAGE.NUMBER; a later stage waits for the one before
strip "$(expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" staged --out "$tmp/sref" -j 2; rundir "$tmp/sref")/trials.csv" >"$tmp/a"
expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" staged --out "$tmp/st" --trial 1.1
expect 2 "$tmp/o" "$nnx" run "$tmp/g.nnx" staged --out "$tmp/st" --trial 2.1
has "$tmp/o" "stage 1 has trials that have not ended"
for t in 1.2 2.1 2.2 3.1 3.2; do
    expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" staged --out "$tmp/st" --trial $t
done
strip "$(rundir "$tmp/st")/trials.csv" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || { diff "$tmp/a" "$tmp/b" >&2; fail "the staged search trial by trial differs"; }

# an ensemble's members, by number: the same summary as the whole ensemble
cat >"$tmp/e.nnx" <<'NNX'
data toy { train = spirals(n = 600, classes = 3)  valid = split(train, 0.2) }
network net { dense(16) relu dense(3) }
experiment ens { data = toy  model = net  epochs = 3  batch = 16  ensemble { seeds = [5, 1, 3] } }
NNX
expect 0 "$tmp/o" "$nnx" run "$tmp/e.nnx" --out "$tmp/eref"
for t in 3 1 2; do expect 0 "$tmp/o" "$nnx" run "$tmp/e.nnx" --out "$tmp/ens" --trial $t; done
grep -v seconds "$(rundir "$tmp/eref")/summary.json" >"$tmp/a"
grep -v seconds "$(rundir "$tmp/ens")/summary.json" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || { diff "$tmp/a" "$tmp/b" >&2; fail "the ensemble member by member differs"; }

# locks: a live holder on this host, a dead one (stale), another host
expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/lk" --trial 1
d=$(rundir "$tmp/lk")
sleep 30 & holder=$!
echo "$(hostname) $holder" >"$d/.locks/lr=0.001_p=0.2"
expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/lk" --trial 2
kill $holder
has "$tmp/o" "is held by process $(hostname) $holder"
[ -e "$d/trials/lr=0.001_p=0.2/summary.json" ] && fail "a held trial was trained"
[ -e "$d/.locks/lr=0.001_p=0.2" ] || fail "the holder's lock was removed"
wait $holder 2>/dev/null
expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/lk" --trial 2     # its holder is dead now
has "$tmp/o" "trial       lr=0.001_p=0.2 completed"
[ -e "$d/.locks/lr=0.001_p=0.2" ] && fail "the taken-over lock was left"
echo "no-such-host.example 12345" >"$d/.locks/lr=0.01_p=0"
expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/lk" --trial 3
has "$tmp/o" "is held by process no-such-host.example 12345"
# an empty lock file (a process killed between making and writing it, which link() now
# rules out, or an older nnx): held while it may still be being written, taken over after
# a minute; it used to hold the trial back for good.  Taking a lock leaves nothing beside it.
: >"$d/.locks/lr=0.01_p=0.2"
expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/lk" --trial 4
has "$tmp/o" "lr=0.01_p=0.2 is being locked by another process (its lock file .* is still empty"
expect 0 "$tmp/o" "$nnx" status "$d"
has "$tmp/o" "lr=0.01_p=0.2 *running .*(held by a process still writing its lock file)"
touch -d '2 minutes ago' "$d/.locks/lr=0.01_p=0.2"
expect 0 "$tmp/o" "$nnx" status "$d"
has "$tmp/o" "lr=0.01_p=0.2 *not started"
expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/lk" --trial 4
has "$tmp/o" "trial       lr=0.01_p=0.2 completed"
[ "$(ls -A "$d/.locks")" = "lr=0.01_p=0" ] || fail "left in .locks: $(ls -A "$d/.locks")"

# SIGTERM while the trial trains, then the same command continues it from its last epoch
"$nnx" run "$tmp/g.nnx" long --out "$tmp/lo" --trial 2 >"$tmp/o1" 2>&1 &
pid=$!
i=0
until [ "$(nrows "$(ls "$tmp"/lo/*/trials/*/metrics.csv 2>/dev/null | head -n 1)" 2>/dev/null)" -ge 3 ] 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 1500 ] || { kill -9 $pid; fail "the trial made no progress in 30 s"; }
    sleep 0.02
done
kill -TERM $pid
wait $pid
rc=$?
[ $rc = 143 ] || { cat "$tmp/o1" >&2; fail "--trial exited $rc after SIGTERM, expected 143"; }
has "$tmp/o1" "interrupted: the same command continues it"
t=$(rundir "$tmp/lo")/trials/lr=0.01
[ -s "$t/resume.state" ] || fail "no resume.state"
cp "$t/metrics.csv" "$tmp/before"
"$nnx" run "$tmp/g.nnx" long --out "$tmp/lo" --trial 2 >"$tmp/o2" 2>&1 &
pid=$!
n=$(wc -l <"$tmp/before")
i=0
until [ "$(wc -l <"$t/metrics.csv")" -ge $((n + 2)) ]; do
    i=$((i + 1)); [ $i -lt 1500 ] || { kill -9 $pid; fail "the continued trial made no progress in 30 s"; }
    sleep 0.02
done
kill -TERM $pid
wait $pid
head -n "$n" "$t/metrics.csv" | cmp -s - "$tmp/before" || fail "the trial started over instead of continuing"

# bad selections
expect 2 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/bad" --trial 7
has "$tmp/o" "no trial '7' in grid"
expect 2 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/bad" --trial lr=9
expect 2 "$tmp/o" "$nnx" run "$tmp/g.nnx" staged --out "$tmp/bad" --trial 2
has "$tmp/o" "numbers its trials STAGE.NUMBER"
expect 2 "$tmp/o" "$nnx" run "$tmp/g.nnx" single --out "$tmp/bad" --trial 1
has "$tmp/o" "has no search and no ensemble"
expect 2 "$tmp/o" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/bad" --trial
# nnx status without Slurm: what the trial files say
expect 0 "$tmp/o" "$nnx" status "$(rundir "$tmp/lk")"
has "$tmp/o" "3 ended (0 failed or diverged), 1 running, 0 queued, 0 interrupted, 0 not started or killed"
has "$tmp/o" "lr=0.01_p=0 *running .*(held by no-such-host.example 12345)"
has "$tmp/o" "no job submitted with nnx submit"
expect 0 "$tmp/o" "$nnx" status "$(rundir "$tmp/lo")"
has "$tmp/o" "lr=0.01 *interrupted"
expect 0 "$tmp/o" "$nnx" status "$(rundir "$tmp/ens")"
has "$tmp/o" "3 planned: 3 ended"
expect 2 "$tmp/o" "$nnx" status "$tmp/nowhere"
has "$tmp/o" "not a search or ensemble directory"
expect 0 "$tmp/o" "$nnx" run "$tmp/g.nnx" single --out "$tmp/single"
expect 2 "$tmp/o" "$nnx" status "$(rundir "$tmp/single")"
has "$tmp/o" "is a single run"
echo "run_trial: ok"
