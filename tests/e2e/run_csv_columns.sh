#!/bin/sh
# run_csv_columns.sh — csv valid and test files whose columns come in another
# order than train's (the label too) are read by column name: the rule
# label = (100·a + 100 > b) learnt on train holds on both (read by position,
# a, b and c would swap and the accuracy would fall to chance); a test file
# without a column train has, or with it renamed, is an error of nnx check
# and nnx run at its csv(...) call, naming the column, and nothing is trained.
. "$(dirname "$0")/lib/run_common.sh"

cd "$tmp" || exit 2
awk 'BEGIN { srand(5)
  print "a,b,c,label" > "train.csv"; print "label,c,b,a" > "valid.csv"
  print "c,a,label,b" > "test.csv";  print "a,c,label" > "no_b.csv"; print "c,a,label,B" > "renamed.csv"
  for (i = 0; i < 900; i++) {
    a = rand(); b = 100 + 100 * rand(); c = 5 * rand(); y = (100 * a + 100 > b) ? "hi" : "lo"
    if (i < 600) print a "," b "," c "," y > "train.csv"
    else if (i < 750) print y "," c "," b "," a > "valid.csv"
    else { print c "," a "," y "," b > "test.csv"; print a "," c "," y > "no_b.csv"
           print c "," a "," y "," b > "renamed.csv" } } }'
cat >t.nnx <<'NNX'
data ab {
    train = csv("train.csv", label = "label")
    valid = csv("valid.csv", label = "label")
    test  = csv("test.csv", label = "label")
    normalize = standard
}
network net { dense(16) relu dense(2) }
experiment t { data = ab  model = net  epochs = 20  optimizer = adam(lr = 0.02)  metrics = [accuracy] }
NNX
expect 0 t.out "$nnx" run t.nnx --out runs --quiet
s=$(rundir runs)/summary.json
vacc=$(sed -n 's/^    "valid.accuracy": \([0-9.e-]*\),*$/\1/p' "$s")
tacc=$(sed -n 's/^    "test.accuracy": \([0-9.e-]*\),*$/\1/p' "$s")
awk -v v="$vacc" -v t="$tacc" 'BEGIN { exit !(v >= 0.95 && t >= 0.95) }' ||
    fail "columns in another order: valid accuracy $vacc, test $tacc (want >= 0.95: read by name)"

for f in no_b renamed; do
    sed "s/test.csv/$f.csv/" t.nnx >"$f.nnx"
    expect 2 "$f.check" "$nnx" check "$f.nnx"
    has "$f.check" "$f.nnx:4:13: error: test rows have no column \"b\", which train rows have"
    has "$f.check" "help: columns are matched to train's by name, in any order"
    expect 2 "$f.run" "$nnx" run "$f.nnx" --out "runs_$f" --quiet
    has "$f.run" "test rows have no column \"b\""
    [ -e "runs_$f" ] && fail "$f: a run directory was made"
done
if [ -x "$nnx_san" ]; then
    expect 2 san.out "$nnx_san" check no_b.nnx
fi
echo "run_csv_columns: ok (valid accuracy $vacc, test $tacc)"
