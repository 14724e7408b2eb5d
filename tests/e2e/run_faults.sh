#!/bin/sh
# run_faults.sh — how `nnx run` ends when things go wrong or stop early: a diverging loss,
# a missing or malformed data file, a checker error, early stopping.
. "$(dirname "$0")/lib/run_common.sh"

# a small CSV task: two features, label = which side of a line
awk 'BEGIN { srand(5); print "a,b,label";
             for (i = 0; i < 400; i++) { a = rand() * 2 - 1; b = rand() * 2 - 1;
                                         print a "," b "," (a + b > 0 ? "yes" : "no") } }' \
    >"$tmp/table.csv"

write_exp() {  # FILE DATAFILE EXTRA-LINES
    cat >"$1" <<NNX
data table {
    train = csv("$2", label = "label")
    valid = split(train, 0.25)
    normalize = standard
}
network net { dense(16) relu dense(2) }
experiment tab {
    data = table
    model = net
    loss = cross_entropy
    optimizer = sgd(lr = 0.1, momentum = 0.9)
    epochs = 6
    batch = 16
    seed = 1
    metrics = [accuracy, auc]
    select = max(valid.auc)
    $3
}
NNX
}

# the CSV task trains
write_exp "$tmp/ok.nnx" "$tmp/table.csv" ""
expect 0 "$tmp/out" "$nnx" run "$tmp/ok.nnx" --out "$tmp/ok"
has "$tmp/out" "status      completed"

# 1. divergence: a huge lr makes the loss NaN/inf; status diverged, exit 1, files intact
expect 1 "$tmp/out" "$nnx" run "$tmp/ok.nnx" --set optimizer.lr=1e6 --out "$tmp/div"
has "$tmp/out" "status      diverged: loss became"
has "$tmp/out" "the learning rate 1e+06 is probably too large"
has "$tmp/out" "\[diverged\]"
d=$(rundir "$tmp/div")
[ "$(json_str "$d/summary.json" status)" = diverged ] || fail "summary status is not diverged"
json_str "$d/summary.json" status_message | grep -q "^loss became \(NaN\|infinite\) at epoch [0-9]*, step [0-9]*" ||
    fail "status_message: $(json_str "$d/summary.json" status_message)"
has "$d/summary.json" '"rule": "diverged"'
tail -1 "$d/metrics.csv" | awk -F, '$3 != "nan" { exit 1 }' || fail "the last train.loss should be nan"
tail -1 "$d/steps.csv" | grep -q ',\(nan\|inf\),$' || fail "the last step should hold the blown-up loss"
expect 0 "$tmp/rep" "$nnx" diagnose "$d"

# 2. a missing data file: exit 2 before training, the file named, no run directory
write_exp "$tmp/missing.nnx" "$tmp/nope.csv" ""
expect 2 "$tmp/out" "$nnx" run "$tmp/missing.nnx" --out "$tmp/miss"
has "$tmp/out" "nope.csv"
[ -e "$tmp/miss" ] && [ -n "$(ls "$tmp/miss")" ] && fail "a run directory was made for missing data"

# 3. a malformed data file: exit 2, the file and the line named
{ cat "$tmp/table.csv"; echo "0.5,abc,yes"; } >"$tmp/bad.csv"
write_exp "$tmp/bad.nnx" "$tmp/bad.csv" ""
expect 2 "$tmp/out" "$nnx" run "$tmp/bad.nnx" --out "$tmp/bad"
has "$tmp/out" "bad.csv"
has "$tmp/out" "402"
[ -e "$tmp/bad" ] && [ -n "$(ls "$tmp/bad")" ] && fail "a run directory was made for bad data"

# 4. a checker error prints a located diagnostic and exits 2
write_exp "$tmp/typo.nnx" "$tmp/table.csv" "select = max(valid.acuracy)"
expect 2 "$tmp/out" "$nnx" run "$tmp/typo.nnx" --out "$tmp/typo"
has "$tmp/out" "typo.nnx:[0-9]*:[0-9]*: error"
has "$tmp/out" "nothing was trained"

# 5. early stopping: nothing counts as progress with min_delta = 1, so patience 2 stops at epoch 3
write_exp "$tmp/es.nnx" "$tmp/table.csv" "early_stop = patience(2, on = valid.loss, min_delta = 1)"
expect 0 "$tmp/out" "$nnx" run "$tmp/es.nnx" --out "$tmp/es"
d=$(rundir "$tmp/es")
has "$tmp/out" "status      stopped: early stopping after epoch 3"
[ "$(json_str "$d/summary.json" status)" = stopped ] || fail "summary status is not stopped"
[ "$(json_num "$d/summary.json" epochs_run)" = 3 ] || fail "epochs_run should be 3"
[ "$(nrows "$d/metrics.csv")" = 3 ] || fail "metrics.csv should have 3 rows"
sel=$(select_epoch "$d/summary.json")
[ "$sel" = "$(argbest "$d/metrics.csv" valid.auc max)" ] || fail "selected epoch $sel is not the argmax of valid.auc"

# early stopping on a real plateau: patience 1 on accuracy that saturates stops before 40 epochs
write_exp "$tmp/es2.nnx" "$tmp/table.csv" "early_stop = patience(1, on = valid.accuracy)"
expect 0 "$tmp/out" "$nnx" run "$tmp/es2.nnx" --set epochs=40 --out "$tmp/es2"
d=$(rundir "$tmp/es2")
[ "$(json_str "$d/summary.json" status)" = stopped ] || fail "patience(1) never stopped in 40 epochs"
n=$(nrows "$d/metrics.csv")
[ "$n" -lt 40 ] || fail "early stop ran all 40 epochs"
echo "run_faults: ok"
