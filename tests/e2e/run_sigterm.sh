#!/bin/sh
# run_sigterm.sh — SIGTERM (what Slurm sends on scancel, a time limit or preemption, and what
# systemd and Kubernetes send) is handled like the first Ctrl-C: the batch finishes, everything
# is written, summary.json says interrupted, exit 143, --resume continues; SIGHUP the same
# (exit 129), unless nohup ignores it.  A second signal ends the process at once.  In a search, SIGTERM to the parent alone reaches its workers.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/long.nnx" <<'NNX'
data toy {
    train = spirals(n = 2000, classes = 3, noise = 0.2, seed = 1)
    valid = split(train, 0.2)
}
network net { dense(64) swish dense(64) swish dense(3) }
experiment long {
    data = toy
    model = net
    loss = cross_entropy
    optimizer = adam(lr = 3e-3)
    epochs = 100000
    batch = 32
    seed = 1
    metrics = [accuracy]
    select = max(valid.accuracy)
}
experiment grid extends long {
    epochs = 100
    hooks = "pace.lua"
    search grid { optimizer.lr in [1e-3, 3e-3] }
}
NNX
# An epoch of this net takes a few milliseconds: the hook paces the search's epochs
# (about 30 ms each) so that the signal below lands while both trials still train,
# even on a busy machine.  It changes no number.
cat >"$tmp/pace.lua" <<'LUA'
function on_epoch_end(run)
  local x = 0 for i = 1, 2e6 do x = x + i end
end
LUA

# start_long DIR OUT [FLAGS]: `nnx run` of `long` into DIR in the background (under $launch,
# e.g. nohup), its output in OUT, its pid in $pid; stop SIGNAL: send it, wait, $rc
start_long() {
    dir=$1 out=$2
    shift 2
    ${launch:-env} "$nnx" run "$tmp/long.nnx" long --out "$dir" "$@" >"$out" 2>&1 &
    pid=$!
}
stop() {
    kill -"$1" $pid
    wait $pid
    rc=$?
}

# one run: SIGTERM after 3 epochs
start_long "$tmp/runs" "$tmp/out"
wait_rows $pid "$tmp/runs" 3
stop TERM
[ $rc = 143 ] || { cat "$tmp/out" >&2; fail "exit status $rc after SIGTERM, expected 143"; }
d=$(rundir "$tmp/runs")
has "$tmp/out" "status      interrupted"
[ "$(json_str "$d/summary.json" status)" = interrupted ] || fail "summary status is not interrupted"
n=$(nrows "$d/metrics.csv")
[ "$n" -ge 3 ] || fail "only $n epochs in metrics.csv"
[ "$(json_num "$d/summary.json" epochs_run)" = "$n" ] || fail "epochs_run is not the $n rows of metrics.csv"
awk -F, 'NR == 1 { nf = NF; next } NF != nf || $1 != NR - 1 { bad = 1 } END { exit bad }' "$d/metrics.csv" ||
    fail "metrics.csv is not well-formed"
[ -s "$d/weights.nnxw" ] || fail "weights.nnxw is missing"
[ -s "$d/resume.state" ] || fail "SIGTERM left no resume.state"
# --resume continues it; SIGTERM again
start_long "$tmp/runs" "$tmp/out2" --resume
wait_rows $pid "$tmp/runs" $((n + 2))
stop TERM
[ $rc = 143 ] || { cat "$tmp/out2" >&2; fail "the resumed run exited $rc after SIGTERM"; }
has "$tmp/out2" "resuming   $d"
n2=$(nrows "$d/metrics.csv")
[ "$n2" -gt "$n" ] || fail "the resumed run added no epochs"
awk -F, 'NR == 1 { nf = NF; next } NF != nf || $1 != NR - 1 { bad = 1 } END { exit bad }' "$d/metrics.csv" ||
    fail "metrics.csv after the resume does not count epochs 1, 2, 3, ..."

# SIGHUP (the terminal or the ssh session closed): the same, exit 129, where it used to kill
# the run outright with nothing to resume from; under nohup, which ignores it, the run goes on
start_long "$tmp/hup" "$tmp/outh"
wait_rows $pid "$tmp/hup" 2
stop HUP
[ $rc = 129 ] || { cat "$tmp/outh" >&2; fail "exit status $rc after SIGHUP, expected 129"; }
[ "$(json_str "$(rundir "$tmp/hup")/summary.json" status)" = interrupted ] || fail "SIGHUP: not interrupted"
[ -s "$(rundir "$tmp/hup")/resume.state" ] || fail "SIGHUP left no resume.state"
launch=nohup start_long "$tmp/nohup" "$tmp/outn"
wait_rows $pid "$tmp/nohup" 2
kill -HUP $pid
n=$(nrows "$(ls "$tmp"/nohup/*/metrics.csv)")
wait_rows $pid "$tmp/nohup" $((n + 2))
stop TERM
unset launch
[ $rc = 143 ] || { cat "$tmp/outn" >&2; fail "under nohup: exit status $rc after SIGHUP then SIGTERM, expected 143"; }

# a second signal (SIGINT after SIGTERM) ends the run at once: a hook keeps epoch 1 busy,
# so nothing is written after the first signal
cat >"$tmp/slow.lua" <<'LUA'
function on_epoch_begin(run)
  if run.epoch == 1 then local x = 0 for i = 1, 3e8 do x = x + i end end
end
LUA
cat >"$tmp/slow.nnx" <<'NNX'
data toy { train = spirals(n = 600, classes = 3)  valid = split(train, 0.2) }
network net { dense(16) relu dense(3) }
experiment slow { data = toy  model = net  epochs = 5  batch = 16  hooks = "slow.lua" }
NNX
"$nnx" run "$tmp/slow.nnx" --out "$tmp/slow" >"$tmp/out3" 2>&1 &
pid=$!
wait_rows $pid "$tmp/slow" 0
kill -TERM $pid
sleep 0.2
kill -INT $pid
t0=$(date +%s)
wait $pid
rc=$?
[ $rc = 130 ] || { cat "$tmp/out3" >&2; fail "exit status $rc after SIGTERM then SIGINT, expected 130 (killed by SIGINT)"; }
[ $(( $(date +%s) - t0 )) -le 2 ] || fail "the second signal did not end the run at once"
[ "$(json_str "$(rundir "$tmp/slow")/summary.json" status)" = running ] || fail "the run went on after the second signal"

# a search: SIGTERM to the parent alone; its workers stop after their batch and leave
# resume.state; running the command again continues them and gives the full leaderboard
expect 0 "$tmp/out4" "$nnx" run "$tmp/long.nnx" grid --out "$tmp/ref" -j 2
"$nnx" run "$tmp/long.nnx" grid --out "$tmp/g" -j 2 >"$tmp/out5" 2>&1 &
pid=$!
i=0
until [ "$(ls "$tmp"/g/*/trials/*/metrics.csv 2>/dev/null | wc -l)" = 2 ] &&
      [ "$(cat "$tmp"/g/*/trials/*/metrics.csv | wc -l)" -ge 8 ]; do
    i=$((i + 1)); [ $i -lt 1500 ] || { kill -9 $pid; fail "the search made no progress in 30 s"; }
    sleep 0.02
done
kill -TERM $pid
wait $pid
rc=$?
[ $rc = 143 ] || { cat "$tmp/out5" >&2; fail "the search exited $rc after SIGTERM, expected 143"; }
g=$(rundir "$tmp/g")
for t in "$g"/trials/*/; do
    t=${t%/}
    [ "$(json_str "$t/summary.json" status)" = interrupted ] || fail "$t is not interrupted"
    [ -s "$t/resume.state" ] || fail "$t left no resume.state"
    cp "$t/metrics.csv" "$t.before"
done
expect 0 "$tmp/out6" "$nnx" run "$tmp/long.nnx" grid --out "$tmp/g" -j 2
for b in "$g"/trials/*.before; do
    n=$(wc -l <"$b")
    head -n "$n" "${b%.before}/metrics.csv" | cmp -s - "$b" || fail "$(basename "$b" .before) started over"
done
sed 's/,[^,]*$//' "$(rundir "$tmp/ref")/trials.csv" >"$tmp/a.csv"
sed 's/,[^,]*$//' "$g/trials.csv" >"$tmp/b.csv"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || { diff "$tmp/a.csv" "$tmp/b.csv" >&2; fail "the resumed leaderboard differs"; }
echo "run_sigterm: ok"
