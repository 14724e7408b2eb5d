#!/bin/sh
# report.sh — `nnx report` and `nnx diagnose` on the fixture run, search and ensemble, and on bad input.
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
nnx=${NNX:-$root/nnx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/tests/fixtures/run" "$root/tests/fixtures/search" "$root/tests/fixtures/ensemble" "$tmp/"

fail() { echo "report.sh: $*" >&2; exit 1; }
# expect STATUS OUTFILE CMD...: run CMD, check its exit status, keep stdout+stderr in OUTFILE
expect() {
    want=$1 out=$2; shift 2
    "$@" >"$out" 2>&1
    got=$?
    [ "$got" = "$want" ] || { cat "$out" >&2; fail "'$*' exited $got, expected $want"; }
}
has() { grep -q -- "$2" "$1" || { cat "$1" >&2; fail "no '$2' in the output"; }; }

# HTML reports, written atomically into each directory
for kind in run search ensemble; do
    expect 0 "$tmp/out" "$nnx" report "$tmp/$kind"
    has "$tmp/out" "wrote $tmp/$kind/report.html"
    html="$tmp/$kind/report.html"
    [ -s "$html" ] || fail "$html is missing or empty"
    has "$html" '<svg class="chart"'
    has "$html" '<path data-series="'
    has "$html" '</html>'
    ls "$tmp/$kind" | grep -q '\.tmp\.' && fail "a temporary file was left in $tmp/$kind"
    grep -q '<script' "$html" && fail "$html has a script"
done
has "$tmp/run/report.html" 'data-rule="overfitting"'
has "$tmp/search/report.html" '<table class="leaderboard">'
has "$tmp/search/report.html" 'optimizer.lr (log scale)'
has "$tmp/ensemble/report.html" '<h2>Members</h2>'

# -o FILE and --text
expect 0 "$tmp/out" "$nnx" report "$tmp/ensemble" -o "$tmp/ens.html"
has "$tmp/ens.html" '<td class="name">ensemble</td>'
expect 0 "$tmp/out" "$nnx" report "$tmp/search" --text
has "$tmp/out" '9 trials, ranked by max(valid.auc); winner lr=0.01_batch=64'
has "$tmp/out" '    1  lr=0.01_batch=64 '
has "$tmp/out" '▁'
expect 0 "$tmp/out" "$nnx" report "$tmp/run" --text -o "$tmp/run.txt"
has "$tmp/run.txt" 'warning overfitting'

# diagnose
expect 0 "$tmp/out" "$nnx" diagnose "$tmp/run"
has "$tmp/out" 'warning: overfitting (epoch 9)'
has "$tmp/out" 'info: select-vs-loss (epoch 11)'
has "$tmp/out" 'best_epoch = 9'
expect 0 "$tmp/out" "$nnx" diagnose "$tmp/search"
has "$tmp/out" 'trial lr=0.1_batch=64'
has "$tmp/out" 'error: diverged (epoch 5)'
has "$tmp/out" 'try 10x smaller: `nnx run'
has "$tmp/out" 'trial lr=1_batch=64: .*no metrics.csv (status failed): the train loss became NaN in the first epoch'
expect 0 "$tmp/out" "$nnx" diagnose "$tmp/run" --json
has "$tmp/out" '"rule": "overfitting"'
has "$tmp/out" '"best_epoch": 9'
expect 0 "$tmp/out" "$nnx" diagnose "$tmp/ensemble"
has "$tmp/out" 'member 3'

# a run killed while writing a row (kill -9): the unfinished last lines are left out
cp -r "$tmp/run" "$tmp/cut"
head -c -7 "$tmp/run/steps.csv" >"$tmp/cut/steps.csv"
head -c -7 "$tmp/run/metrics.csv" >"$tmp/cut/metrics.csv"
expect 0 "$tmp/out" "$nnx" diagnose "$tmp/cut"
has "$tmp/out" "$tmp/cut: baseline, 13 epochs"
expect 0 "$tmp/out" "$nnx" report "$tmp/cut" --text
has "$tmp/out" '167 steps'

# a directory of runs (runs/) is not a run: the message names the runs in it
mkdir -p "$tmp/runs"
cp -r "$tmp/run" "$tmp/runs/b-222222"
cp -r "$tmp/search" "$tmp/runs/a-111111"
expect 2 "$tmp/out" "$nnx" report "$tmp/runs"
has "$tmp/out" "help: $tmp/runs holds 2 run directories; name one: nnx report $tmp/runs/a-111111"
has "$tmp/out" "          $tmp/runs/b-222222"
expect 2 "$tmp/out" "$nnx" diagnose "$tmp/runs/"
has "$tmp/out" "nnx diagnose $tmp/runs/a-111111"

# bad input: exit 2 and a message naming the file and line
expect 2 "$tmp/out" "$nnx" report "$tmp/nope"
has "$tmp/out" "$tmp/nope: no such directory"
expect 2 "$tmp/out" "$nnx" diagnose
has "$tmp/out" 'usage: nnx diagnose DIR'
expect 2 "$tmp/out" "$nnx" report "$tmp/run" --bogus
has "$tmp/out" "unknown option '--bogus'"
sed -i '3s/^2,\([^,]*\),[^,]*,/2,\1,oops,/' "$tmp/run/metrics.csv"
expect 2 "$tmp/out" "$nnx" diagnose "$tmp/run"
has "$tmp/out" "$tmp/run/metrics.csv:3: column 'train.loss': 'oops' is not a number"
printf '{"status": "completed",\n "select": [1,}\n' >"$tmp/search/summary.json"
expect 2 "$tmp/out" "$nnx" report "$tmp/search"
has "$tmp/out" "$tmp/search/summary.json:2:15: expected a value"

# the sanitized binary, once, when it was built
if [ -n "${NNX_SAN:-}" ] && [ -x "$NNX_SAN" ]; then
    expect 0 "$tmp/out" "$NNX_SAN" report "$tmp/ensemble" -o "$tmp/san.html"
    expect 0 "$tmp/out" "$NNX_SAN" diagnose "$tmp/ensemble" --json
    expect 2 "$tmp/out" "$NNX_SAN" diagnose "$tmp/run"
fi
echo "report.sh: ok"
