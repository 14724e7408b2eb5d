#!/bin/sh
# predict_errors.sh — bad input to nnx predict and nnx eval is a clear message and exit 2, and
# leaves no output file (an existing one keeps its contents): a CSV missing a column (named,
# with a likely misspelling), a non-number or empty cell (file:line, column), a ragged row,
# images of the wrong size, a run without weights (saying the run's status), a wrong RUN, a
# label the model does not know, flags.  Extra columns are ignored and noted once.  An output
# that cannot be written (a full device, a directory, no such directory) is exit 1 and
# leaves nothing behind.
. "$(dirname "$0")/lib/run_common.sh"

awk 'BEGIN { srand(3); split("cat dog", n, " "); print "height,weight,kind" > "'"$tmp"'/train.csv"
             for (i = 0; i < 200; i++) { k = i % 2
                 printf "%.3f,%.3f,%s\n", 3 * k + rand(), rand(), n[k + 1] > "'"$tmp"'/train.csv" } }'
cat >"$tmp/t.nnx" <<NNX
data t { train = csv("$tmp/train.csv", label = "kind")  valid = split(train, 0.2)
         normalize = standard }
network net { dense(8) relu dense(2) }
experiment ok { data = t  model = net  optimizer = adam(lr = 0.01)  epochs = 2  batch = 16
                metrics = [accuracy]  select = max(valid.accuracy) }
NNX
expect 0 "$tmp/out" "$nnx" run "$tmp/t.nnx" --out "$tmp/ok" --quiet
d=$(rundir "$tmp/ok")

echo old >"$tmp/kept.csv"
bad() {  # STATUS-2 CASE EXPECTED-TEXT CMD...: exit 2, the text, -o FILE neither made nor touched
    what=$1 text=$2; shift 2
    expect 2 "$tmp/err" "$@"
    has "$tmp/err" "$text"
    grep -q "^old$" "$tmp/kept.csv" && [ "$(wc -l <"$tmp/kept.csv")" = 1 ] ||
        fail "$what: the output file was touched"
    ls "$tmp"/kept.csv.tmp* >/dev/null 2>&1 && fail "$what: a temporary output file was left"
    return 0
}
p() { bad "$@"; }

printf 'heigth,weight\n1,2\n' >"$tmp/typo.csv"
p typo 'typo.csv: no column "height", which the model reads; the file.s column "heigth" is not one of the model.s: did you mean "height"?' \
    "$nnx_san" predict "$d" "$tmp/typo.csv" -o "$tmp/kept.csv"
printf 'weight,size\n1,2\n' >"$tmp/missing.csv"
p missing 'missing.csv: no column "height", which the model reads (the model reads height, weight; the file has weight, size)' \
    "$nnx_san" predict "$d" "$tmp/missing.csv" -o "$tmp/kept.csv"
printf 'height,weight\n1,2\n3,x\n' >"$tmp/nan.csv"
p cell 'nan.csv:3: column 2 ("weight"): "x" is not a number' \
    "$nnx_san" predict "$d" "$tmp/nan.csv" -o "$tmp/kept.csv"
printf 'height,weight\n1,2\n\n3,\n' >"$tmp/empty.csv"
p empty 'empty.csv:4: column 2 ("weight"): empty cell' "$nnx_san" predict "$d" "$tmp/empty.csv" -o "$tmp/kept.csv"
printf 'height,weight\n1,2\n3\n' >"$tmp/ragged.csv"
p ragged 'ragged.csv:3: ragged row' "$nnx_san" predict "$d" "$tmp/ragged.csv" -o "$tmp/kept.csv"
printf 'height,weight\n' >"$tmp/header.csv"
p header 'header.csv: a header row but no data rows' "$nnx_san" predict "$d" "$tmp/header.csv" -o "$tmp/kept.csv"
p nofile 'nnx predict: .*none.csv: cannot open' "$nnx_san" predict "$d" "$tmp/none.csv" -o "$tmp/kept.csv"

# extra columns: ignored, noted once; the label column is neither read nor noted
printf 'p,kind,weight,q,height\n1,cat,0.5,2,3\n0,dog,0.2,1,0.1\n' >"$tmp/extra.csv"
expect 0 "$tmp/pred" "$nnx_san" predict "$d" "$tmp/extra.csv" -o "$tmp/extra.out"
has "$tmp/pred" "note: .*extra.csv: 2 columns the model does not read, ignored: p, q"
[ "$(grep -c 'note:' "$tmp/pred")" = 1 ] || fail "extra columns noted more than once"
[ "$(nrows "$tmp/extra.out")" = 2 ] || fail "extra columns: expected 2 predictions"

# images of another size than the model's
be32() { printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) \
                                                $(($1 >> 8 & 255)) $(($1 & 255)))"; }
idx_images() {  # N SIDE FILE: N random SIDE×SIDE images
    { printf '\000\000\010\003'; be32 "$1"; be32 "$2"; be32 "$2"
      head -c $(($1 * $2 * $2)) /dev/urandom; } >"$3"
}
{ printf '\000\000\010\001'; be32 40; i=0; while [ $i -lt 40 ]; do printf "\\00$((i % 2))"; i=$((i + 1)); done; } >"$tmp/labels.idx"
idx_images 40 4 "$tmp/images.idx"
cat >"$tmp/img.nnx" <<NNX
data img { train = idx("$tmp/images.idx", "$tmp/labels.idx")  valid = split(train, 0.25)
           shape = [1, 4, 4] }
network net { conv(2, 3, pad = 1) relu flatten dense(2) }
experiment pixels { data = img  model = net  optimizer = adam(lr = 0.01)  epochs = 1  batch = 10
                 metrics = [accuracy]  select = max(valid.accuracy) }
NNX
expect 0 "$tmp/out" "$nnx" run "$tmp/img.nnx" --out "$tmp/img" --quiet
im=$(rundir "$tmp/img")
expect 0 "$tmp/out" "$nnx_san" predict "$im" "$tmp/images.idx"
idx_images 3 5 "$tmp/five.idx"
p size 'five.idx: images of 5×5 pixels; the model takes 1×4×4 (16 features)' \
    "$nnx_san" predict "$im" "$tmp/five.idx" -o "$tmp/kept.csv"
gzip -c "$tmp/five.idx" >"$tmp/five.idx.gz"
p size-gz 'five.idx.gz: images of 5×5 pixels' "$nnx_san" predict "$im" "$tmp/five.idx.gz" -o "$tmp/kept.csv"
head -c 100 "$tmp/images.idx" >"$tmp/short.idx"
p truncated 'short.idx: file is truncated' "$nnx_san" predict "$im" "$tmp/short.idx" -o "$tmp/kept.csv"

# runs without weights say what state they are in
cat >"$tmp/boom.lua" <<'LUA'
function on_epoch_end(run) error("boom") end
LUA
sed 's/experiment ok {/experiment boom { hooks = "boom.lua"/' "$tmp/t.nnx" >"$tmp/boom.nnx"
expect 1 "$tmp/out" "$nnx" run "$tmp/boom.nnx" --out "$tmp/boom" --quiet
p failed 'no weights.nnxw: the run is failed (no epoch.s weights were kept): .*boom' \
    "$nnx_san" predict "$(rundir "$tmp/boom")" "$tmp/extra.csv" -o "$tmp/kept.csv"
sed 's/adam(lr = 0.01)/sgd(lr = 1e12)/' "$tmp/t.nnx" >"$tmp/div.nnx"
expect 1 "$tmp/out" "$nnx" run "$tmp/div.nnx" --out "$tmp/div" --quiet
p diverged 'no weights.nnxw: the run is diverged (no epoch.s weights were kept): loss became' \
    "$nnx_san" predict "$(rundir "$tmp/div")" "$tmp/extra.csv" -o "$tmp/kept.csv"
# a run killed before it ended (summary.json still says running), and an interrupted one
cp -r "$d" "$tmp/killed"
rm "$tmp/killed/weights.nnxw"
sed -i 's/"status": "completed"/"status": "running"/' "$tmp/killed/summary.json"
p running 'killed: no weights.nnxw yet: the run is still running' \
    "$nnx_san" eval "$tmp/killed" "$tmp/extra.csv"
sed -i 's/"status": "running"/"status": "interrupted"/' "$tmp/killed/summary.json"
p interrupted 'killed: no weights.nnxw: the run is interrupted' \
    "$nnx_san" predict "$tmp/killed" "$tmp/extra.csv" -o "$tmp/kept.csv"
cp -r "$d" "$tmp/old"
rm "$tmp/old/model.json"
p old-run 'old: no model.json beside the weights' "$nnx_san" predict "$tmp/old" "$tmp/extra.csv"
p no-dir 'nnx predict: .*nowhere: no such directory' "$nnx_san" predict "$tmp/nowhere" "$tmp/extra.csv"

# eval needs labels the model knows
p no-label 'no label column "kind": labelled data needs the training file.s label column' \
    "$nnx_san" eval "$d" "$tmp/typo.csv"
printf 'height,weight,kind\n1,2,cat\n1,2,fox\n' >"$tmp/fox.csv"
p fox 'fox.csv: data row 2: the label "fox" is not a class of the model (cat, dog)' \
    "$nnx_san" eval "$d" "$tmp/fox.csv"
p idx-labels 'images.idx is an IDX images file: give its labels file too' \
    "$nnx_san" eval "$im" "$tmp/images.idx"
p csv-labels 'extra.csv is a CSV file, which holds its labels' \
    "$nnx_san" eval "$d" "$tmp/extra.csv" "$tmp/labels.idx"

# flags
p usage 'missing DATA' "$nnx_san" predict "$d"
p usage "unknown option '--prob' (did you mean '--probs'?)" "$nnx_san" predict "$d" "$tmp/extra.csv" --prob
p usage 'extra argument' "$nnx_san" eval "$d" a b c
p usage '-o needs a value' "$nnx_san" predict "$d" "$tmp/extra.csv" -o

# the output cannot be written: exit 1 (the input was fine), a clear message,
# no file (or temporary) left behind, a device left a device
expect 1 "$tmp/err" "$nnx_san" predict "$d" "$tmp/extra.csv" -o "$tmp/no/such/out.csv"
has "$tmp/err" "nnx predict: .*no/such/out.csv.tmp: cannot create: No such file or directory"
expect 1 "$tmp/err" "$nnx_san" predict "$d" "$tmp/extra.csv" -o /dev/full
has "$tmp/err" "^nnx predict: /dev/full: cannot write: No space left on device$"
[ -c /dev/full ] || fail "predict -o /dev/full replaced the device"
ls /dev/full.tmp* >/dev/null 2>&1 && fail "predict -o /dev/full left a temporary in /dev"
mkdir "$tmp/outdir"
expect 1 "$tmp/err" "$nnx_san" predict "$d" "$tmp/extra.csv" -o "$tmp/outdir"
has "$tmp/err" "^nnx predict: .*outdir: cannot write: it is a directory$"
[ -z "$(ls "$tmp/outdir")" ] || fail "predict -o DIR wrote into it"
ls -d "$tmp"/outdir.tmp* >/dev/null 2>&1 && fail "predict -o DIR left a temporary"
"$nnx_san" predict "$d" "$tmp/extra.csv" >/dev/full 2>"$tmp/err"
[ $? = 1 ] || fail "predict >/dev/full: exit $?, expected 1"
has "$tmp/err" "^nnx predict: stdout: cannot write: No space left on device$"
# a device that takes the bytes is written in place
rows=$("$nnx_san" predict "$d" "$tmp/extra.csv" -o /dev/stdout 2>/dev/null | grep -c '^\(cat\|dog\)$')
[ "$rows" = 2 ] || fail "predict -o /dev/stdout (a pipe): $rows predictions, expected 2"
"$nnx_san" predict "$d" "$tmp/extra.csv" -o /dev/stdout >"$tmp/so" 2>/dev/null ||
    fail "predict -o /dev/stdout (a file) failed"
[ -L /dev/stdout ] || fail "predict -o /dev/stdout replaced the link with a file"
[ "$(grep -c '^\(cat\|dog\)$' "$tmp/so")" = 2 ] || fail "predict -o /dev/stdout (a file): $(cat "$tmp/so")"
# a link to a file: the file is replaced, the link stays
echo old >"$tmp/real.csv"
ln -s real.csv "$tmp/link.csv"
expect 0 "$tmp/out" "$nnx_san" predict "$d" "$tmp/extra.csv" -o "$tmp/link.csv"
[ -L "$tmp/link.csv" ] && [ "$(nrows "$tmp/real.csv")" = 2 ] || fail "predict -o LINK: the link or its file is wrong"
echo "predict_errors: ok"
