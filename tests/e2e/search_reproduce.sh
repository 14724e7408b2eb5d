#!/bin/sh
# search_reproduce.sh — a trial's or an ensemble member's experiment.nnx is that one run:
# `nnx run` on it trains it alone (not the whole search again) and gives its numbers.
# (A trial's file once kept the search block; a member's split the data with its own seed.)
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/exp.nnx" <<'NNX'
data toy { train = spirals(n = 600, classes = 3, noise = 0.2, seed = 7)
           valid = split(train, 0.2) }
network net(width = 16) { dense(width) swish dense(3) }
experiment base {
    data = toy  model = net  optimizer = adam(lr = 1e-2)  epochs = 4  batch = 32  seed = 1
    metrics = [accuracy]  select = max(valid.accuracy)
}
experiment grid extends base {
    search grid { optimizer.lr in [1e-3, 1e-2] }
}
experiment members extends base {
    ensemble { seeds = [1, 2] }
}
NNX
same() {  # RUN_DIR OUT: nnx run of RUN_DIR/experiment.nnx into OUT gives RUN_DIR's metrics
    expect 0 "$tmp/out" "$nnx" run "$1/experiment.nnx" --out "$2" --quiet
    again=$(rundir "$2")
    [ ! -d "$again/trials" ] && [ ! -d "$again/members" ] || fail "$1/experiment.nnx ran a search"
    cut -d, -f1-5 "$1/metrics.csv" >"$tmp/m1"
    cut -d, -f1-5 "$again/metrics.csv" >"$tmp/m2"
    cmp -s "$tmp/m1" "$tmp/m2" || { diff "$tmp/m1" "$tmp/m2" >&2; fail "$1/experiment.nnx gives other numbers"; }
}
expect 0 "$tmp/out" "$nnx" run "$tmp/exp.nnx" grid --out "$tmp/runs"
same "$tmp"/runs/grid-*/trials/lr=0.01 "$tmp/t"
expect 0 "$tmp/out" "$nnx" run "$tmp/exp.nnx" members --out "$tmp/runs"
same "$tmp"/runs/members-*/members/2 "$tmp/m"
has "$(echo "$tmp"/runs/members-*/members/2)/experiment.nnx" "split(train, 0.2, stratify = true, seed = 1)"
echo "search_reproduce: ok"
