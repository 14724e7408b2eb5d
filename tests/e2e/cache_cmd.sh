#!/bin/sh
# cache_cmd.sh — nnx cache list and clean: entries with their size, last use,
# state and source files; a changed file's entry is stale, a deleted file's an
# orphan, a foreign file broken, and clean removes exactly those; --older DAYS
# the entries unused that long; --all everything.  NNX_CACHE_MAX bounds the
# cache by evicting the least recently used entries on a write; nnx predict
# goes through the cache too.  Bad flags exit 2.
. "$(dirname "$0")/lib/run_common.sh"

cd "$tmp" || fail "no tmp"
for f in a b c; do
    awk -v s="$f" 'BEGIN { srand(length(s)); print "x,y,label"
                           for (i = 0; i < 300; i++) printf "%.3f,%.3f,%d\n", rand(), rand(), i % 2 }' >$f.csv
    printf 'data %s { train = csv("%s.csv", label = "label") }\n' $f $f >$f.nnx
done
entries() { find "$NNX_CACHE" -name '*.nnxtab' 2>/dev/null | wc -l; }

# an empty cache lists nothing; a missing directory is not an error
expect 0 l0 "$nnx" cache list
has l0 "^0 entries, 0 B in $NNX_CACHE"
for f in a b c; do expect 0 d$f "$nnx" data $f.nnx; done
[ "$(entries)" = 3 ] || fail "expected 3 entries, found $(entries)"
expect 0 l1 "$nnx_san" cache list
has l1 "^size  *last use  *state  *source$"
has l1 "  ok  *$tmp/a.csv$"
has l1 "  ok  *$tmp/c.csv$"
has l1 "^3 entries, [0-9.]* KB in $NNX_CACHE$"
# most recently used first: c, b, a (then a read again: a first)
sleep 1.1
expect 0 da2 "$nnx" data a.nnx
has da2 "served 1 file"
[ "$(sed -n 2p l1 | sed 's/.* //')" = "$tmp/c.csv" ] || fail "not most recent first: $(cat l1)"
expect 0 l2 "$nnx" cache list
[ "$(sed -n 2p l2 | sed 's/.* //')" = "$tmp/a.csv" ] || fail "a use did not make a the most recent: $(cat l2)"

# stale (b changed), orphan (c removed), broken (a foreign file under an entry's name)
sed 's/^0\./1./' b.csv >t && mv t b.csv
rm c.csv
echo "not a cache entry" >"$NNX_CACHE/0123456789abcdef.nnxtab"
expect 0 l3 "$nnx" cache list
has l3 "  stale  *$tmp/b.csv$"
has l3 "  orphan  *$tmp/c.csv$"
has l3 "  broken  *(0123456789abcdef.nnxtab: not a cache entry (bad magic))"
has l3 "  ok  *$tmp/a.csv$"
has l3 "^3 can never serve again: nnx cache clean removes them$"
expect 0 c1 "$nnx_san" cache clean
has c1 "^removed 3 entries"
expect 0 l4 "$nnx" cache list
has l4 "^1 entry, "
has l4 "  ok  *$tmp/a.csv$"

# --older DAYS: an entry last used 10 days ago goes, a fresh one stays
expect 0 db "$nnx" data b.nnx
touch -d '10 days ago' "$(grep -l "$tmp/a.csv" "$NNX_CACHE"/*.nnxtab)"
expect 0 c2 "$nnx" cache clean --older 7
has c2 "^removed 1 entry"
expect 0 l5 "$nnx" cache list
has l5 "  ok  *$tmp/b.csv$"
grep -q "a.csv" l5 && fail "--older 7 kept an entry 10 days old"
# --all: everything, writers' temporaries too
: >"$NNX_CACHE/0123456789abcdef.nnxtab.tmp.ABCDEF"
expect 0 c3 "$nnx" cache clean --all
has c3 "^removed 2 entries"
[ -z "$(ls "$NNX_CACHE")" ] || fail "--all left: $(ls "$NNX_CACHE")"

# NNX_CACHE_MAX: a bound smaller than two entries keeps only the newest
expect 0 m1 "$nnx" data a.nnx
one=$(cat "$NNX_CACHE"/*.nnxtab | wc -c)
expect 0 m2 env NNX_CACHE_MAX=$((one * 3 / 2)) "$nnx" data b.nnx
[ "$(entries)" = 1 ] || fail "NNX_CACHE_MAX: $(entries) entries, expected 1"
grep -q "$tmp/b.csv" "$NNX_CACHE"/*.nnxtab || fail "NNX_CACHE_MAX evicted the newest entry"
expect 0 m3 env NNX_CACHE_MAX=1G "$nnx" data a.nnx
[ "$(entries)" = 2 ] || fail "NNX_CACHE_MAX=1G evicted an entry"
printf 'x,y,label\n1,2,0\n3,4,1\n' >c.csv
expect 0 m4 env NNX_CACHE_MAX=lots "$nnx" data c.nnx
has m4 "warning: data cache: NNX_CACHE_MAX=lots is not a size"

# nnx predict reads through the cache: an entry for its file, the same output served
cat >t.nnx <<'NNX'
data t { train = csv("a.csv", label = "label")  valid = split(train, 0.2) }
network net { dense(4) relu dense(2) }
experiment e { data = t  model = net  optimizer = adam(lr = 0.01)  epochs = 1  batch = 32
               metrics = [accuracy] }
NNX
expect 0 r "$nnx" run t.nnx --out runs -q
printf 'x,y\n0.5,0.5\n0.1,0.9\n' >new.csv
expect 0 p1 "$nnx" predict "$(rundir runs)" new.csv
expect 0 lp "$nnx" cache list
has lp "  ok  *$tmp/new.csv$"
expect 0 p2 "$nnx_san" predict "$(rundir runs)" new.csv
cmp -s p1 p2 || fail "a cached predict gave other output"
expect 0 p3 "$nnx" predict "$(rundir runs)" new.csv --no-cache
cmp -s p1 p3 || fail "predict --no-cache gave other output"

# bad input
expect 2 e1 "$nnx" cache
has e1 "missing a subcommand"
expect 2 e2 "$nnx" cache lits
has e2 "unknown subcommand 'lits'"
expect 2 e3 "$nnx" cache clean --old 3
has e3 "did you mean '--older'"
expect 2 e4 "$nnx" cache clean --older x
has e4 "--older needs a number of days"
expect 2 e5 "$nnx" cache clean --all --older 3
expect 2 e6 "$nnx" cache list --all
expect 0 h "$nnx" cache --help
has h "NNX_CACHE_MAX"
echo "cache_cmd: ok"
