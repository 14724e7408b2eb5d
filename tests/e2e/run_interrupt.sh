#!/bin/sh
# run_interrupt.sh — Ctrl-C (SIGINT) during `nnx run`: the current batch finishes, everything
# is written, summary.json says interrupted, the exit status is 130.
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
NNX

"$nnx" run "$tmp/long.nnx" --out "$tmp/runs" >"$tmp/out" 2>&1 &
pid=$!
wait_rows $pid "$tmp/runs" 3
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] || { cat "$tmp/out" >&2; fail "exit status $rc after SIGINT, expected 130"; }
d=$(rundir "$tmp/runs")
has "$tmp/out" "status      interrupted"
[ "$(json_str "$d/summary.json" status)" = interrupted ] || fail "summary status is not interrupted"
n=$(nrows "$d/metrics.csv")
[ "$(json_num "$d/summary.json" epochs_run)" = "$n" ] || fail "epochs_run is not the $n rows of metrics.csv"
[ "$n" -lt 100000 ] || fail "it ran every epoch"
# metrics.csv is complete and well-formed: every row has the header's fields, epochs 1..n
awk -F, 'NR == 1 { nf = NF; next } NF != nf || $1 != NR - 1 || $3 == "" || $NF == "" { bad = 1 }
         END { exit bad }' "$d/metrics.csv" || fail "metrics.csv is not well-formed"
[ "$(tail -c 1 "$d/metrics.csv" | od -An -c | tr -d ' ')" = '\n' ] || fail "metrics.csv ends mid-line"
# steps.csv is whole too, and the selected weights were saved
awk -F, 'NR > 1 && NF != 5 { exit 1 }' "$d/steps.csv" || fail "steps.csv is not well-formed"
[ -s "$d/weights.nnxw" ] || fail "weights.nnxw is missing"
sel=$(select_epoch "$d/summary.json")
[ "$sel" = "$(argbest "$d/metrics.csv" valid.accuracy max)" ] || fail "selected epoch $sel is not the best"
ls "$d" | grep -q '\.tmp$' && fail "a temporary file was left"
expect 0 "$tmp/rep" "$nnx" report --text "$d"
has "$tmp/rep" "status interrupted"
# --resume continues that run from the epoch after the last complete one
[ -s "$d/resume.state" ] || fail "an interrupted run should leave resume.state"
"$nnx" run "$tmp/long.nnx" --resume --out "$tmp/runs" >"$tmp/out2" 2>&1 &
pid=$!
wait_rows $pid "$tmp/runs" $((n + 3))    # the resumed run made progress
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] || { cat "$tmp/out2" >&2; fail "the resumed run exited $rc after SIGINT"; }
has "$tmp/out2" "resuming   $d"
[ "$(rundir "$tmp/runs")" = "$d" ] || fail "--resume made a new directory"
awk -F, 'NR == 1 { nf = NF; next } NF != nf || $1 != NR - 1 { bad = 1 } END { exit bad }' "$d/metrics.csv" ||
    fail "metrics.csv after the resume does not count epochs 1, 2, 3, ..."
n2=$(nrows "$d/metrics.csv")
[ "$n2" -gt "$n" ] || fail "no epochs were added"
[ "$(json_num "$d/summary.json" epochs_run)" = "$n2" ] || fail "epochs_run after the resume"
# steps continue where the kept epochs ended
awk -F, 'NR > 1 && $1 != NR - 1 { exit 1 }' "$d/steps.csv" || fail "steps.csv is not 1, 2, 3, ... after the resume"
# nothing to resume in another output directory; a changed experiment does not resume
expect 2 "$tmp/out3" "$nnx" run "$tmp/long.nnx" --resume --out "$tmp/elsewhere"
has "$tmp/out3" "no run of 'long' to resume"
expect 2 "$tmp/out3" "$nnx" run "$tmp/long.nnx" --resume --set batch=64 --out "$tmp/runs"
has "$tmp/out3" "not this experiment"
echo "run_interrupt: ok"
