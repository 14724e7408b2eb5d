#!/bin/sh
# slurm.sh — nnx submit, nnx status and nnx run --trial against a real one-node Slurm
# (slurmctld, slurmd and munged started here, stopped by pid at the end).  A 6-trial grid and
# a 3-stage staged search submitted with --wait give the trials.csv of `nnx run -j 2`, a pruned
# search (one array job per rung), a pruned tpe search (one per wave of proposals, then per
# rung), a hyperband search and the median rule (one array job per epoch from `after`) the
# trials.csv and summary.json of `nnx run -j 1`; scancel
# of one array task mid-trial, then nnx submit again, trains only that trial and continues it
# from its last epoch (nnx status reads sacct when Slurm keeps accounting, else the trial's
# files); no sbatch on PATH, a partition Slurm lacks and a search directory that
# cannot be written are refused with exit 2 and nothing submitted.
. "$(dirname "$0")/lib/run_common.sh"
[ "$(id -u)" = 0 ] || fail "needs root: it starts slurmd, which runs the jobs (make test runs as root)"
. "$(dirname "$0")/lib/slurm_up.sh"
cd "$tmp" || fail "no $tmp"

cat >g.nnx <<'NNX'
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
experiment pruned extends grid {
    epochs = 9
    prune = halving(min_epochs = 1, eta = 3)
    search random(trials = 9, seed = 3) { optimizer.lr in loguniform(1e-4, 1)  model.p in [0, 0.2] }
}
experiment tpeh extends pruned {
    search tpe(trials = 8, seed = 3, startup = 3) { optimizer.lr in loguniform(1e-4, 1)  model.p in [0, 0.2] }
}
experiment hyper extends pruned {
    prune = hyperband(min_epochs = 1, eta = 3)
    search random(trials = 12, seed = 5) { optimizer.lr in loguniform(1e-4, 1)  model.p in [0, 0.2] }
}
experiment med extends pruned {
    epochs = 4
    prune = median(after = 2)
    search random(trials = 6, seed = 4) { optimizer.lr in loguniform(1e-4, 1)  model.p in [0, 0.2] }
}
experiment long extends grid {
    epochs = 1500
    search grid { optimizer.lr in [1e-3, 1e-2] }
}
NNX
strip() { sed 's/,[^,]*$//' "$1"; }    # trials.csv without the seconds column
queue() { squeue -h -o '%i %T'; }

# refused, nothing submitted: no sbatch on PATH, a partition Slurm lacks, a directory in the way
expect 2 o1 env PATH=/nonexistent "$nnx" submit g.nnx grid --out s1
has o1 "sbatch not found on PATH"
[ -e s1 ] && fail "a search directory was made without sbatch"
expect 2 o2 "$nnx" submit g.nnx grid --out s2 --partition nosuch
has o2 "no such partition (sinfo lists: debug)"
[ -e s2 ] && fail "a search directory was made for a bad partition"
: >afile
expect 2 o3 "$nnx" submit g.nnx grid --out afile/x
has o3 "not writable"
[ -z "$(queue)" ] || fail "a job was submitted: $(queue)"
expect 2 o4 "$nnx" submit g.nnx grid --out s4 --cpus-per-trial 0
expect 0 o5 "$nnx" submit g.nnx staged --out s5 --dry-run --max-parallel 2 --time 5
has o5 "#SBATCH --array=1-2%2"
has o5 "#SBATCH --dependency=afterany:JOB"
has o5 "--trial 1.\$SLURM_ARRAY_TASK_ID"
[ -e s5 ] && fail "--dry-run wrote the search directory"

# a grid and a staged search, each as `nnx run -j 2` gives it
for x in grid staged; do
    expect 0 "ref_$x.out" "$nnx" run g.nnx $x --out ref -j 2
    expect 0 "sub_$x.out" "$nnx" submit g.nnx $x --out sl --max-parallel 2 --cpus-per-trial 1 --wait
    has "sub_$x.out" "submitted   job [0-9]*:"
    strip ref/$x-*/trials.csv >a.csv
    strip sl/$x-*/trials.csv >b.csv
    cmp -s a.csv b.csv || { diff a.csv b.csv >&2; cat "sub_$x.out" >&2; fail "$x through Slurm differs from nnx run -j 2"; }
    [ "$(json_str sl/$x-*/summary.json winner)" = "$(json_str ref/$x-*/summary.json winner)" ] ||
        fail "$x: another winner"
done
has sub_grid.out "(--array=1-6%2)"
has sub_staged.out "reads stage 1's winner and submits stage 2"
ls sl/staged-*/slurm/stage3.sbatch >/dev/null || fail "stage 3 was never submitted"
grep -q 'exec .* run g.nnx grid --out sl --trial \$SLURM_ARRAY_TASK_ID' sl/grid-*/slurm/grid.sbatch ||
    fail "grid.sbatch does not run nnx run --trial"
has sl/grid-*/slurm/logs/trials_*_3.out "trial       lr=0.01_p=0 completed"
has sl/grid-*/slurm/logs/trials_*_3.out "trial       3, on 1 thread,"      # $SLURM_CPUS_PER_TASK
expect 0 st1 "$nnx" status sl/grid-*
has st1 "6 ended (0 failed or diverged), 0 running, 0 queued"
has st1 "best        $(json_str ref/grid-*/summary.json winner)"
# submitting an ended search again submits nothing
expect 0 o6 "$nnx" submit g.nnx grid --out sl
has o6 "the search has ended: nothing to submit"

# a pruned search (halving, rungs of 9, 3 and 1 trials to epochs 1, 3 and 9): one array job
# per rung, each submitted by a job after the rung before that decides which trials go on; the
# promoted trials continue from their checkpoints; trials.csv (seconds aside) and summary.json
# are those of nnx run -j 1, byte for byte
expect 0 o9 "$nnx" submit g.nnx pruned --out pd --dry-run
has o9 "rung 1 of 3, 9 trials (pruned random search)"
has o9 "#SBATCH --array=1-9"
has o9 "after rung 1 of the pruned search pruned"
expect 0 ref_p.out "$nnx" run g.nnx pruned --out ref -j 1
expect 0 sub_p.out "$nnx" submit g.nnx pruned --out sl --max-parallel 2 --wait
has sub_p.out "rung 1 of 3, 9 trials (pruned random search) (--array=1-9%2)"
has sub_p.out "decides which trials of rung 1 go on and submits them as rung 2"
strip ref/pruned-*/trials.csv >a.csv
strip sl/pruned-*/trials.csv >b.csv
cmp -s a.csv b.csv || { diff a.csv b.csv >&2; cat sub_p.out >&2; fail "the pruned search through Slurm differs from nnx run -j 1"; }
cmp -s ref/pruned-*/summary.json sl/pruned-*/summary.json ||
    { diff ref/pruned-*/summary.json sl/pruned-*/summary.json >&2; fail "pruned: summary.json differs"; }
p=$(echo sl/pruned-*)
for k in 1 2 3; do [ -s "$p/slurm/rung$k.sbatch" ] || fail "rung $k was not submitted as its own job"; done
has "$p/slurm/rung2.sbatch" "rung 2 of 3, 3 trials"
has "$p/slurm/rung3.sbatch" "rung 3 of 3, 1 trial "
n3=$(sed -n 's/^#SBATCH --array=\([0-9]*\)%2$/\1/p' "$p/slurm/rung3.sbatch")
[ -n "$n3" ] || fail "rung 3's array: $(grep array "$p/slurm/rung3.sbatch")"
grep -q "^#SBATCH --dependency=afterany:[0-9]*$" "$p/slurm/rung1-next.sbatch" || fail "rung 2 does not wait for rung 1"
win=$(json_str "$p/summary.json" winner)
cut -d, -f1-5 ref/pruned-*/trials/"$win"/metrics.csv >m1.csv
cut -d, -f1-5 "$p/trials/$win/metrics.csv" >m2.csv
cmp -s m1.csv m2.csv || { diff m1.csv m2.csv >&2; fail "the winner's epochs differ from nnx run -j 1's"; }
# the rung-3 task continued the winner from its checkpoint to its end
has "$p"/slurm/logs/rung3_*_"$n3".out "trial       $win completed"
has "$p"/slurm/logs/rung3_*_"$n3".out "  continue $win (from its resume.state)"
[ "$(cat "$p"/slurm/logs/rung2_*.out | grep -c '^  continue ')" = 3 ] || fail "rung 2's 3 trials did not continue from their checkpoints"
expect 0 st5 "$nnx" status "$p"
has st5 "9 ended"
has st5 "rungs       9 at epoch 1, 3 at epoch 3, 1 at epoch 9"
has st5 "(next rung)"

# a tpe search pruned by halving (waves of trials proposed together, each wave one array job,
# then the rungs), a hyperband search (its brackets' rungs, one array job each, one after
# the other) and the median rule (an array job per epoch from `after` on, each decided from
# the step before): trials.csv (seconds aside) and summary.json are those of nnx run -j 1
for x in tpeh hyper med; do
    expect 0 "ref_$x.out" "$nnx" run g.nnx $x --out ref -j 1
    expect 0 "sub_$x.out" "$nnx" submit g.nnx $x --out sl --max-parallel 2 --wait
    strip ref/$x-*/trials.csv >a.csv
    strip sl/$x-*/trials.csv >b.csv
    cmp -s a.csv b.csv || { diff a.csv b.csv >&2; cat "sub_$x.out" >&2; fail "$x through Slurm differs from nnx run -j 1"; }
    cmp -s ref/$x-*/summary.json sl/$x-*/summary.json ||
        { diff ref/$x-*/summary.json sl/$x-*/summary.json >&2; fail "$x: summary.json differs"; }
done
has sub_tpeh.out "step 1 of 6, 3 trials (pruned tpe search) (--array=1-3%2)"
has sub_tpeh.out "decides the trials of step 2 and submits them"
has sub_hyper.out "rung 1 of 5, 9 trials (pruned random search) (--array=1-9%2)"
has sl/tpeh-*/slurm/step2.sbatch "step 2 of 6, 2 trials"
has sl/hyper-*/slurm/rung4.sbatch "rung 4 of 5, 3 trials"
has sub_med.out "step 1 of 3, 6 trials (pruned random search)"
grep -q ',pruned,' b.csv || fail "med: the median rule stopped no trial"
ls sl/hyper-*/slurm/rung5.sbatch >/dev/null || fail "hyperband's last rung was never submitted"
expect 0 st6 "$nnx" status sl/tpeh-*
has st6 "8 ended"
has st6 " (next step)"

# scancel of one array task mid-trial: SIGTERM, the trial leaves resume.state; nnx submit
# again submits only that trial and continues it from its last epoch
expect 0 o7 "$nnx" submit g.nnx long --out lo
job=$(sed -n 's/^submitted   job \([0-9]*\):.*/\1/p' o7)
[ -n "$job" ] || fail "no job id in: $(cat o7)"
expect 0 o7b "$nnx" submit g.nnx long --out lo          # again at once: both trials are in the queue
has o7b "waiting     2 trials queued or running in Slurm"
grep -q "^submitted" o7b && fail "trials in the queue were submitted again"
d=$(echo lo/long-*)
i=0
until [ "$(nrows "$d/trials/lr=0.001/metrics.csv" 2>/dev/null || echo 0)" -ge 20 ] 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 1500 ] || { slurm_log; fail "trial 1 made no progress in 30 s"; }
    sleep 0.02
done
scancel "${job}_1"
expect 0 st2 "$nnx" status "$d"     # while it is cancelled
i=0
while [ -n "$(queue)" ]; do
    i=$((i + 1)); [ $i -lt 600 ] || { queue >&2; fail "the jobs did not end in 60 s"; }
    sleep 0.1
done
[ "$(json_str "$d/trials/lr=0.001/summary.json" status)" = interrupted ] ||
    { cat "$d"/slurm/logs/*_1.out >&2; fail "the cancelled trial is not interrupted"; }
[ -s "$d/trials/lr=0.001/resume.state" ] || fail "the cancelled trial left no resume.state"
[ "$(json_str "$d/trials/lr=0.01/summary.json" status)" = completed ] || fail "trial 2 did not complete"
expect 0 st3 "$nnx" status "$d"
has st3 "1 ended (0 failed or diverged), 0 running, 0 queued, 1 interrupted"
has st3 "lr=0.001 *interrupted .*${job}_1"
# status asks sacct for the tasks gone from squeue; this cluster keeps no accounting
# (accounting_storage/none): then a trial's files say what became of it
if sacct -n -X -P -o JobID,State -j "$job" >sacct.out 2>&1 && ! grep -q disabled sacct.out; then
    has st3 "; squeue; sacct$"
else
    has st3 "; squeue; no accounting (sacct): a task gone from squeue shows its trial's files"
fi
# a Slurm that keeps accounting: sacct's own format (JobID 12_1, State "CANCELLED by 0") read
# for each task, here from a sacct that answers for these two jobs as Slurm's does
mkdir acct
cat >acct/sacct <<EOF
#!/bin/sh
case "\$*" in *"-j $job"*) ;; *) echo "sacct: unexpected \$*" >&2; exit 1;; esac
printf '%s\n' '${job}_1|CANCELLED by 0' '${job}_2|COMPLETED'
EOF
chmod +x acct/sacct
expect 0 st3b env PATH="$PWD/acct:$PATH" "$nnx" status "$d"
has st3b "; squeue; sacct$"
has st3b "lr=0.001 *interrupted .*${job}_1 CANCELLED"
has st3b "lr=0.01 *completed .*${job}_2 COMPLETED"
cp "$d/trials/lr=0.001/metrics.csv" before.csv
cp "$d/trials/lr=0.01/summary.json" other.json
expect 0 o8 "$nnx" submit g.nnx long --out lo --wait
has o8 "grid search, 1 of 2 trials (--array=1)"
n=$(wc -l <before.csv)
head -n "$n" "$d/trials/lr=0.001/metrics.csv" | cmp -s - before.csv || fail "the trial started over"
[ "$(nrows "$d/trials/lr=0.001/metrics.csv")" = 1500 ] || fail "the continued trial did not run its 1500 epochs"
cmp -s other.json "$d/trials/lr=0.01/summary.json" || fail "the trial that had ended was trained again"
expect 0 st4 "$nnx" status "$d"
has st4 "2 ended"
[ -z "$(ls "$d/.locks")" ] || fail "lock files were left: $(ls "$d/.locks")"
echo "slurm: ok"
