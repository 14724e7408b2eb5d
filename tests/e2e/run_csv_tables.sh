#!/bin/sh
# run_csv_tables.sh — tables as users bring them: a text column one-hot encoded
# (categorical = [...]), missing cells filled with the train mean plus an
# indicator, a test file with a category train never had (all zeros, noted) and
# its columns in another order; the run learns the rule hidden in the text
# column, and nnx predict / nnx eval apply the run's encoding from model.json
# to new rows with the same result as the run's own test split.
. "$(dirname "$0")/lib/run_common.sh"

# bought = the colour is red, or the age is over 50 (not both); 5% of ages
# and incomes are missing (empty or NA); the test file adds the city Lima
awk 'BEGIN { srand(3); split("red green blue", col, " "); split("NYC Oslo Rome Paris Lima", city, " ")
             print "age,color,city,income,bought" > "'"$tmp"'/train.csv"
             print "city,income,color,age,bought" > "'"$tmp"'/test.csv"
             for (i = 0; i < 600; i++) {
                 c = col[1 + int(3 * rand())]; t = city[1 + int((i < 400 ? 4 : 5) * rand())]
                 age = 18 + int(63 * rand()); inc = sprintf("%.1f", 30 + 40 * rand())
                 y = ((c == "red") != (age > 50)) ? "yes" : "no"
                 a = rand() < 0.05 ? "" : age; m = rand() < 0.05 ? "NA" : inc
                 if (i < 400) print a "," c "," t "," m "," y > "'"$tmp"'/train.csv"
                 else print t "," m "," c "," a "," y > "'"$tmp"'/test.csv" } }'
cat >"$tmp/shop.nnx" <<'NNX'
data shop {
    train = csv("train.csv", label = "bought", categorical = ["color", "city"], missing = mean)
    test  = csv("test.csv", label = "bought")
    valid = split(train, 0.2)
    normalize = standard
}
network net { dense(32) relu dense(2) }
experiment buy {
    data = shop  model = net  optimizer = adam(lr = 0.01)  epochs = 40  batch = 32
    metrics = [accuracy]  select = max(valid.accuracy)
}
NNX
expect 0 "$tmp/check" "$nnx" check "$tmp/shop.nnx"
expect 0 "$tmp/out" "$nnx" run "$tmp/shop.nnx" --out "$tmp/runs"
# age, age:missing, 3 colours, 4 cities, income, income:missing
has "$tmp/out" "320 train, 80 valid, 200 test rows, 11 features, 2 classes"
has "$tmp/out" "data: train: .* missing cells filled (missing = mean)"
has "$tmp/out" "test: [0-9]* cells of a category the train data lacks, encoded as all zeros (the first: line [0-9]*, column 1 (\"city\"): \"Lima\")"
d=$(rundir "$tmp/runs")
acc=$(sed -n 's/^    "test.accuracy": \([0-9.e-]*\),*$/\1/p' "$d/summary.json")
loss=$(sed -n 's/^    "test.loss": \([0-9.e-]*\),*$/\1/p' "$d/summary.json")
awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }' || fail "test accuracy $acc < 0.9: the colour was not learnt"
has "$d/model.json" '"encode": "onehot"'
has "$d/model.json" '"indicator": true'
# the categories train has, sorted (not in the order the rows bring them;
# Lima, only in the test file, is not one)
tr -d ' \n' <"$d/model.json" >"$tmp/model1"
has "$tmp/model1" '"name":"color","encode":"onehot","categories":\["blue","green","red"\]'
has "$tmp/model1" '"name":"city","encode":"onehot","categories":\["NYC","Oslo","Paris","Rome"\]'
has "$d/experiment.nnx" 'categorical = \["color", "city"\], missing = mean'

# nnx eval on the test file gives the run's own test loss; predict notes Lima
expect 0 "$tmp/eval" "$nnx" eval "$d" "$tmp/test.csv"
has "$tmp/eval" "test.loss = $(awk -v l="$loss" 'BEGIN { printf "%.6g", l }')"
has "$tmp/eval" "note: .*test.csv: [0-9]* cells of a category the training data lacks"
expect 0 "$tmp/pred" "$nnx" predict "$d" "$tmp/test.csv"
[ "$(grep -c -e '^yes$' -e '^no$' "$tmp/pred")" = 200 ] || { cat "$tmp/pred"; fail "predict did not give 200 classes"; }
printf 'age,color,city,income\n40,red,Oslo,\n' >"$tmp/one.csv"
expect 0 "$tmp/pred1" "$nnx" predict "$d" "$tmp/one.csv"
has "$tmp/pred1" "missing cell filled as in training"
printf 'age,city,income\n40,Oslo,50\n' >"$tmp/nocolor.csv"
expect 2 "$tmp/pred2" "$nnx" predict "$d" "$tmp/nocolor.csv"
has "$tmp/pred2" 'no column "color", which the model reads'

# the same data without categorical: nnx check points at the text column
sed 's/, categorical = \["color", "city"\], missing = mean//' "$tmp/shop.nnx" >"$tmp/plain.nnx"
expect 2 "$tmp/err" "$nnx" check "$tmp/plain.nnx"
has "$tmp/err" 'error: train.csv:[0-9]*: column 1 ("age"): empty cell'
sed 's/categorical = \["color", "city"\], //' "$tmp/shop.nnx" >"$tmp/nocat.nnx"
expect 2 "$tmp/err" "$nnx" "check" "$tmp/nocat.nnx"
has "$tmp/err" 'column 2 ("color"): "[a-z]*" is not a number'
has "$tmp/err" '= help: add categorical = \["color"\]'
# and the sanitizer build loads, encodes and trains it cleanly
if [ -x "$nnx_san" ]; then
    expect 0 "$tmp/san" "$nnx_san" run "$tmp/shop.nnx" --out "$tmp/san_runs" --set epochs=2 --quiet
fi
echo "run_csv_tables: ok (test accuracy $acc)"
