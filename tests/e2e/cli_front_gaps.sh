#!/bin/sh
# cli_front_gaps.sh — what a new user meets at the command line: one error for a bad
# --set (no cascade), --set on every command that reads an experiment, --out with a
# trailing slash, a data file that never ends (no hang), and a suggestion for every
# unknown command, flag or name.
. "$(dirname "$0")/lib/run_common.sh"
q="$root/examples/quickstart.nnx"

# a misspelt override: exactly the real error, with the name meant
expect 2 "$tmp/out" "$nnx" run "$q" --set optimizer.lrr=1
has "$tmp/out" "^--set:1:1: error: adam has no argument 'lrr'"
has "$tmp/out" "did you mean 'lr'?"
[ "$(grep -c ': error: ' "$tmp/out")" = 1 ] || { cat "$tmp/out" >&2; fail "a bad --set caused more than its own error"; }

# check, plan and run read --set alike (also --set=path=value)
expect 0 "$tmp/out" "$nnx" check "$q" --set epochs=2
has "$tmp/out" "ok (1 experiment)"
expect 2 "$tmp/out" "$nnx" check "$q" --set=epochs=0
has "$tmp/out" "epochs must be >= 1, got 0"
expect 2 "$tmp/out" "$nnx" check --set optimizer.lrr=1 "$q"
has "$tmp/out" "adam has no argument 'lrr'"
expect 2 "$tmp/out" "$nnx" plan "$q" --set=optimizer.lrr=1
has "$tmp/out" "adam has no argument 'lrr'"
expect 2 "$tmp/out" "$nnx" check "$q" --set
has "$tmp/out" "nnx check: --set needs path=value"

# --out with a trailing slash names the directory once
expect 0 "$tmp/out" "$nnx" run "$q" --set epochs=2 --out "$tmp/results/" -q
grep -q '//' "$tmp/out" && { cat "$tmp/out" >&2; fail "a doubled slash in the output"; }
has "$tmp/out" "run dir     $tmp/results/quickstart-"

# a CSV path that never ends: a FIFO with no writer, /dev/zero; no hang, a clear error
mkfifo "$tmp/fifo"
cat >"$tmp/fifo.nnx" <<NNX
data f { train = csv("$tmp/fifo")  valid = split(train, 0.2) }
data z { train = csv("/dev/zero")  valid = split(train, 0.2) }
network net { dense(8) relu dense(2) }
experiment a { data = f  model = net }
experiment b { data = z  model = net }
NNX
expect 2 "$tmp/out" timeout 20 "$nnx" check "$tmp/fifo.nnx"
has "$tmp/out" "cannot read data file '$tmp/fifo': it is a FIFO, not a regular file"
has "$tmp/out" "cannot read data file '/dev/zero': it is a character device, not a regular file"
expect 2 "$tmp/out" timeout 20 "$nnx" run "$tmp/fifo.nnx" a --out "$tmp/r"
has "$tmp/out" "it is a FIFO, not a regular file"
has "$tmp/out" "nothing was trained"

# unknown commands and flags: the one meant
expect 2 "$tmp/out" "$nnx" rn "$q"
has "$tmp/out" "unknown command 'rn' (did you mean 'run'?)"
expect 2 "$tmp/out" "$nnx" run "$q" --otu x
has "$tmp/out" "unknown option '--otu' (did you mean '--out'?)"
expect 2 "$tmp/out" "$nnx" run "$q" -resume
has "$tmp/out" "unknown option '-resume' (did you mean '--resume'?)"
expect 2 "$tmp/out" "$nnx" check "$q" --sett a=b
has "$tmp/out" "did you mean '--set'?"
expect 2 "$tmp/out" "$nnx" report "$tmp" --txt
has "$tmp/out" "did you mean '--text'?"
expect 2 "$tmp/out" "$nnx" fmt --wirte "$q"
has "$tmp/out" "did you mean '--write'?"
expect 2 "$tmp/out" "$nnx" diagnose "$tmp" --jsn
has "$tmp/out" "did you mean '--json'?"
exit 0
