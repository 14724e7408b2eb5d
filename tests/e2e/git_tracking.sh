#!/bin/sh
# git_tracking.sh — tracking a search: MLflow params hold every resolved setting, trials nest under the
# search's run (mlflow.parentRunId) with the git tags; turning logging on (or adding hooks that only log)
# keeps the search's identity, so no finished trial retrains; such hooks cannot stop or steer a run;
# TensorBoard logs the test metrics at the selected epoch and says so.
. "$(dirname "$0")/lib/run_common.sh"

. "$(dirname "$0")/lib/git_common.sh"
repo=$tmp/repo
git_repo "$repo"
cat >"$repo/grid.nnx" <<'NNX'
data toy {
    train = spirals(n = 200, classes = 3, noise = 0.2, seed = 7)
    valid = split(train, 0.25)
    test  = spirals(n = 100, classes = 3, noise = 0.2, seed = 8)
}
network net { dense(12) swish dense(3) }
experiment grid {
    data = toy
    model = net
    loss = cross_entropy
    optimizer = adamw(lr = 1e-2, weight_decay = 1e-4)
    epochs = 3
    metrics = [accuracy]
    search grid { optimizer.lr in [1e-2, 3e-2] }
}
NNX
printf 'function on_epoch_end(run) run:log("lr_x1000", run.lr * 1000) end\n' >"$repo/logonly.lua"
printf 'function on_epoch_end(run) local f = run["st" .. "op"]; f(run, "sneaky") end\n' >"$repo/sneaky.lua"
printf 'runs/\nstore/\n' >"$repo/.gitignore"
git -C "$repo" add . && git -C "$repo" commit -q -m grid || fail "commit failed"
head=$(git -C "$repo" rev-parse HEAD)
cd "$repo" || fail "no repo"

# 1. a search without logging, then with MLflow and TensorBoard: the same directory, nothing retrained
expect 0 "$tmp/s1" "$nnx" run grid.nnx --quiet --out runs
g=$(rundir runs)
MLFLOW_TRACKING_URI="file:$repo/store" expect 0 "$tmp/s2" "$nnx" run grid.nnx --quiet --out runs \
    --set 'log=[csv, mlflow, tensorboard]'
[ "$(rundir runs)" = "$g" ] || fail "turning logging on made another search directory"
has "$tmp/s2" 'trials      0 run now, 2 finished before'
has "$g/experiment.nnx" 'log = \[csv, tensorboard, mlflow\]'
# hooks that only log: still the same search
expect 0 "$tmp/s3" "$nnx" run grid.nnx --quiet --out runs --set 'hooks="logonly.lua"'
[ "$(rundir runs)" = "$g" ] || fail "hooks that only log made another search directory"
has "$tmp/s3" 'trials      0 run now, 2 finished before'
# a change of a setting that counts: another search
expect 0 "$tmp/s5" "$nnx" run grid.nnx --quiet --out runs --set epochs=2
[ "$(ls runs | wc -l)" = 2 ] || fail "epochs=2 did not make a search of its own"

# 2. hooks taken for log-only that reach run:stop anyway fail the trial, saying why
expect 1 "$tmp/s6" "$nnx" run grid.nnx --quiet --out runs3 --set 'hooks="sneaky.lua"'
has "$tmp/s6" 'took the hooks file for one that only logs'

# 3. a fresh search with MLflow: a parent run; each trial nested under it, with every setting and the git tags
rm -rf store
MLFLOW_TRACKING_URI="file:$repo/store" expect 0 "$tmp/s7" "$nnx" run grid.nnx --quiet --out runs4 \
    --set 'log=[csv, mlflow, tensorboard]'
parent=$(grep -l '^search$' store/*/*/tags/nnx.kind | head -1)
[ -n "$parent" ] || fail "no MLflow run for the search (tag nnx.kind = search)"
parent_dir=$(dirname "$(dirname "$parent")")
pid=$(basename "$parent_dir")
[ "$(cat "$parent_dir/tags/mlflow.source.git.commit")" = "$head" ] || fail "the search's run has no git commit tag"
grep -q 'status: 3' "$parent_dir/meta.yaml" || fail "the search's MLflow run is not FINISHED"
n=0
for t in store/*/*/tags/mlflow.parentRunId; do
    [ -f "$t" ] || continue
    [ "$(cat "$t")" = "$pid" ] || fail "$t names $(cat "$t"), not the search's run $pid"
    run=$(dirname "$(dirname "$t")")
    for p in model model[1] model[2] model[3] loss loss.label_smoothing optimizer optimizer.lr \
             optimizer.weight_decay schedule.decay epochs batch seed metrics select; do
        [ -f "$run/params/$(echo "$p" | tr '[]' '__')" ] || fail "trial run $run lacks the param $p"
    done
    [ "$(cat "$run/params/optimizer")" = adamw ] || fail "param optimizer: $(cat "$run/params/optimizer")"
    [ "$(cat "$run/tags/mlflow.source.git.commit")" = "$head" ] || fail "trial run lacks the git commit tag"
    [ "$(cat "$run/tags/mlflow.source.git.branch")" = main ] || fail "trial run lacks the git branch tag"
    [ "$(cat "$run/tags/nnx.git.dirty")" = false ] || fail "trial run: nnx.git.dirty"
    n=$((n + 1))
done
[ "$n" = 2 ] || fail "expected 2 trial runs nested under the search, found $n"

# 4. TensorBoard: the test metrics at the selected epoch, said so
g4=$(rundir runs4)
for t in "$g4"/trials/*/; do
    set -- "$t"events.out.tfevents.*
    grep -aq 'test/selected_epoch' "$1" || fail "no test/selected_epoch text in $1"
    sel=$(select_epoch "$t/summary.json")
    grep -aq "weights of epoch $sel, selected by" "$1" || fail "the event file does not name the selected epoch $sel"
done
echo "$me: ok"
