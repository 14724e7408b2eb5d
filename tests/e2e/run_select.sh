#!/bin/sh
# run_select.sh — the kept epoch follows `select`, not the loss, and the test split is
# evaluated on exactly those weights.  The test file here is the valid file, so
# test.accuracy must equal valid.accuracy of the selected epoch.
. "$(dirname "$0")/lib/run_common.sh"

# three overlapping classes in two features: accuracy and loss disagree from epoch to epoch
gen() {  # ROWS SEED
    awk -v n="$1" -v seed="$2" 'BEGIN { srand(seed); print "x,y,label";
        for (i = 0; i < n; i++) { c = i % 3;
            x = c * 0.8 + (rand() + rand() + rand() - 1.5) * 1.2;
            y = (c == 1 ? 0.7 : 0) + (rand() + rand() + rand() - 1.5) * 1.2;
            print x "," y "," c } }'
}
gen 1500 11 >"$tmp/train.csv"
gen 600 12 >"$tmp/holdout.csv"

cat >"$tmp/sel.nnx" <<NNX
data d {
    train = csv("$tmp/train.csv", label = "label")
    valid = csv("$tmp/holdout.csv", label = "label")
    test  = csv("$tmp/holdout.csv", label = "label")
}
network net { dense(32) tanh dropout(0.2) dense(3) }
experiment sel {
    data = d
    model = net
    loss = cross_entropy
    optimizer = sgd(lr = 0.05, momentum = 0.9)
    epochs = 12
    batch = 16
    seed = 2
    metrics = [accuracy]
    select = max(valid.accuracy)
}
NNX

value_at() {  # CSV COLUMN EPOCH
    awk -F, -v name="$2" -v e="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                                    $1 == e { print $c }' "$1"
}
json_metric() { sed -n "s/^    \"$2\": \\([-0-9.e+]*\\),*\$/\\1/p" "$1"; }
same() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d < 1e-7 && d > -1e-7) }'; }

check_run() {  # OUTDIR MODE METRIC
    d=$(rundir "$1")
    sel=$(select_epoch "$d/summary.json")
    best=$(argbest "$d/metrics.csv" "$3" "$2")
    [ "$sel" = "$best" ] || fail "select $2($3) kept epoch $sel, metrics.csv says $best"
    acc=$(value_at "$d/metrics.csv" valid.accuracy "$sel")
    test=$(json_metric "$d/summary.json" test.accuracy)
    [ -n "$test" ] || fail "no test.accuracy in summary.json"
    same "$acc" "$test" || fail "test.accuracy $test is not valid.accuracy $acc of the selected epoch $sel"
    loss=$(value_at "$d/metrics.csv" valid.loss "$sel")
    same "$loss" "$(json_metric "$d/summary.json" test.loss)" || fail "test.loss is not the selected epoch's"
}

# 1. max(valid.accuracy)
expect 0 "$tmp/out" "$nnx" run "$tmp/sel.nnx" --out "$tmp/a"
check_run "$tmp/a" max valid.accuracy

# 2. min(valid.accuracy) — a perverse choice that can only be honoured by following the
#    metric: the worst-accuracy epoch is not the lowest-loss epoch, and not the last one
expect 0 "$tmp/out" "$nnx" run "$tmp/sel.nnx" --set 'select=min(valid.accuracy)' --out "$tmp/b"
check_run "$tmp/b" min valid.accuracy
d=$(rundir "$tmp/b")
sel=$(select_epoch "$d/summary.json")
low=$(argbest "$d/metrics.csv" valid.loss min)
[ "$sel" != "$low" ] || fail "this case should select another epoch ($sel) than the lowest loss ($low)"
[ "$sel" != 12 ] || fail "the selected weights should not be the last epoch's in this case"
has "$tmp/out" "the lowest loss, [0-9.e-]*, was at epoch $low"

# 3. selection by the loss still works when asked for
expect 0 "$tmp/out" "$nnx" run "$tmp/sel.nnx" --set 'select=min(valid.loss)' --out "$tmp/c"
check_run "$tmp/c" min valid.loss
# 4. a train-split metric: computed (one more pass) only because select names it
expect 0 "$tmp/out" "$nnx" run "$tmp/sel.nnx" --set 'select=max(train.accuracy)' --out "$tmp/d"
d=$(rundir "$tmp/d")
head -1 "$d/metrics.csv" | grep -q '^epoch,lr,train.loss,valid.loss,valid.accuracy,train.accuracy,seconds$' ||
    fail "metrics.csv header: $(head -1 "$d/metrics.csv")"
sel=$(select_epoch "$d/summary.json")
[ "$sel" = "$(argbest "$d/metrics.csv" train.accuracy max)" ] || fail "select max(train.accuracy) kept epoch $sel"
head -1 "$(rundir "$tmp/a")/metrics.csv" | grep -q train.accuracy && fail "train.accuracy computed without need"
echo "run_select: ok"
