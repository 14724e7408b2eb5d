#!/bin/sh
# predict_roundtrip.sh — a trained model leaves nnx and comes back with the run's own numbers:
# for fashion_mlp and fashion_cnn (one epoch on a 6,000-image cut of Fashion-MNIST) and for CSV
# tables (classes with a Lua metric, a regression, a search, an ensemble), `nnx predict` on the
# test data reproduces test.accuracy exactly (on 1 or 2 threads) and `nnx eval --json` every
# test.* of summary.json; the per-row files (probs_*.f32, rows_valid.csv) agree with predict;
# an unlabelled test file (csv(..., label = none)) is predicted, not scored; README.md's C
# program builds and predicts the same classes.
. "$(dirname "$0")/lib/run_common.sh"

fm=${NNX_DATA:-/usr/share/datasets/fashion-mnist}
[ -f "$fm/train-images-idx3-ubyte.gz" ] ||
    fail "Fashion-MNIST is not in $fm (make data-deps installs dataset-fashion-mnist)"

# --- a cut of Fashion-MNIST: the first 6,000 training and 1,000 test images ----------------
be32() { printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) \
                                                $(($1 >> 8 & 255)) $(($1 & 255)))"; }
cut_images() {  # SRC N DST
    { printf '\000\000\010\003'; be32 "$2"; be32 28; be32 28
      gzip -dc "$1" 2>/dev/null | tail -c +17 | head -c $(($2 * 784)); } | gzip -1 >"$3"
}
cut_labels() {  # SRC N DST
    { printf '\000\000\010\001'; be32 "$2"
      gzip -dc "$1" 2>/dev/null | tail -c +9 | head -c "$2"; } | gzip -1 >"$3"
}
sub=$tmp/fm
mkdir -p "$sub"
cut_images "$fm/train-images-idx3-ubyte.gz" 6000 "$sub/train-images-idx3-ubyte.gz"
cut_labels "$fm/train-labels-idx1-ubyte.gz" 6000 "$sub/train-labels-idx1-ubyte.gz"
cut_images "$fm/t10k-images-idx3-ubyte.gz" 1000 "$sub/t10k-images-idx3-ubyte.gz"
cut_labels "$fm/t10k-labels-idx1-ubyte.gz" 1000 "$sub/t10k-labels-idx1-ubyte.gz"
gzip -dc "$sub/t10k-images-idx3-ubyte.gz" >"$tmp/t10k-images-plain"   # predict reads plain IDX too
gzip -dc "$sub/t10k-labels-idx1-ubyte.gz" | tail -c +9 | od -An -v -tu1 -w1 | tr -d ' ' >"$tmp/t10k.labels"

# The test.* lines of a JSON file's "metrics" (summary.json, nnx eval --json), one per line.
test_metrics() { grep '^    "test\.' "$1" | sed 's/^ *//; s/,$//'; }
# summary.json's test.accuracy
test_acc() { sed -n 's/^    "test.accuracy": \([0-9.e-]*\),*$/\1/p' "$1/summary.json"; }
# The fraction of rows of predict's CSV whose class (column 1) is the label on the same line of LABELS.
accuracy_of() {  # PREDICTED.csv LABELS
    tail -n +2 "$1" | cut -d, -f1 | paste -d, - "$2" |
        awk -F, '{ n++; c += ($1 == $2) } END { printf "%d %d\n", c, n }'
}
same_accuracy() {  # WHAT PREDICTED.csv LABELS RUNDIR
    set -- "$1" "$2" "$3" "$4" $(accuracy_of "$2" "$3")
    acc=$(test_acc "$4")
    [ -n "$acc" ] || fail "$1: no test.accuracy in $4/summary.json"
    awk -v c="$5" -v n="$6" -v a="$acc" 'BEGIN { exit !(c / n == a + 0) }' ||
        fail "$1: nnx predict gets $5 of $6 right, the run's test.accuracy is $acc"
}
same_eval() {  # WHAT EVAL.json RUNDIR
    test_metrics "$2" >"$tmp/eval.m"
    test_metrics "$3/summary.json" >"$tmp/summary.m"
    [ -s "$tmp/summary.m" ] || fail "$1: no test metrics in summary.json"
    cmp -s "$tmp/eval.m" "$tmp/summary.m" ||
        { diff "$tmp/summary.m" "$tmp/eval.m" >&2; fail "$1: nnx eval differs from summary.json"; }
}

for ex in fashion_mlp fashion_cnn; do
    expect 0 "$tmp/out" env NNX_DATA="$sub" "$nnx" run "$root/examples/$ex.nnx" --set epochs=1 \
        --set schedule.warmup=0 --out "$tmp/$ex" --quiet
    d=$(rundir "$tmp/$ex")
    expect 0 "$tmp/err" "$nnx" predict "$d" "$sub/t10k-images-idx3-ubyte.gz" -o "$tmp/$ex.csv"
    [ "$(nrows "$tmp/$ex.csv")" = 1000 ] || fail "$ex: expected 1000 predictions"
    same_accuracy "$ex" "$tmp/$ex.csv" "$tmp/t10k.labels" "$d"
    expect 0 "$tmp/plain.csv" "$nnx" predict "$d" "$tmp/t10k-images-plain" -j 2
    cmp -s "$tmp/plain.csv" "$tmp/$ex.csv" || fail "$ex: plain IDX on 2 threads predicts differently"
    expect 0 "$tmp/eval.json" "$nnx" eval "$d" "$sub/t10k-images-idx3-ubyte.gz" \
        "$sub/t10k-labels-idx1-ubyte.gz" --json
    same_eval "$ex" "$tmp/eval.json" "$d"
done
head -n 1 "$tmp/fashion_mlp.csv" | grep -qx class || fail "predict's header is not 'class'"

# README.md's C program (its one ```c block) builds against libnnx.a as README says and
# names the classes nnx predict gives the first three rows
awk '/^```c$/ { on = 1; next } /^```/ { on = 0 } on' "$root/README.md" >"$tmp/serve.c"
grep -q nnx_model_predict "$tmp/serve.c" || fail "README.md: no C program calling nnx_model_predict"
expect 0 "$tmp/serve.cc" ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$root/include" "$tmp/serve.c" \
    "$root/build/rel/libnnx.a" $(pkg-config --libs lua5.4 openblas zlib) -lm -o "$tmp/serve"
expect 0 "$tmp/serve.out" "$tmp/serve" "$(rundir "$tmp/fashion_mlp")" "$sub/t10k-images-idx3-ubyte.gz"
tail -n +2 "$tmp/fashion_mlp.csv" | head -n 3 | cut -d, -f1 | awk '{ print "row " NR - 1 ": " $1 }' \
    >"$tmp/serve.want"
cmp -s "$tmp/serve.out" "$tmp/serve.want" ||
    { diff "$tmp/serve.want" "$tmp/serve.out" >&2; fail "README.md's C program predicts otherwise"; }

# --- CSV: text classes, columns by name, a Lua metric, minmax ------------------------------
awk 'BEGIN { srand(5); split("cat dog eel", n, " ")
             print "a,kind,b,c" > "'"$tmp"'/train.csv"; print "a,kind,b,c" > "'"$tmp"'/test.csv"
             for (i = 0; i < 750; i++) { k = i % 3
                 line = sprintf("%.4f,%s,%.4f,%.4f", k + 1.5 * rand(), n[k + 1], 3 * rand(), 2 * k - 3 * rand())
                 print line > (i < 600 ? "'"$tmp"'/train.csv" : "'"$tmp"'/test.csv") } }'
cat >"$tmp/hooks.lua" <<'LUA'
function hits(y, p)     -- the fraction of rows whose true class gets more than 1/2
  local n = 0
  for i = 1, #y do if p[i][y[i]] > 0.5 then n = n + 1 end end
  return n / #y
end
LUA
cat >"$tmp/pets.nnx" <<NNX
data pets {
    train = csv("$tmp/train.csv", label = "kind")
    test  = csv("$tmp/test.csv", label = "kind")
    valid = split(train, 0.2)
    normalize = minmax
}
network net { dense(16) swish dense(3) }
experiment classify {
    data = pets  model = net  optimizer = adam(lr = 0.01)  epochs = 4  batch = 32
    metrics = [accuracy, auc, f1, lua.hits]  select = max(valid.accuracy)
    hooks = "hooks.lua"
}
experiment grid extends classify { search grid { optimizer.lr in [0.001, 0.01] } }
experiment members extends classify { ensemble { seeds = 2 } }
NNX
expect 0 "$tmp/out" "$nnx" run "$tmp/pets.nnx" classify --out "$tmp/pets" --quiet
d=$(rundir "$tmp/pets")
tail -n +2 "$tmp/test.csv" | cut -d, -f2 >"$tmp/test.labels"
expect 0 "$tmp/err" "$nnx" predict "$d" "$tmp/test.csv" -o "$tmp/pets.csv" --probs
head -n 1 "$tmp/pets.csv" | grep -qx 'class,cat,dog,eel' || fail "--probs header: $(head -n 1 "$tmp/pets.csv")"
same_accuracy csv "$tmp/pets.csv" "$tmp/test.labels" "$d"
expect 0 "$tmp/eval.json" "$nnx" eval "$d" "$tmp/test.csv" --json
same_eval csv "$tmp/eval.json" "$d"
grep -q '"test.hits"' "$tmp/eval.json" || fail "nnx eval left out the Lua metric"
expect 0 "$tmp/eval.txt" "$nnx" eval "$d" "$tmp/test.csv"
has "$tmp/eval.txt" "^test        test.loss = .*, test.hits = "

# the columns in another order, without the label, with an extra one: the same predictions
awk -F, '{ print ($1 == "a" ? "note" : "x") "," $4 "," $1 "," $3 }' "$tmp/test.csv" >"$tmp/shuffled.csv"
expect 0 "$tmp/err" "$nnx" predict "$d" "$tmp/shuffled.csv" -o "$tmp/shuffled.out" --probs
cmp -s "$tmp/shuffled.out" "$tmp/pets.csv" || fail "reordered columns predict differently"
has "$tmp/err" "note: .*shuffled.csv: 1 column the model does not read, ignored: note"
[ "$(grep -c note "$tmp/err")" = 1 ] || fail "the extra column is noted more than once"

# probs_valid.f32 holds the rows rows_valid.csv names, as predict sees them
[ "$(nrows "$d/rows_valid.csv")" = 120 ] || fail "rows_valid.csv: expected 120 rows"
awk 'NR == FNR { if (FNR > 1) want[$1 + 2] = 1; next } FNR == 1 || want[FNR]' \
    "$d/rows_valid.csv" "$tmp/train.csv" >"$tmp/valid.csv"
expect 0 "$tmp/err" "$nnx" predict "$d" "$tmp/valid.csv" -o "$tmp/valid.out" --probs
f32() { od -An -v -tf4 -j $((16 + 4 * $2)) "$1" | tr -s ' ' '\n' | sed '/^$/d'; }   # FILE ROWS
close() {  # A B: two lists of numbers equal to float precision
    tail -n +2 "$1" | cut -d, -f2- | tr ',' '\n' | paste -d' ' - "$2" |
        awk '{ n++; d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6 * ($1 < 0 ? -$1 : $1) + 1e-12) bad++ }
             END { exit !(n > 0 && !bad) }'
}
f32 "$d/probs_valid.f32" 120 >"$tmp/pv"
close "$tmp/valid.out" "$tmp/pv" || fail "probs_valid.f32 differs from nnx predict on rows_valid.csv's rows"
f32 "$d/probs_test.f32" 150 >"$tmp/pt"
close "$tmp/pets.csv" "$tmp/pt" || fail "probs_test.f32 differs from nnx predict on the test file"

# test cut from train too: rows_test.csv names its rows, and predict on them is the run's test
sed "s|test  = csv(\"$tmp/test.csv\", label = \"kind\")|test  = split(train, 0.25)|" "$tmp/pets.nnx" >"$tmp/cut.nnx"
expect 0 "$tmp/out" "$nnx" run "$tmp/cut.nnx" classify --out "$tmp/cut" --quiet
c=$(rundir "$tmp/cut")
[ "$(nrows "$c/rows_test.csv")" = 150 ] || fail "rows_test.csv: expected 150 rows"
awk 'NR == FNR { if (FNR > 1) at[$1 + 2] = FNR; next } FNR == 1 { print; next }
     FNR in at { row[at[FNR]] = $0 } END { for (i = 2; i in row; i++) print row[i] }' \
    "$c/rows_test.csv" "$tmp/train.csv" >"$tmp/cut_test.csv"
expect 0 "$tmp/err" "$nnx" predict "$c" "$tmp/cut_test.csv" -o "$tmp/cut.out" --probs
tail -n +2 "$tmp/cut_test.csv" | cut -d, -f2 >"$tmp/cut.labels"
same_accuracy cut "$tmp/cut.out" "$tmp/cut.labels" "$c"
f32 "$c/probs_test.f32" 150 >"$tmp/pc"
close "$tmp/cut.out" "$tmp/pc" || fail "probs_test.f32 differs from nnx predict on rows_test.csv's rows"

# a search predicts with its winner, an ensemble with its members' mean
expect 0 "$tmp/out" "$nnx" run "$tmp/pets.nnx" grid --out "$tmp/grid" --quiet
g=$(rundir "$tmp/grid")
w=$(sed -n 's/^  "winner": "\(.*\)",$/\1/p' "$g/summary.json")
expect 0 "$tmp/g.csv" "$nnx" predict "$g" "$tmp/test.csv" --probs
expect 0 "$tmp/w.csv" "$nnx" predict "$g/trials/$w" "$tmp/test.csv" --probs
cmp -s "$tmp/g.csv" "$tmp/w.csv" || fail "a search does not predict with its winner ($w)"
expect 0 "$tmp/out" "$nnx" run "$tmp/pets.nnx" members --out "$tmp/ens" --quiet
e=$(rundir "$tmp/ens")
expect 0 "$tmp/eval.json" "$nnx" eval "$e" "$tmp/test.csv" --json
sed -n '/^  "ensemble": {/,$p' "$e/summary.json" | grep '^      "test\.' | sed 's/^ *//; s/,$//' >"$tmp/ens.m"
test_metrics "$tmp/eval.json" >"$tmp/eval.m"
[ -s "$tmp/ens.m" ] && cmp -s "$tmp/ens.m" "$tmp/eval.m" ||
    { diff "$tmp/ens.m" "$tmp/eval.m" >&2; fail "nnx eval of the ensemble differs from its summary"; }

# --- an unlabelled test file is predicted (probs_test.f32), not scored -----------------------
cut -d, -f1,3,4 "$tmp/test.csv" >"$tmp/unlabelled.csv"
sed "s|test  = csv(\"$tmp/test.csv\", label = \"kind\")|test  = csv(\"$tmp/unlabelled.csv\", label = none)|" \
    "$tmp/pets.nnx" >"$tmp/unl.nnx"
expect 0 "$tmp/out" "$nnx" run "$tmp/unl.nnx" classify --out "$tmp/unl" --quiet
u=$(rundir "$tmp/unl")
grep -q '"test\.' "$u/summary.json" && fail "an unlabelled test split was scored"
expect 0 "$tmp/u.csv" "$nnx" predict "$u" "$tmp/unlabelled.csv" --probs
f32 "$u/probs_test.f32" 150 >"$tmp/pu"
close "$tmp/u.csv" "$tmp/pu" || fail "probs_test.f32 of an unlabelled file differs from nnx predict"
od -An -v -td4 -j 16 -N 600 "$u/probs_test.f32" | tr -s ' ' '\n' | sed '/^$/d' | sort -u |
    grep -qx -- -1 || fail "unlabelled rows are not labelled -1 in probs_test.f32"

# --- regression: the predicted value ---------------------------------------------------------
awk 'BEGIN { srand(9); print "u,v,y" > "'"$tmp"'/reg.csv"; print "u,v,y" > "'"$tmp"'/reg_test.csv"
             for (i = 0; i < 400; i++) { u = rand(); v = rand()
                 printf "%.4f,%.4f,%.4f\n", u, v, 2 * u - v + 0.05 * rand() > (i < 320 ? "'"$tmp"'/reg.csv" : "'"$tmp"'/reg_test.csv") } }'
cat >"$tmp/reg.nnx" <<NNX
data t { train = csv("$tmp/reg.csv", label = "y")  test = csv("$tmp/reg_test.csv", label = "y")
         valid = split(train, 0.2)  normalize = standard }
network net { dense(8) tanh dense(1) }
experiment reg { data = t  model = net  loss = mse  optimizer = adam(lr = 0.01)  epochs = 5
                 batch = 16  metrics = [mae, mse]  select = min(valid.mae) }
NNX
expect 0 "$tmp/out" "$nnx" run "$tmp/reg.nnx" --out "$tmp/reg" --quiet
r=$(rundir "$tmp/reg")
expect 0 "$tmp/r.csv" "$nnx" predict "$r" "$tmp/reg_test.csv"
head -n 1 "$tmp/r.csv" | grep -qx value || fail "regression predict's header is not 'value'"
[ "$(nrows "$tmp/r.csv")" = 80 ] || fail "regression: expected 80 values"
expect 0 "$tmp/eval.json" "$nnx" eval "$r" "$tmp/reg_test.csv" --json
same_eval regression "$tmp/eval.json" "$r"

echo "predict_roundtrip: ok (fashion_mlp, fashion_cnn, CSV classes, search, ensemble, unlabelled, regression)"
