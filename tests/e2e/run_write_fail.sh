#!/bin/sh
# run_write_fail.sh — a write that fails is a failure of the run, never silence: a full
# file system (a real tmpfs of 300 KB), a file-size limit (ulimit -f), and each file of the
# run directory failing in turn through an LD_PRELOAD shim (tests/tools/failwrite.c).  The
# weights and the run's record end the run as failed (exit 1) and keep what was written
# before; the report, TensorBoard and MLflow are warnings; a search shows such a trial as a
# failed row that a resume runs again.
. "$(dirname "$0")/lib/run_common.sh"

mnt="$tmp/mnt"
mkdir -p "$mnt"
trap 'umount "$mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
export MLFLOW_TRACKING_URI="$tmp/mlruns"

cc -shared -fPIC -o "$tmp/failwrite.so" "$root/tests/tools/failwrite.c" -ldl ||
    fail "cannot build the failing-write shim"
# nnx with the Nth write to files named PATTERN failing: failing PATTERN:N CMD-ARGS...
failing() {
    spec=$1; shift
    NNX_FAILWRITE="$spec" LD_PRELOAD="$tmp/failwrite.so" "$nnx" "$@"
}
no_tmp() {  # DIR: no temporary file left behind
    left=$(find "$1" -name '*.tmp*')
    [ -z "$left" ] || fail "temporary files left behind: $left"
}

q="$root/examples/quickstart.nnx"
big="model=small(width=512)"        # weights of about 1 MB

# 1. a real full file system: the weights do not fit
mount -t tmpfs -o size=300k tmpfs "$mnt" || fail "cannot mount a tmpfs (the suite runs as root)"
expect 1 "$tmp/out" "$nnx" run "$q" --set "$big" --set epochs=3 --out "$mnt" -q
has "$tmp/out" "status      failed: .*weights.nnxw: cannot write: No space left on device"
d=$(rundir "$mnt")
[ "$(json_str "$d/summary.json" status)" = failed ] || fail "summary.json does not say failed"
has "$d/summary.json" '"retry": true'
has "$d/summary.json" 'weights.nnxw: cannot write: No space left on device'
[ ! -e "$d/weights.nnxw" ] || fail "weights.nnxw exists"
[ "$(nrows "$d/metrics.csv")" = 3 ] || fail "metrics.csv lost rows"
no_tmp "$mnt"
umount "$mnt"

# ... and one so small that the run's record cannot be written: still a failure
mount -t tmpfs -o size=4k tmpfs "$mnt" || fail "cannot mount a tmpfs"
expect 1 "$tmp/out" "$nnx" run "$q" --set epochs=3 --out "$mnt" -q
has "$tmp/out" "No space left on device"
no_tmp "$mnt"
umount "$mnt"

# 2. a file-size limit: an ordinary write error, not a SIGXFSZ death with a .tmp left
( ulimit -f 200; "$nnx" run "$q" --set "$big" --set epochs=3 --out "$tmp/ul" -q ) >"$tmp/out" 2>&1
[ $? = 1 ] || { cat "$tmp/out" >&2; fail "under ulimit -f the run did not exit 1"; }
has "$tmp/out" "weights.nnxw: cannot write: File too large"
d=$(rundir "$tmp/ul")
[ "$(json_str "$d/summary.json" status)" = failed ] || fail "ulimit: summary.json does not say failed"
no_tmp "$tmp/ul"

# 3. each required file failing: status failed, exit 1, what was written before intact
expect 1 "$tmp/out" failing 'weights.nnxw*' run "$q" --set epochs=3 --out "$tmp/w" -q
has "$tmp/out" "status      failed: .*weights.nnxw: cannot write: No space left on device"
d=$(rundir "$tmp/w")
[ ! -e "$d/weights.nnxw" ] && [ -e "$d/resume.state" ] || fail "weights: expected no weights and a resume.state"
no_tmp "$tmp/w"
# the failure is the machine's: --resume finishes the run and writes the weights
expect 0 "$tmp/out" "$nnx" run "$q" --set epochs=3 --out "$tmp/w" --resume -q
has "$tmp/out" "status      completed"
[ -s "$d/weights.nnxw" ] && [ ! -e "$d/resume.state" ] || fail "the resumed run did not write the weights"

# metrics.csv: the header and epoch 1 are written, the row of epoch 2 is not
expect 1 "$tmp/out" failing 'metrics.csv:3' run "$q" --set epochs=3 --out "$tmp/m" -q
has "$tmp/out" "status      failed: .*metrics.csv: cannot write: No space left on device"
d=$(rundir "$tmp/m")
[ "$(nrows "$d/metrics.csv")" = 1 ] || fail "metrics.csv: expected epoch 1 only, got $(nrows "$d/metrics.csv") rows"
tail -c 1 "$d/metrics.csv" | od -c | grep -q '\\n' || fail "metrics.csv ends with a partial row"
[ "$(json_str "$d/summary.json" status)" = failed ] || fail "metrics.csv: summary.json does not say failed"

expect 1 "$tmp/out" failing 'steps.csv:2' run "$q" --set epochs=3 --out "$tmp/s" -q
has "$tmp/out" "status      failed: .*steps.csv: cannot write"
expect 1 "$tmp/out" failing 'experiment.nnx*' run "$q" --set epochs=3 --out "$tmp/e" -q
has "$tmp/out" "experiment.nnx: cannot write: No space left on device"
has "$tmp/out" "nothing was trained"

# the model's other files: model.json (before training), the per-row outputs (after)
expect 1 "$tmp/out" failing 'model.json*' run "$q" --set epochs=3 --out "$tmp/mj" -q
has "$tmp/out" "model.json: cannot write: No space left on device"
for f in probs_valid.f32 rows_valid.csv; do
    expect 1 "$tmp/out" failing "$f*" run "$q" --set epochs=3 --out "$tmp/$f" -q
    has "$tmp/out" "status      failed: .*$f: cannot write: No space left on device"
    no_tmp "$tmp/$f"
done

# summary.json: the first ("running") is written, the final one is not; the old one stays
expect 1 "$tmp/out" failing 'summary.json*:2' run "$q" --set epochs=3 --out "$tmp/j" -q
has "$tmp/out" "status      failed: .*summary.json: cannot write"
d=$(rundir "$tmp/j")
[ "$(json_str "$d/summary.json" status)" = running ] || fail "summary.json: the earlier summary was not kept"
no_tmp "$tmp/j"

# resume.state of a failed run: the first failure is the message, and no state is left
expect 1 "$tmp/out" failing 'weights.nnxw*,resume.state*' run "$q" --set epochs=3 --out "$tmp/r" -q
d=$(rundir "$tmp/r")
[ ! -e "$d/resume.state" ] || fail "resume.state written"
no_tmp "$tmp/r"

# 4. optional outputs: warnings in the summary and in summary.json, exit 0
sed 's/^    select  = max(valid.accuracy)$/&\n    log     = [tensorboard, mlflow]/' "$q" >"$tmp/logged.nnx"
grep -q 'log     = ' "$tmp/logged.nnx" || fail "could not add log = [...]"
for spec in 'report.html*' 'events.out.tfevents*:3' 'train.loss' '.nnx.tmp.*:6+'; do
    rm -rf "$tmp/o"
    expect 0 "$tmp/out" failing "$spec" run "$tmp/logged.nnx" --set epochs=3 --out "$tmp/o" -q
    has "$tmp/out" "status      completed"
    has "$tmp/out" "^warnings    .*No space left on device"
    d=$(rundir "$tmp/o")
    [ "$(json_str "$d/summary.json" status)" = completed ] || fail "$spec: summary.json"
    sed -n '/"warnings": \[/,/\]/p' "$d/summary.json" | grep -q 'No space left on device' ||
        fail "$spec: no warning in summary.json"
    has "$tmp/out" "$(case $spec in report*) echo 'report: ';; events*) echo 'tensorboard: ';; *) echo 'mlflow: ';; esac)"
done

# 5. a search: a trial whose weights (or whose every summary) cannot be written is a
# failed row, the search exits 1, and running it again retries that trial only
cat >"$tmp/g.nnx" <<'NNX'
data toy {
    train = spirals(n = 600, classes = 3, noise = 0.25, seed = 7)
    valid = split(train, 0.25)
}
network mlp(width = 16) { dense(width) relu dense(3) }
experiment grid {
    data = toy
    model = mlp()
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs = 3
    batch = 32
    seed = 1
    metrics = [accuracy]
    select = max(valid.accuracy)
    search grid { optimizer.lr in [1e-3, 1e-2] }
}
NNX
for spec in '*lr=0.01/weights.nnxw*' '*lr=0.01/summary.json*:2+'; do
    rm -rf "$tmp/g"
    expect 1 "$tmp/out" failing "$spec" run "$tmp/g.nnx" --out "$tmp/g"
    has "$tmp/out" "1 trial could not write its files"
    d=$(rundir "$tmp/g")
    grep -q '^lr=0.01,0.01,failed,' "$d/trials.csv" || { cat "$d/trials.csv" >&2; fail "$spec: no failed row"; }
    grep -q '^lr=0.001,0.001,completed,' "$d/trials.csv" || fail "$spec: the other trial"
    expect 0 "$tmp/out" "$nnx" run "$tmp/g.nnx" --out "$tmp/g" --resume
    has "$tmp/out" "1 run now, 1 finished before"
    grep -q '^lr=0.01,0.01,completed,' "$d/trials.csv" || { cat "$d/trials.csv" >&2; fail "$spec: not retried"; }
    [ -s "$d/trials/lr=0.01/weights.nnxw" ] || fail "$spec: the retried trial has no weights"
done
# the search's own record: exit 1, not "bad input"
rm -rf "$tmp/g"
expect 1 "$tmp/out" failing 'trials.csv*:2' run "$tmp/g.nnx" --out "$tmp/g"
has "$tmp/out" "trials.csv: cannot write: No space left on device"
exit 0
