#!/bin/sh
# search_grid.sh — a grid search through the real binary: -j 1 and -j 2 give the same
# leaderboard, `nnx plan` lists exactly the trials that ran, Ctrl-C then a re-run resumes
# to the same leaderboard, --resume without an earlier search is refused.
. "$(dirname "$0")/lib/run_common.sh"

cat >"$tmp/g.nnx" <<'NNX'
data toy {
    train = spirals(n = 1200, classes = 3, noise = 0.25, seed = 7)
    valid = split(train, 0.25)
    test  = spirals(n = 300, classes = 3, noise = 0.25, seed = 8)
}
network mlp(width = 16, p = 0) { dense(width) relu dropout(p) dense(width) relu dense(3) }
experiment base {
    data = toy
    model = mlp()
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs = 6
    batch = 32
    seed = 1
    metrics = [accuracy]
    select = max(valid.accuracy)
}
experiment grid extends base {
    search grid {
        optimizer.lr in [1e-3, 1e-2, 5e-2]
        model.p      in [0, 0.2]
    }
}
data big {
    train = spirals(n = 8000, classes = 3, noise = 0.25, seed = 7)
    valid = split(train, 0.25)
    test  = spirals(n = 300, classes = 3, noise = 0.25, seed = 8)
}
experiment slow extends base {          # trials long enough (about 1 s) to be interrupted
    data = big
    model = mlp(width = 192)
    epochs = 50
    search grid { optimizer.lr in [1e-2, 3e-2] }
}
NNX

# -j 1 and -j 2: the same trials.csv apart from the seconds column
expect 0 "$tmp/out1" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/j1" -j 1
expect 0 "$tmp/out2" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/j2" -j 2
d1=$(rundir "$tmp/j1")
d2=$(rundir "$tmp/j2")
[ "$(basename "$d1")" = "$(basename "$d2")" ] || fail "the search directory name is not stable: $d1 $d2"
[ "$(nrows "$d1/trials.csv")" = 6 ] || fail "6 trials expected"
head -1 "$d1/trials.csv" | grep -q '^trial,optimizer.lr,model.p,status,epoch,valid.accuracy,test.loss,test.accuracy,seconds$' ||
    fail "trials.csv header: $(head -1 "$d1/trials.csv")"
sed 's/,[^,]*$//' "$d1/trials.csv" >"$tmp/a.csv"
sed 's/,[^,]*$//' "$d2/trials.csv" >"$tmp/b.csv"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || { diff "$tmp/a.csv" "$tmp/b.csv" >&2; fail "-j 1 and -j 2 leaderboards differ"; }
has "$tmp/out2" "workers     2 at once"
has "$tmp/out1" "<- best"
# sorted by valid.accuracy, best first
awk -F, 'NR > 2 && $6 + 0 > prev + 0 { exit 1 } NR > 1 { prev = $6 }' "$d1/trials.csv" || fail "trials.csv is not sorted"
best=$(awk -F, 'NR == 2 { print $1 }' "$d1/trials.csv")
has "$d1/summary.json" "\"winner\": \"$best\""
has "$d1/summary.json" '"kind": "search"'

# nnx plan lists exactly these trials
"$nnx" plan "$tmp/g.nnx" grid | awk 'NR > 1 { print $2 }' | sort >"$tmp/plan.txt"
col "$d1/trials.csv" trial | sort >"$tmp/ran.txt"
cmp -s "$tmp/plan.txt" "$tmp/ran.txt" || { diff "$tmp/plan.txt" "$tmp/ran.txt" >&2; fail "nnx plan and nnx run differ"; }
for t in $(cat "$tmp/ran.txt"); do
    [ -s "$d1/trials/$t/summary.json" ] && [ -s "$d1/trials/$t/metrics.csv" ] || fail "trial $t has no run directory"
done
expect 0 "$tmp/rep" "$nnx" report --text "$d1"
has "$tmp/rep" "winner $best"

# a trial (data loaded once, trained in a worker) gives the numbers of a plain run of its values
lr=$(awk -F, 'NR == 2 { print $2 }' "$d1/trials.csv")
p=$(awk -F, 'NR == 2 { print $3 }' "$d1/trials.csv")
expect 0 "$tmp/out7" "$nnx" run "$tmp/g.nnx" base --out "$tmp/one" --set optimizer.lr="$lr" --set model.p="$p" --quiet
sed 's/,[^,]*$//' "$(rundir "$tmp/one")/metrics.csv" >"$tmp/one.csv"
sed 's/,[^,]*$//' "$d1/trials/$best/metrics.csv" >"$tmp/best.csv"
cmp -s "$tmp/one.csv" "$tmp/best.csv" || { diff "$tmp/one.csv" "$tmp/best.csv" >&2; fail "trial $best differs from nnx run --set"; }

# the same command again trains nothing
expect 0 "$tmp/out3" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/j1" -j 2 --resume
has "$tmp/out3" "0 run now, 6 finished before"

# Ctrl-C while both trials train (the parent and its workers get SIGINT, as from a
# terminal): the search exits 130, each trial leaves resume.state; running the command
# again continues them from their last epoch and ends with the uninterrupted leaderboard
expect 0 "$tmp/out8" "$nnx" run "$tmp/g.nnx" slow --out "$tmp/slow" -j 2
sed 's/,[^,]*$//' "$(rundir "$tmp/slow")/trials.csv" >"$tmp/ref.csv"
"$nnx" run "$tmp/g.nnx" slow --out "$tmp/int" -j 2 >"$tmp/out4" 2>&1 &
pid=$!
i=0
while [ -z "$(ls "$tmp"/int/*/trials/*/metrics.csv 2>/dev/null)" ] && [ $i -lt 600 ]; do
    sleep 0.02; i=$((i + 1))
done
sleep 0.3
kill -INT $(cat /proc/$pid/task/*/children 2>/dev/null) $pid 2>/dev/null
wait $pid
st=$?
if [ $st = 130 ]; then
    has "$tmp/out4" "interrupted"
    d=$(rundir "$tmp/int")
    for t in "$d"/trials/*/; do
        [ -e "$t/resume.state" ] && cp "$t/metrics.csv" "$t/../$(basename "$t").before"
    done
    expect 0 "$tmp/out5" "$nnx" run "$tmp/g.nnx" slow --out "$tmp/int" -j 2
    for b in "$d"/trials/*.before; do
        [ -e "$b" ] || continue
        n=$(wc -l <"$b")
        head -n "$n" "$d/trials/$(basename "$b" .before)/metrics.csv" | cmp -s - "$b" ||
            fail "$(basename "$b" .before) started over instead of continuing its $((n - 1)) epochs"
    done
else
    [ $st = 0 ] || { cat "$tmp/out4" >&2; fail "interrupted search exited $st"; }   # it finished first
fi
sed 's/,[^,]*$//' "$(rundir "$tmp/int")/trials.csv" >"$tmp/c.csv"
cmp -s "$tmp/ref.csv" "$tmp/c.csv" || { diff "$tmp/ref.csv" "$tmp/c.csv" >&2; fail "the resumed leaderboard differs"; }

# --resume with nothing to resume
expect 2 "$tmp/out6" "$nnx" run "$tmp/g.nnx" grid --out "$tmp/none" --resume
has "$tmp/out6" "no earlier run"
[ -e "$tmp/none" ] && fail "--resume made a directory"
echo "search_grid: ok"
