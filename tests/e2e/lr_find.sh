#!/bin/sh
# lr_find.sh — `nnx lr-find`: the range test's curve, report and proposal, and the proposed lr
# trains within 1 point of the best lr of a decade grid (spirals, Adam; a table, SGD).
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/x.nnx" <<'NNX'
data toy { train = spirals(n = 1500, classes = 3, noise = 0.2, seed = 7)  valid = split(train, 0.2) }
data lin { train = blobs(n = 1500, classes = 4, features = 8, spread = 4, seed = 3)  valid = split(train, 0.2) }
network mlp { dense(64) swish dense(64) swish dense(3) }
network small { dense(32) relu dense(4) }
experiment spiral { data = toy  model = mlp  optimizer = adam(lr = 1e-3)  epochs = 15  batch = 64
                    metrics = [accuracy]  select = max(valid.accuracy) }
experiment spiral_grid extends spiral { search grid { optimizer.lr in decades(1e-5, 1) } }
experiment table { data = lin  model = small  optimizer = sgd(lr = 1e-3, momentum = 0.9)  epochs = 10  batch = 32
                   metrics = [accuracy]  select = max(valid.accuracy) }
experiment table_grid extends table { search grid { optimizer.lr in decades(1e-5, 1) } }
NNX

best_of_grid() { col "$(rundir "$1")/trials.csv" valid.accuracy | sort -g | tail -1; }
acc_of_run() { sed -n 's/^    "valid.accuracy": \([-0-9.e+]*\),*$/\1/p' "$(rundir "$1")/summary.json"; }

for x in spiral table; do
    expect 0 "$tmp/out.$x" "$nnx" lr-find "$tmp/x.nnx" $x --out "$tmp/lf.$x"
    has "$tmp/out.$x" "smoothed train loss against the lr"
    has "$tmp/out.$x" "^proposed    lr "
    has "$tmp/out.$x" "nnx run $tmp/x.nnx $x --set optimizer.lr="
    [ -s "$tmp/lf.$x/lr-find-$x/report.html" ] || fail "$x: no report.html"
    [ "$(head -1 "$tmp/lf.$x/lr-find-$x/lr_find.csv")" = "step,lr,loss,smoothed" ] || fail "$x: lr_find.csv header"
    [ "$(nrows "$tmp/lf.$x/lr-find-$x/lr_find.csv")" -gt 100 ] || fail "$x: fewer than 100 steps recorded"
    lr=$(sed -n 's/^proposed    lr \([-0-9.e+]*\) .*/\1/p' "$tmp/out.$x")
    expect 0 "$tmp/run.$x" "$nnx" run "$tmp/x.nnx" $x --set optimizer.lr="$lr" --out "$tmp/r.$x" --quiet
    expect 0 "$tmp/grid.$x" "$nnx" run "$tmp/x.nnx" ${x}_grid --out "$tmp/g.$x" --quiet
    got=$(acc_of_run "$tmp/r.$x") best=$(best_of_grid "$tmp/g.$x")
    awk -v a="$got" -v b="$best" 'BEGIN { exit !(a >= b - 0.01) }' ||
        fail "$x: the proposed lr $lr reaches valid.accuracy $got, the decade grid's best $best"
    echo "lr_find: $x proposes $lr: valid.accuracy $got (grid best $best)"
done

# the report is deterministic (a fixed seed), and re-running replaces it
cp "$tmp/lf.spiral/lr-find-spiral/lr_find.csv" "$tmp/first.csv"
expect 0 "$tmp/out" "$nnx" lr-find "$tmp/x.nnx" spiral --out "$tmp/lf.spiral" -j 1
cmp -s "$tmp/first.csv" "$tmp/lf.spiral/lr-find-spiral/lr_find.csv" || fail "two lr-find runs differ"

# mistakes
expect 2 "$tmp/out" "$nnx" lr-find
expect 2 "$tmp/out" "$nnx" lr-find "$tmp/x.nnx" spiral --steps 5
has "$tmp/out" "step count from 10 to 100000"
expect 2 "$tmp/out" "$nnx" lr-find "$tmp/x.nnx" spiral --bogus
expect 2 "$tmp/out" "$nnx" lr-find "$tmp/x.nnx" nosuch
expect 2 "$tmp/out" "$nnx" lr-find "$tmp/x.nnx" spiral --set optimizer.lr=-1
has "$tmp/out" "x.nnx:"
expect 0 "$tmp/out" "$nnx_san" lr-find "$tmp/x.nnx" table --steps 100 --out "$tmp/san"
has "$tmp/out" "^proposed    lr "
echo "lr_find: ok"
