#!/bin/sh
# data_cache.sh — the parsed-data cache: a second load is served from the
# cache and trains to the same bits as a parse; a changed file, a truncated
# entry and a flipped byte are each told (a warning), parsed again and
# re-cached, never trusted; a cache that cannot be written only warns;
# --no-cache writes nothing.  And `nnx data` on the same table, text and
# JSON, and its errors (a bad cell: file, line and column; exit 2).
. "$(dirname "$0")/lib/run_common.sh"

cd "$tmp" || fail "no tmp"
awk 'BEGIN { srand(5); split("red green blue", col, " ")
             print "age,color,income,bought" > "train.csv"
             print "income,color,age,bought" > "test.csv"
             for (i = 0; i < 500; i++) {
                 c = col[1 + int(3 * rand())]; age = 18 + int(63 * rand())
                 inc = sprintf("%.1f", 30 + 40 * rand()); y = ((c == "red") != (age > 50)) ? "yes" : "no"
                 a = rand() < 0.05 ? "" : age
                 if (i < 400) print a "," c "," inc "," y > "train.csv"
                 else print inc "," c "," a "," y > "test.csv" } }'
cat >shop.nnx <<'NNX'
data shop {
    train = csv("train.csv", label = "bought", categorical = ["color"], missing = mean)
    test  = csv("test.csv", label = "bought")
    valid = split(train, 0.2)
    normalize = standard
}
network net { dense(16) relu dense(2) }
experiment buy {
    data = shop  model = net  optimizer = adam(lr = 0.01)  epochs = 8  batch = 32
    metrics = [accuracy]  select = max(valid.accuracy)
}
NNX
entries() { find "$NNX_CACHE" -name '*.nnxtab' 2>/dev/null | wc -l; }
# the numbers of a run: every metrics.csv column but the seconds, and the test metrics
numbers() { cut -d, -f1-5 "$1"/*/metrics.csv; grep '"test\.' "$1"/*/summary.json; }

# first load: parsed and cached (train and test, one entry each), no warning
expect 0 out1 "$nnx" run shop.nnx --out r1 -q
[ "$(entries)" = 2 ] || fail "expected 2 cache entries, found $(entries)"
grep -q "warning: data cache" out1 && fail "a warning on a first load: $(cat out1)"
# second load: served from the cache, the same numbers as the parse
expect 0 d1 "$nnx" data shop.nnx --json
has d1 '"served": 2'
has d1 '"written": 0'
expect 0 out2 "$nnx_san" run shop.nnx --out r2 -q
numbers r1 >n1; numbers r2 >n2
cmp -s n1 n2 || { diff n1 n2 >&2; fail "a cached load trained to other numbers than a parse"; }
# --no-cache: parsed, the same numbers, and nothing written
expect 0 out3 env NNX_CACHE="$tmp/other" "$nnx" run shop.nnx --out r3 -q --no-cache
[ -e "$tmp/other" ] && fail "--no-cache wrote a cache"
numbers r3 >n3
cmp -s n1 n3 || fail "--no-cache trained to other numbers"

# a changed file: its entry is stale, told, parsed again and replaced (the
# test file's key holds the train file's encoding, which changed with it: a
# new entry)
sed 's/^20,/21,/' train.csv >t && mv t train.csv
expect 0 d2 "$nnx" data shop.nnx
has d2 "warning: data cache: the cache entry of .*/train.csv is stale"
has d2 "served 0, parsed and cached 2 files"
expect 0 d3 "$nnx" data shop.nnx
grep -q warning d3 && fail "a warning after the entry was rebuilt: $(cat d3)"
has d3 "served 2 files from"
[ "$(entries)" = 3 ] || fail "a stale entry was not replaced: $(entries) entries"
# a changed file with the same size and mtime is still told by its inode
cp -p train.csv t && mv t train.csv
expect 0 d3b "$nnx" data shop.nnx
has d3b "stale"

# a truncated entry: told, parsed again, rebuilt
for e in "$NNX_CACHE"/*.nnxtab; do
    size=$(wc -c <"$e"); head -c $((size / 2)) "$e" >t && mv t "$e"
done
expect 0 d4 "$nnx_san" data shop.nnx
has d4 "cannot be used (.*truncated: "
has d4 "parsed again"
expect 0 d5 "$nnx" data shop.nnx
has d5 "served 2 files from"
# a flipped byte in the table (the end of the file): a bad checksum, rebuilt
for e in "$NNX_CACHE"/*.nnxtab; do
    size=$(wc -c <"$e")
    printf '\377' | dd of="$e" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
done
expect 0 d6 "$nnx" data shop.nnx
has d6 "bad checksum"
expect 0 out4 "$nnx" run shop.nnx --out r4 -q
grep -q "warning: data cache" out4 && fail "a warning after the entries were rebuilt: $(cat out4)"
# a file that is not a cache entry at all, under an entry's name
for e in "$NNX_CACHE"/*.nnxtab; do echo "hello" >"$e"; done
expect 0 d7 "$nnx" data shop.nnx
has d7 "cannot be used"

# a cache that cannot be written (a file in the way): a warning, the run trains
echo x >blocker
expect 0 out5 env NNX_CACHE="$tmp/blocker/cache" "$nnx" run shop.nnx --out r5
has out5 "warning: data cache: the data cache was not written"
[ -s "$(rundir r5)/metrics.csv" ] || fail "no metrics after a failed cache write"

# nnx data, text: rows per split, features, classes with counts, columns
expect 0 t1 "$nnx" data shop.nnx shop
has t1 "^data        shop (shop.nnx)"
has t1 "^rows        train 320 valid 80 test 100"
has t1 "^features    6"
has t1 "^classes     2"
has t1 "^  no  *[0-9]* *[0-9]* *[0-9]*$"
has t1 "^  age  *18 .* 80 *[0-9][0-9]*$"
has t1 "^  color=red  *0 .* 1 *$"
# the class counts add up to each split's rows
awk '/^  (no|yes) / { tr += $2; va += $3; te += $4 } END { exit !(tr == 320 && va == 80 && te == 100) }' t1 ||
    fail "class counts do not add up: $(cat t1)"
# nnx data, JSON: the same, parsable
expect 0 j1 "$nnx" data shop.nnx buy --json
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["rows"] == {"train": 320, "valid": 80, "test": 100}, r["rows"]
assert r["features"] == 6 and r["target"] == "class"
assert [c["label"] for c in r["classes"]] == ["no", "yes"]
assert sum(c["train"] for c in r["classes"]) == 320
age = r["columns"][0]
assert age["name"] == "age" and age["min"] == 18 and age["max"] <= 80 and age["missing"] > 0, age
assert r["columns"][1]["name"] == "age:missing" and r["columns"][1]["missing"] is None
' j1 || fail "nnx data --json: $(cat j1)"

# a float32 .npy is mapped and normalised as its batches are gathered; the
# same values in float64 are copied and normalised in place: the same bits
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    /usr/bin/python3 - <<'PY' || fail "numpy could not write the arrays"
import numpy as np
rng = np.random.default_rng(3)
for part, n in (("tr", 900), ("va", 300)):
    y = rng.integers(0, 3, n)
    x = (rng.normal(0, 1, (n, 5)) * 4 + 7).astype(np.float32)
    x[:, 1] += 12 * y
    np.save(part + "_x32.npy", x)
    np.save(part + "_x64.npy", x.astype(np.float64))
    np.save(part + "_y.npy", y.astype(np.int64))
PY
    for w in 32 64; do
        cat >np$w.nnx <<NNX
data t { train = npy("tr_x$w.npy", "tr_y.npy")  valid = npy("va_x$w.npy", "va_y.npy")  normalize = standard }
network net { dense(8) relu dense(3) }
experiment e { data = t  model = net  optimizer = adam(lr = 0.01)  epochs = 5  batch = 32  metrics = [accuracy] }
NNX
        expect 0 np$w.out "$nnx_san" run np$w.nnx --out rn$w -q
        cut -d, -f1-5 rn$w/*/metrics.csv >np$w.csv
    done
    cmp -s np32.csv np64.csv || { diff np32.csv np64.csv >&2; fail "a mapped float32 table trained to other bits"; }
    awk -F, 'END { exit !($5 > 0.6) }' np32.csv || fail "the mapped table did not train: $(cat np32.csv)"
fi

# nnx data on Fashion-MNIST (IDX, cached as CSV is): the splits, 10 balanced
# classes; parsed and cached (train and test), then served with the same numbers
fashion=${NNX_DATA:-/usr/share/datasets/fashion-mnist}
if [ -f "$fashion/train-images-idx3-ubyte.gz" ]; then
    printf 'import "std/fashion.nnx"\n' >f.nnx
    expect 0 f1 "$nnx" data f.nnx fashion --json
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["rows"] == {"train": 54000, "valid": 6000, "test": 10000}, r["rows"]
assert r["features"] == 784 and len(r["columns"]) == 784
assert [c["train"] for c in r["classes"]] == [5400] * 10
assert r["cache"]["served"] == 0 and r["cache"]["written"] == 2, r["cache"]
assert all(0 <= c["min"] <= c["mean"] <= c["max"] <= 1 and c["missing"] == 0 for c in r["columns"])
' f1 || fail "nnx data on Fashion-MNIST: $(head -c 2000 f1)"
    expect 0 f2 "$nnx" data f.nnx fashion --json
    python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["cache"]["served"] == 2 and b["cache"]["written"] == 0, b["cache"]
for k in ("rows", "features", "classes", "columns"):
    assert a[k] == b[k], k
' f1 f2 || fail "nnx data on Fashion-MNIST from the cache: $(head -c 600 f2)"
fi

# IDX through the cache: a first load writes an entry, the next is served;
# a changed labels file makes it stale (told, parsed again), a truncated
# entry is told and rebuilt; the cached load gives the run the same numbers
be32() { printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) \
                                                $(($1 >> 8 & 255)) $(($1 & 255)))"; }
{ printf '\000\000\010\003'; be32 60; be32 4; be32 4; head -c 960 /dev/urandom; } | gzip -c >im.gz
labels() { { printf '\000\000\010\001'; be32 60; i=0
             while [ $i -lt 60 ]; do printf "\\00$(( (i + $1) % 3 ))"; i=$((i + 1)); done; } >lab.idx; }
labels 0
cat >img.nnx <<'NNX'
data img { train = idx("im.gz", "lab.idx")  valid = split(train, 0.25)  shape = [1, 4, 4] }
network net { flatten dense(3) }
experiment pix { data = img  model = net  optimizer = adam(lr = 0.01)  epochs = 2  batch = 10
                 metrics = [accuracy]  select = max(valid.accuracy) }
NNX
export NNX_CACHE="$tmp/idxcache"
expect 0 i1 "$nnx" data img.nnx --json
has i1 '"written": 1'
expect 0 i2 "$nnx_san" run img.nnx --out ri1 -q
grep -q "warning" i2 && fail "a warning on a cached IDX load: $(cat i2)"
expect 0 i3 "$nnx" data img.nnx
has i3 "served 1 file from"
expect 0 i4 "$nnx" run img.nnx --out ri2 -q --no-cache
numbers ri1 >ni1; numbers ri2 >ni2
cmp -s ni1 ni2 || { diff ni1 ni2 >&2; fail "a cached IDX load trained to other numbers than a parse"; }
labels 1
expect 0 i5 "$nnx" data img.nnx
has i5 "warning: data cache: the cache entry of .*im.gz is stale"
has i5 "served 0, parsed and cached 1 file"
for e in "$NNX_CACHE"/*.nnxtab; do
    size=$(wc -c <"$e"); head -c $((size - 100)) "$e" >t && mv t "$e"
done
expect 0 i6 "$nnx_san" data img.nnx
has i6 "cannot be used (.*truncated: "
expect 0 i7 "$nnx" data img.nnx
has i7 "served 1 file from"
grep -q warning i7 && fail "a warning after the IDX entry was rebuilt: $(cat i7)"
export NNX_CACHE="$tmp/cache"

# bad input: a bad cell names file, line and column; an unknown name; a flag
printf 'a,b,label\n1,2,x\n3,oops,y\n' >bad.csv
printf 'data bad { train = csv("bad.csv") }\n' >bad.nnx
expect 2 e1 "$nnx" data bad.nnx
has e1 "bad.csv:3: column 2 (\"b\"): \"oops\" is not a number"
has e1 "no data was loaded"
expect 2 e2 "$nnx" data shop.nnx nosuch
has e2 "nosuch"
expect 2 e3 "$nnx" data shop.nnx --jsn
has e3 "did you mean '--json'"
expect 2 e4 "$nnx" data missing.nnx
echo "data_cache: ok"
