#!/bin/sh
# run_basic.sh — `nnx run` end to end on spirals: the run directory, determinism, re-running
# the resolved experiment.nnx, --set overrides, batch = auto, and the sanitized binary.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/spir.nnx" <<'NNX'
data toy {
    train = spirals(n = 900, classes = 3, noise = 0.2, seed = 7)
    valid = split(train, 0.2)
}
network small(width = 32) {
    dense(width) swish dropout(0.1)
    dense(width) swish
    dense(3)
}
experiment spir {
    data = toy
    model = small()
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    schedule { warmup = 1  decay = cosine(min_lr = 1e-4) }
    epochs = 8
    batch = 32
    seed = 3
    metrics = [accuracy, f1]
    select = max(valid.accuracy)
}
NNX

# 1. a plain run: every file, one row per epoch and per step, a complete summary
expect 0 "$tmp/out" "$nnx" run "$tmp/spir.nnx" --out "$tmp/a"
d=$(rundir "$tmp/a")
has "$tmp/out" "run dir     $d"
has "$tmp/out" "status      completed"
for f in experiment.nnx metrics.csv steps.csv summary.json weights.nnxw; do
    [ -s "$d/$f" ] || fail "$d/$f is missing"
done
ls "$d" | grep -q '\.tmp$' && fail "a temporary file was left in $d"
[ "$(head -1 "$d/metrics.csv")" = "epoch,lr,train.loss,valid.loss,valid.accuracy,valid.f1,seconds" ] ||
    fail "metrics.csv header: $(head -1 "$d/metrics.csv")"
[ "$(nrows "$d/metrics.csv")" = 8 ] || fail "metrics.csv should have 8 rows"
[ "$(head -1 "$d/steps.csv")" = "step,epoch,lr,loss,loss_sd" ] || fail "steps.csv header"
[ "$(nrows "$d/steps.csv")" = $((8 * 23)) ] || fail "steps.csv should have 8 x 23 rows, has $(nrows "$d/steps.csv")"
[ "$(json_str "$d/summary.json" status)" = completed ] || fail "summary status"
[ "$(json_str "$d/summary.json" experiment)" = spir ] || fail "summary experiment"
[ "$(json_num "$d/summary.json" epochs_run)" = 8 ] || fail "summary epochs_run"
has "$d/summary.json" '"source_sha256": "[0-9a-f]\{64\}"'
has "$d/summary.json" '"mode": "max"'
has "$d/summary.json" '"valid.f1": '
has "$d/summary.json" '"chance_loss": 1.09861228866810'
# the selected epoch is the best by valid.accuracy in metrics.csv
sel=$(select_epoch "$d/summary.json")
[ "$sel" = "$(argbest "$d/metrics.csv" valid.accuracy max)" ] ||
    fail "selected epoch $sel is not the argmax of valid.accuracy"
# nnx report and nnx diagnose read what nnx run wrote
expect 0 "$tmp/rep" "$nnx" diagnose "$d"
expect 0 "$tmp/rep" "$nnx" report --text "$d"
has "$tmp/rep" "status completed, 8 epochs"

# 2. the same file and seed again: identical numbers (all but the seconds column)
expect 0 "$tmp/out" "$nnx" run "$tmp/spir.nnx" --out "$tmp/b" --quiet
d2=$(rundir "$tmp/b")
cut -d, -f1-6 "$d/metrics.csv" >"$tmp/m1"
cut -d, -f1-6 "$d2/metrics.csv" >"$tmp/m2"
cmp -s "$tmp/m1" "$tmp/m2" || { diff "$tmp/m1" "$tmp/m2" >&2; fail "same seed, different metrics.csv"; }
cmp -s "$d/steps.csv" "$d2/steps.csv" || fail "same seed, different steps.csv"
cmp -s "$d/weights.nnxw" "$d2/weights.nnxw" || fail "same seed, different weights"

# 3. the resolved experiment.nnx reproduces the same numbers
expect 0 "$tmp/out" "$nnx" run "$d/experiment.nnx" --out "$tmp/c" --quiet
cut -d, -f1-6 "$(rundir "$tmp/c")/metrics.csv" >"$tmp/m3"
cmp -s "$tmp/m1" "$tmp/m3" || { diff "$tmp/m1" "$tmp/m3" >&2; fail "experiment.nnx does not reproduce the run"; }

# 4. another seed gives other numbers (the determinism check can fail)
expect 0 "$tmp/out" "$nnx" run "$tmp/spir.nnx" --set seed=4 --out "$tmp/d" --quiet
cut -d, -f1-6 "$(rundir "$tmp/d")/metrics.csv" >"$tmp/m4"
cmp -s "$tmp/m1" "$tmp/m4" && fail "seed 4 gave the same metrics as seed 3"

# 5. --set: checked like the file, applied, recorded in experiment.nnx and summary.json
expect 0 "$tmp/out" "$nnx" run "$tmp/spir.nnx" --set epochs=3 --set optimizer.lr=0.003 \
    --set 'model.width=16' --out "$tmp/e"
d5=$(rundir "$tmp/e")
has "$tmp/out" "--set     epochs = 3"
[ "$(nrows "$d5/metrics.csv")" = 3 ] || fail "--set epochs=3 ran $(nrows "$d5/metrics.csv") epochs"
has "$d5/experiment.nnx" "epochs = 3"
has "$d5/experiment.nnx" "adam(lr = 0.003"
has "$d5/experiment.nnx" "dense(16"
has "$d5/summary.json" '"params": {}'     # a plain run: the overrides are in experiment.nnx
expect 0 "$tmp/out" "$nnx" run "$d5/experiment.nnx" --out "$tmp/e2" --quiet
cut -d, -f1-6 "$d5/metrics.csv" >"$tmp/m5"
cut -d, -f1-6 "$(rundir "$tmp/e2")/metrics.csv" >"$tmp/m6"
cmp -s "$tmp/m5" "$tmp/m6" || fail "experiment.nnx of a --set run does not reproduce it"
# bad overrides are diagnostics and exit 2, before anything is made
expect 2 "$tmp/out" "$nnx" run "$tmp/spir.nnx" --set optimizer.lr=-1 --out "$tmp/f"
has "$tmp/out" "error"
expect 2 "$tmp/out" "$nnx" run "$tmp/spir.nnx" --set epocs=3 --out "$tmp/f"
has "$tmp/out" "epochs"
expect 2 "$tmp/out" "$nnx" run "$tmp/spir.nnx" --set nonsense --out "$tmp/f"
[ -e "$tmp/f" ] && fail "a bad --set made a run directory"

# 6. batch = auto is about sqrt(train rows) and is printed
expect 0 "$tmp/out" "$nnx" run "$tmp/spir.nnx" --set batch=auto --set epochs=2 --out "$tmp/g"
has "$tmp/out" "batch 27 (auto"            # 720 train rows
has "$(rundir "$tmp/g")/summary.json" '"batch": 27'

# 7. --profile: ms per training step of every layer and every part of the step, the numbers
# of the run unchanged; not on a search
expect 0 "$tmp/out" "$nnx" run "$tmp/spir.nnx" --set epochs=2 --out "$tmp/p" --quiet --profile
has "$tmp/out" "profile     microseconds per training step, the mean of 46 steps"   # 720 rows / 32, twice
has "$tmp/out" "  1 dense 32 "
has "$tmp/out" "  6 dense 3 "
has "$tmp/out" "  step: gather "
awk '/^  [0-9]+ [a-z]/ { n++; f += $4; b += $5; if ($4 < 0 || $5 < 0) bad = 1 }
     END { exit bad || n != 6 || f <= 0 || b <= 0 }' "$tmp/out" ||
    { cat "$tmp/out" >&2; fail "the layers' times are not 6 rows of positive sums"; }
awk '/^  step:/ { seen = 1; t = $0; sub(/.*\(/, "", t); sub(/ in all\).*/, "", t); if (t + 0 <= 0) bad = 1 }
     END { exit bad || !seen }' "$tmp/out" || fail "the step's parts add up to nothing"
cut -d, -f1-6 "$(rundir "$tmp/p")/metrics.csv" >"$tmp/mp"
expect 0 "$tmp/out2" "$nnx" run "$tmp/spir.nnx" --set epochs=2 --out "$tmp/p2" --quiet
cut -d, -f1-6 "$(rundir "$tmp/p2")/metrics.csv" >"$tmp/mp2"
cmp -s "$tmp/mp" "$tmp/mp2" || fail "--profile changed the run's numbers"
cat >"$tmp/grid.nnx" <<'NNX'
import "spir.nnx"
experiment g extends spir { search grid { optimizer.lr in [1e-2, 1e-3] } }
NNX
expect 2 "$tmp/out" "$nnx" run "$tmp/grid.nnx" g --profile --out "$tmp/pg"
has "$tmp/out" "--profile times a single run; experiment 'g' has a search"
[ -e "$tmp/pg" ] && fail "--profile on a search made a directory"

# 8. the sanitized binary on a short run (leaks, overflows)
if [ -x "$nnx_san" ]; then
    expect 0 "$tmp/out" "$nnx_san" run "$tmp/spir.nnx" --set epochs=2 --out "$tmp/h" --verbose
    has "$tmp/out" "status      completed"
fi
echo "run_basic: ok"
