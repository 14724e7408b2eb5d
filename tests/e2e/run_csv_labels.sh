#!/bin/sh
# run_csv_labels.sh — CSV class labels: a test file gets the train file's class numbers even
# when it lacks a class (each file once numbered its own labels, so test metrics were wrong),
# a label the train file lacks is an error, and the label of each class is in summary.json.
. "$(dirname "$0")/lib/run_common.sh"

# x is 4 × the class index plus noise: any network separates the classes exactly
awk 'BEGIN { srand(1); split("cat dog eel", n, " ")
             print "x,kind" > "'"$tmp"'/train.csv"; print "x,kind" > "'"$tmp"'/test.csv"
             print "x,kind" > "'"$tmp"'/num_train.csv"; print "x,kind" > "'"$tmp"'/num_test.csv"
             for (i = 0; i < 300; i++) { c = i % 3; x = 4 * c + 2 * rand() - 1
                 printf "%.3f,%s\n", x, n[c + 1] > "'"$tmp"'/train.csv"
                 printf "%.3f,%d\n", x, c > "'"$tmp"'/num_train.csv" }
             for (i = 0; i < 60; i++) { c = 2 * (i % 2); x = 4 * c + 2 * rand() - 1
                 printf "%.3f,%s\n", x, n[c + 1] > "'"$tmp"'/test.csv"
                 printf "%.3f,%d\n", x, c > "'"$tmp"'/num_test.csv" } }'
printf 'x,kind\n0.1,cat\n8.2,fox\n' >"$tmp/fox.csv"
write_exp() {  # FILE TRAIN TEST
    cat >"$1" <<NNX
data pets {
    train = csv("$2", label = "kind")
    test  = csv("$3", label = "kind")
    valid = split(train, 0.2)
}
network net { dense(16) relu dense(3) }
experiment classify {
    data = pets  model = net  optimizer = adam(lr = 0.05)  epochs = 30  batch = 16
    metrics = [accuracy]  select = max(valid.accuracy)
}
NNX
}
test_acc() { sed -n 's/^    "test.accuracy": \([0-9.e-]*\),*$/\1/p' "$1/summary.json"; }

# text labels: the test file has cat and eel only
write_exp "$tmp/text.nnx" train.csv test.csv
expect 0 "$tmp/out" "$nnx" run "$tmp/text.nnx" --out "$tmp/a" --quiet
d=$(rundir "$tmp/a")
awk -v a="$(test_acc "$d")" 'BEGIN { exit !(a >= 0.95) }' || fail "text labels: test accuracy $(test_acc "$d")"
tr -d ' \n' <"$d/summary.json" | grep -q '"class_names":\["cat","dog","eel"\]' ||
    fail "summary.json does not record the classes: $(cat "$d/summary.json")"

# integer labels: train 0, 1, 2; test 0 and 2 only
write_exp "$tmp/num.nnx" num_train.csv num_test.csv
expect 0 "$tmp/out" "$nnx" run "$tmp/num.nnx" --out "$tmp/b" --quiet
d=$(rundir "$tmp/b")
awk -v a="$(test_acc "$d")" 'BEGIN { exit !(a >= 0.95) }' || fail "integer labels: test accuracy $(test_acc "$d")"
grep -q class_names "$d/summary.json" && fail "labels 0..k-1 need no class_names"

# a test label the train data does not have
write_exp "$tmp/fox.nnx" train.csv fox.csv
expect 2 "$tmp/out" "$nnx_san" run "$tmp/fox.nnx" --out "$tmp/c"
has "$tmp/out" "the test data has the label 'fox', which the train data does not have"
# a network with fewer outputs than the CSV file has classes: found when the file is loaded,
# reported at the network's last layer
sed 's/dense(3) }/dense(2) }/' "$tmp/text.nnx" >"$tmp/two.nnx"
expect 2 "$tmp/out" "$nnx" run "$tmp/two.nnx" --out "$tmp/f"
has "$tmp/out" "two.nnx:6:30: the network gives 2 outputs, but data 'pets' has 3 classes (labels cat, dog, eel)"
has "$tmp/out" "end with dense(3)"
[ ! -d "$tmp/f" ] || [ -z "$(ls "$tmp/f")" ] || fail "a run directory was made for a network that does not fit"

# csv(..., classes = [...]) keeps the rows of the listed labels, renumbered in the list's order
cat >"$tmp/keep.nnx" <<NNX
data pets {
    train = csv("num_train.csv", label = "kind", classes = [2, 0])
    valid = split(train, 0.2)
}
network net { dense(16) relu dense(2) }
experiment keep {
    data = pets  model = net  optimizer = adam(lr = 0.05)  epochs = 5  batch = 16
    metrics = [accuracy]
}
NNX
expect 0 "$tmp/out" "$nnx_san" run "$tmp/keep.nnx" --out "$tmp/d"
has "$tmp/out" "160 train, 40 valid rows, 1 features, 2 classes"
tr -d ' \n' <"$(rundir "$tmp/d")/summary.json" | grep -q '"class_names":\["2","0"\]' ||
    fail "classes = [2, 0]: class_names"
sed 's/classes = \[2, 0\]/classes = [2, 5]/' "$tmp/keep.nnx" >"$tmp/keep5.nnx"
expect 2 "$tmp/out" "$nnx" run "$tmp/keep5.nnx" --out "$tmp/e"
has "$tmp/out" "num_train.csv: class 5 does not occur in the label column"
sed 's/num_train.csv/train.csv/' "$tmp/keep.nnx" >"$tmp/keept.nnx"
expect 2 "$tmp/out" "$nnx" run "$tmp/keept.nnx" --out "$tmp/e"
has "$tmp/out" "classes = \[...\] lists numbers, but the label column holds text ('cat')"
echo "run_csv_labels: ok"
