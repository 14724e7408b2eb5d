#!/bin/sh
# cli_mistakes.sh — user mistakes on the command line and in data files, through the real
# binary and the ASan+UBSan one: each exits with the right status (2 bad input) and a clear
# message naming the flag, the file and line, and leaves no run directory behind.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/exp.nnx" <<'NNX'
data toy { train = spirals(n = 300, classes = 3)  valid = split(train, 0.2) }
network net { dense(8) relu dense(3) }
experiment baseline { data = toy  model = net  epochs = 2 }
experiment other extends baseline { epochs = 3 }
NNX
printf 'a,b,y\n1,2,0\n3,4\n5,6,1\n' >"$tmp/ragged.csv"
printf 'a,b,y\n1,2,0\n3,x4,1\n' >"$tmp/cell.csv"
printf 'a,b,y\n' >"$tmp/header.csv"
: >"$tmp/empty.csv"
printf 'a,b,y\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,dog\n' >"$tmp/text.csv"
d=/usr/share/datasets/fashion-mnist
head -c 3000 "$d/t10k-images-idx3-ubyte.gz" >"$tmp/cut-images.gz"
printf 'not an idx file\n' >"$tmp/junk.idx"
csv_exp() {  # NAME CSV OUTPUTS LOSS
    cat >"$tmp/$1.nnx" <<NNX
data t { train = csv("$2", label = "y")  valid = split(train, 0.25) }
network n { dense(4) relu dense($3) }
experiment e { data = t  model = n  epochs = 2  batch = 2  loss = $4 }
NNX
}
csv_exp ragged ragged.csv 2 cross_entropy; csv_exp cell cell.csv 2 cross_entropy
csv_exp header header.csv 2 cross_entropy; csv_exp empty empty.csv 2 cross_entropy
csv_exp textmse text.csv 1 mse
cat >"$tmp/idx_cut.nnx" <<NNX
data f { train = idx("cut-images.gz", "$d/t10k-labels-idx1-ubyte.gz")  valid = split(train, 0.1) }
network n { dense(10) }
experiment e { data = f  model = n  epochs = 2 }
NNX
sed 's/"cut-images.gz"/"junk.idx"/' "$tmp/idx_cut.nnx" >"$tmp/idx_junk.nnx"

# mistake STATUS TEXT ARGS...: both binaries exit STATUS with TEXT in their output,
# and no run directory appears under $tmp/out
mistake() {
    want=$1 text=$2; shift 2
    for bin in "$nnx" "$nnx_san"; do
        [ -x "$bin" ] || continue
        rm -rf "$tmp/out"
        (cd "$tmp" && "$bin" "$@") >"$tmp/said" 2>&1
        got=$?
        [ "$got" = "$want" ] || { cat "$tmp/said" >&2; fail "'nnx $*' exited $got, expected $want"; }
        grep -q -- "$text" "$tmp/said" || { cat "$tmp/said" >&2; fail "'nnx $*' does not say '$text'"; }
        [ ! -d "$tmp/out" ] || [ -z "$(ls "$tmp/out")" ] || fail "'nnx $*' left $(ls "$tmp/out")"
    done
}
mistake 2 "usage:" ;
mistake 2 "unknown command 'rnu'" rnu exp.nnx
mistake 2 "usage: nnx run FILE" run --out out
mistake 2 "cannot read 'nope.nnx': No such file or directory" run nope.nnx --out out
mistake 2 "cannot read '.': Is a directory" run . --out out
mistake 2 "exp.nnx has 2 experiments; name the one to use" run exp.nnx --out out
mistake 2 "did you mean 'baseline'" run exp.nnx basline --out out
mistake 2 "unexpected argument 'extra'" run exp.nnx baseline extra --out out
mistake 2 "unknown option '--sett'" run exp.nnx baseline --sett epochs=3 --out out
mistake 2 "--set needs path=value" run exp.nnx baseline --out out --set
mistake 2 "--set 'epochs': expected path=value" run exp.nnx baseline --set epochs --out out
mistake 2 "set:1:1: error: unknown key 'epochz'" run exp.nnx baseline --set epochz=3 --out out
mistake 2 "set:1:8: error: epochs must be >= 1, got 0" run exp.nnx baseline --set epochs=0 --out out
mistake 2 "-j needs a thread count from 1 to 256" run exp.nnx baseline -j 0 --out out
mistake 2 "-j needs a thread count from 1 to 256" run exp.nnx baseline -j abc --out out
mistake 2 "-j needs a thread count from 1 to 256" run exp.nnx baseline --out out -j
mistake 2 "--out needs a directory" run exp.nnx baseline --out
mistake 2 "exp.nnx: cannot create directory: a file is in the way" run exp.nnx baseline --out exp.nnx
mistake 2 "--quiet and --verbose cannot be used together" run exp.nnx baseline --quiet --verbose --out out
mistake 2 "no run of 'baseline' to resume" run exp.nnx baseline --resume --out out
mistake 2 "cannot read 'nope.nnx'" check nope.nnx
mistake 2 "has no experiment 'nope'" plan exp.nnx nope
mistake 2 "set:1:1: error: unknown key 'epochz'" plan exp.nnx baseline --set epochz=3
mistake 2 "out: no such directory" report out
mistake 2 "exp.nnx: not a directory" diagnose exp.nnx
mistake 2 "no metrics.csv" diagnose .
# data files: named with their line (and column), found when the data is loaded
mistake 2 "ragged.csv:3: ragged row: 2 fields, expected 3" run ragged.nnx --out out
mistake 2 "cell.csv:3: column 2 (\"b\"): \"x4\" is not a number" run cell.nnx --out out
mistake 2 "header.csv: a header row but no data rows" run header.nnx --out out
mistake 2 "empty.nnx:1:22: error: cannot read data file 'empty.csv': the file is empty" run empty.nnx --out out
mistake 2 "text.csv:2: column 3 (\"y\")" run textmse.nnx --out out
mistake 2 "cut-images.gz: file is truncated" run idx_cut.nnx --out out
mistake 2 "idx_junk.nnx:1:22: error: cannot read data file 'junk.idx': not an IDX file" run idx_junk.nnx --out out
# not a mistake, but said plainly: a batch larger than the data, one feature, one step
printf 'a,y\n1,0\n2,1\n3,0\n4,1\n' >"$tmp/two.csv"
cat >"$tmp/big.nnx" <<'NNX'
data t { train = csv("two.csv", label = "y")  valid = split(train, 0.5) }
network n { dense(2) }
experiment e { data = t  model = n  epochs = 1  batch = 100 }
NNX
expect 0 "$tmp/said" "$nnx" run "$tmp/big.nnx" --out "$tmp/big"
has "$tmp/said" "2 train, 2 valid rows, 1 feature, 2 classes"
has "$tmp/said" "1 epoch, batch 2 (all the train rows; the batch asked for is larger) (1 step/epoch)"
echo "cli_mistakes: ok"
