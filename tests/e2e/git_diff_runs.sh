#!/bin/sh
# git_diff_runs.sh — the git workflow on a throwaway repository: a baseline and a branch that changes one lr and
# adds one layer; `nnx diff` shows exactly those two settings, the commits and the metrics; `nnx runs` lists every
# run with its commit (sorted, filtered, as JSON and CSV); bad input to both ends in a clear message and exit 2.
. "$(dirname "$0")/lib/run_common.sh"

. "$(dirname "$0")/lib/git_common.sh"
repo=$tmp/repo
git_repo "$repo"
printf 'runs/\n' >"$repo/.gitignore"
cat >"$repo/exp.nnx" <<'NNX'
data toy {
    train = spirals(n = 300, classes = 3, noise = 0.2, seed = 7)
    valid = split(train, 0.25)
    test  = spirals(n = 150, classes = 3, noise = 0.2, seed = 8)
}

network net {
    dense(16)  swish
    dense(3)
}

experiment spiral {
    data      = toy
    model     = net
    loss      = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs    = 3
    batch     = 32
    metrics   = [accuracy]
    select    = max(valid.accuracy)
}
NNX
git -C "$repo" add . && git -C "$repo" commit -q -m baseline || fail "commit failed"
base=$(git -C "$repo" rev-parse HEAD)
(cd "$repo" && "$nnx" run exp.nnx --quiet --out runs/a) >"$tmp/a.out" 2>&1 || { cat "$tmp/a.out" >&2; fail "baseline run failed"; }
a=$(rundir "$repo/runs/a")

git -C "$repo" checkout -q -b wider
sed -i 's/adam(lr = 1e-2)/adam(lr = 3e-2)/; s/^    dense(3)$/    dropout(0.1)\n    dense(3)/' "$repo/exp.nnx"
git -C "$repo" commit -q -am "lr 3e-2, one more layer" || fail "second commit failed"
wider=$(git -C "$repo" rev-parse HEAD)
(cd "$repo" && "$nnx" run exp.nnx --quiet --out runs/b) >"$tmp/b.out" 2>&1 || { cat "$tmp/b.out" >&2; fail "second run failed"; }
b=$(rundir "$repo/runs/b")

# nnx diff: exactly the added layer and the lr, nothing else
expect 0 "$tmp/diff" "$nnx" diff "$a" "$b"
sed -n '/^settings/,/^$/p' "$tmp/diff" | grep '^  ' >"$tmp/settings"
cat >"$tmp/want" <<'TXT'
  model[3]      added: dropout(0.1)
  optimizer.lr  0.01 -> 0.03
TXT
diff "$tmp/want" "$tmp/settings" >&2 || fail "nnx diff: the settings that differ are not exactly the lr and the added layer"
has "$tmp/diff" "commit $(echo "$base" | cut -c1-8) on main, clean"
has "$tmp/diff" "commit $(echo "$wider" | cut -c1-8) on wider, clean"
has "$tmp/diff" '^  test.accuracy'
has "$tmp/diff" '^  seconds per epoch'
expect 0 "$tmp/diff.json" "$nnx" diff "$a" "$b" --json
has "$tmp/diff.json" '"path": "optimizer.lr"'
# "path" names the two sides, then each change
[ "$(grep -c '"path": ' "$tmp/diff.json")" = 4 ] || fail "--json: expected two changes"

# a run against the file as it is now (the baseline's file on main): the same two, reversed
git -C "$repo" checkout -q main
expect 0 "$tmp/diff2" "$nnx" diff "$b" "$repo/exp.nnx"
has "$tmp/diff2" 'optimizer.lr  0.03 -> 0.01'
has "$tmp/diff2" 'model\[3\]      removed: dropout(0.1)'
has "$tmp/diff2" 'not run yet'
# a run against itself: nothing differs
expect 0 "$tmp/same" "$nnx" diff "$a" "$a"
has "$tmp/same" 'settings: the same'

# nnx runs: both runs, each with its commit; sorted, filtered, JSON, CSV
expect 0 "$tmp/runs" "$nnx" runs "$repo/runs"
[ "$(grep -c ' spiral ' "$tmp/runs")" = 2 ] || { cat "$tmp/runs" >&2; fail "nnx runs: expected 2 runs"; }
grep "$a" "$tmp/runs" | grep -q "$(echo "$base" | cut -c1-8) " || fail "nnx runs: run a without commit $base"
grep "$b" "$tmp/runs" | grep -q "$(echo "$wider" | cut -c1-8) " || fail "nnx runs: run b without commit $wider"
(cd "$repo" && "$nnx" runs) >"$tmp/runs_default" 2>&1 || fail "nnx runs without a directory failed"
[ "$(grep -c ' spiral ' "$tmp/runs_default")" = 2 ] || fail "nnx runs: runs/ by default"
expect 0 "$tmp/csv" "$nnx" runs "$repo/runs" --csv --sort test.accuracy
head -1 "$tmp/csv" | grep -q '^when,experiment,kind,status,select,value,epoch,epochs,seconds,test.accuracy,test.loss,commit,dirty,branch,path$' ||
    fail "nnx runs --csv: header $(head -1 "$tmp/csv")"
[ "$(wc -l <"$tmp/csv")" = 3 ] || fail "nnx runs --csv: expected 2 rows"
# sorted best first by test.accuracy
col_acc=$(awk -F, 'NR > 1 { print $10 }' "$tmp/csv")
[ "$(echo "$col_acc" | sort -gr)" = "$col_acc" ] || fail "nnx runs --sort test.accuracy: not best first ($col_acc)"
expect 0 "$tmp/json" "$nnx" runs "$repo/runs" --json
[ "$(grep -c '"kind": "run"' "$tmp/json")" = 2 ] || fail "nnx runs --json: expected 2 runs"
has "$tmp/json" "\"commit\": \"$wider\""
expect 0 "$tmp/filtered" "$nnx" runs "$repo/runs" --filter 'nothing*'
grep -q ' spiral ' "$tmp/filtered" && fail "nnx runs --filter: listed runs of another experiment"
has "$tmp/filtered" 'no runs under'
expect 0 "$tmp/filtered" "$nnx" runs "$repo/runs" --filter 'spi*'
[ "$(grep -c ' spiral ' "$tmp/filtered")" = 2 ] || fail "nnx runs --filter 'spi*': expected 2 runs"

# bad input: clear messages, exit 2
expect 2 "$tmp/e1" "$nnx" diff "$a" "$tmp/missing"
has "$tmp/e1" "nnx diff: $tmp/missing: No such file or directory"
mkdir -p "$tmp/notarun"
expect 2 "$tmp/e2" "$nnx" diff "$tmp/notarun" "$b"
has "$tmp/e2" 'not a run directory (no experiment.nnx)'
expect 2 "$tmp/e3" "$nnx" diff "$a"
expect 2 "$tmp/e4" "$nnx" runs "$tmp/missing"
has "$tmp/e4" "nnx runs: $tmp/missing: No such file or directory"
expect 2 "$tmp/e5" "$nnx" runs "$repo/runs" --sort valid.acuracy
has "$tmp/e5" 'no listed run has that metric'
printf '{ "experiment": ' >"$tmp/notarun/summary.json"
expect 2 "$tmp/e6" "$nnx" runs "$tmp/notarun" "$repo/runs"
has "$tmp/e6" "left out: $tmp/notarun/summary.json:1:"
grep -q ' spiral ' "$tmp/e6" || fail "nnx runs: a bad summary.json hid the good runs"

# the README's pre-commit hook: nnx fmt --check refuses a commit of a .nnx file out of layout
mkdir -p "$tmp/bin" && ln -sf "$nnx" "$tmp/bin/nnx"
cat >"$repo/.git/hooks/pre-commit" <<'HOOK'
#!/bin/sh
# refuse a commit whose .nnx files are not in nnx's layout (nnx fmt -w FILE fixes one)
files=$(git diff --cached --name-only --diff-filter=ACM -- '*.nnx')
[ -z "$files" ] || exec nnx fmt --check $files
HOOK
chmod +x "$repo/.git/hooks/pre-commit"
sed 's/^    data      = toy$/  data = toy/' "$repo/exp.nnx" >"$repo/ugly.nnx"
git -C "$repo" add ugly.nnx
PATH="$tmp/bin:$PATH" git -C "$repo" commit -q -m ugly >"$tmp/hook.out" 2>&1 && fail "the pre-commit hook let an unformatted file in"
has "$tmp/hook.out" 'ugly.nnx'
"$nnx" fmt -w "$repo/ugly.nnx" >/dev/null && git -C "$repo" add ugly.nnx
PATH="$tmp/bin:$PATH" git -C "$repo" commit -q -m formatted >"$tmp/hook.out" 2>&1 || { cat "$tmp/hook.out" >&2; fail "the pre-commit hook refused a formatted file"; }

# the comparison page (sanitized build): both runs' curves, the two differing settings highlighted
expect 0 "$tmp/cmp" "$nnx_san" report "$a" "$b" -o "$tmp/compare.html"
[ "$(grep -c '<tr class="differs">' "$tmp/compare.html")" = 2 ] || fail "comparison: expected 2 differing settings rows"
grep -q "<path data-series=\"$b\"" "$tmp/compare.html" || fail "comparison: no curve of $b"
expect 2 "$tmp/e7" "$nnx" report "$a" "$b"
has "$tmp/e7" 'needs -o FILE'
expect 2 "$tmp/e8" "$nnx" report "$a" "$tmp/notarun" -o "$tmp/x.html"
has "$tmp/e8" 'not a run directory'
[ ! -e "$tmp/x.html" ] || fail "a failed comparison left a page"
echo "$me: ok"
