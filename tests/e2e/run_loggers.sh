#!/bin/sh
# run_loggers.sh — log = [csv, tensorboard, mlflow]: an event file in the run directory and an
# MLflow run under $MLFLOW_TRACKING_URI with one point per epoch and the run's files.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/log.nnx" <<'NNX'
data toy {
    train = blobs(n = 400, classes = 3, features = 5, spread = 2, seed = 1)
    valid = split(train, 0.25)
}
network net { dense(16) relu dense(3) }
experiment logged {
    data = toy
    model = net
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs = 4
    batch = 25
    seed = 1
    metrics = [accuracy, auc]
    select = max(valid.auc)
    log = [csv, tensorboard, mlflow]
}
NNX
cd "$tmp" || fail "no tmp"
MLFLOW_TRACKING_URI="file:$tmp/store" expect 0 "$tmp/out" "$nnx" run log.nnx --set optimizer.lr=0.02 --out runs
d=$(rundir runs)
set -- "$d"/events.out.tfevents.*
[ -s "$1" ] || fail "no TensorBoard event file in $d"
# the tags are in the file (strings in the protobuf records)
for tag in train/loss valid/loss valid/auc valid/accuracy lr; do
    grep -aq "$tag" "$1" || fail "no '$tag' in the event file"
done
[ -d "$tmp/mlruns" ] && fail "MLFLOW_TRACKING_URI was ignored"
set -- "$tmp"/store/[0-9]*/*/metrics/valid.auc
[ -f "$1" ] || fail "no MLflow metric valid.auc under $tmp/store"
run=$(dirname "$(dirname "$1")")
[ "$(wc -l <"$1")" = 4 ] || fail "valid.auc should have 4 points"
awk '{ if (NF != 3 || $3 != NR) exit 1 }' "$1" || fail "MLflow points are not 'ms value epoch'"
[ "$(cat "$run/params/optimizer.lr")" = 0.02 ] || fail "MLflow param optimizer.lr"
[ -s "$run/artifacts/metrics.csv" ] || fail "the run directory was not copied to the artifacts"
grep -q "status: 3" "$run/meta.yaml" || fail "the MLflow run is not FINISHED"
[ "$(cat "$run/tags/nnx.status")" = completed ] || fail "tag nnx.status"
grep -aq "optimizer.lr" "$d"/events.out.tfevents.* || fail "no params text in the event file"
echo "run_loggers: ok"
