#!/bin/sh
# run_augment.sh — augment.flip / augment.shift on a small image set: the run
# records them (experiment.nnx checks again and names them), two runs with
# the same seed give the same numbers, and a run without them differs; the
# same keys given as --set data.augment.*=... train alike; and
# the layer table of `nnx run --verbose` is tests/golden/run/verbose_layers.out
# (long names such as global_avgpool keep the shapes in one column).
. "$(dirname "$0")/lib/run_common.sh"

cd "$tmp" || exit 2
cat >aug.nnx <<'NNX'
data pix {
    train = blobs(n = 400, classes = 3, features = 16, spread = 2, seed = 4)
    valid = split(train, 0.25)
    shape = [1, 4, 4]
    normalize = standard
}
data pix_aug extends pix {
    augment.flip  = true
    augment.shift = 1
}
network cnn { conv(4, 3, pad = 1)  relu  global_avgpool  dense(3) }
experiment plain { data = pix      model = cnn  epochs = 3  batch = 50  optimizer = adam(lr = 0.02) }
experiment aug   { data = pix_aug  model = cnn  epochs = 3  batch = 50  optimizer = adam(lr = 0.02) }
experiment shifts extends plain { search grid { data.augment.shift in [0, 1] } }
NNX
expect 0 a.out "$nnx" run aug.nnx aug --out runs_a
has a.out "; train images flipped at random and shifted by up to 1 pixel$"
expect 0 b.out "$nnx" run aug.nnx aug --out runs_b --quiet
expect 0 p.out "$nnx" run aug.nnx plain --out runs_p --quiet
da=$(rundir runs_a) db=$(rundir runs_b) dp=$(rundir runs_p)
[ "$(col "$da/metrics.csv" train.loss)" = "$(col "$db/metrics.csv" train.loss)" ] &&
    [ "$(col "$da/metrics.csv" valid.loss)" = "$(col "$db/metrics.csv" valid.loss)" ] ||
    fail "two augmented runs with one seed differ"
[ "$(col "$da/metrics.csv" train.loss)" != "$(col "$dp/metrics.csv" train.loss)" ] ||
    fail "augment.flip and augment.shift changed nothing"
has "$da/experiment.nnx" "augment.flip = true"
has "$da/experiment.nnx" "augment.shift = 1"
expect 0 rc.out "$nnx" check "$da/experiment.nnx"
# --set data.KEY=value: the plain experiment with pix_aug's two keys set from
# the command line trains exactly as aug does, and its run records them
expect 0 s.out "$nnx" run aug.nnx plain --set data.augment.flip=true --set data.augment.shift=1 \
    --out runs_s --quiet
ds=$(rundir runs_s)
[ "$(col "$da/metrics.csv" train.loss)" = "$(col "$ds/metrics.csv" train.loss)" ] &&
    [ "$(col "$da/metrics.csv" valid.loss)" = "$(col "$ds/metrics.csv" valid.loss)" ] ||
    fail "--set data.augment.*=... does not train as the same keys in the data block"
has "$ds/experiment.nnx" "augment.shift = 1"
expect 0 rs.out "$nnx" check "$ds/experiment.nnx"
# ... a misspelt one is an error in the --set text, before anything trains
expect 2 bad.out "$nnx" run aug.nnx plain --set data.augment.shfit=1 --out runs_bad
has bad.out "^--set:1:1: error: unknown data key 'data.augment.shfit'$"
has bad.out "did you mean 'data.augment.shift'?"
[ ! -d runs_bad ] || fail "a bad --set data key still made a run directory"
# ... and a search can try a data key's values like any other setting's
expect 0 g.out "$nnx" run aug.nnx shifts --out runs_g --quiet -j 1
dg=$(rundir runs_g)
[ "$(grep -c ',completed,' "$dg/trials.csv")" = 2 ] || { cat "$dg/trials.csv"; fail "the data.augment.shift grid did not run 2 trials"; }
[ "$(col "$dg/trials.csv" valid.loss | sort -u | wc -l)" = 2 ] ||
    { cat "$dg/trials.csv"; fail "data.augment.shift in [0, 1]: both trials trained alike"; }
if [ -x "$nnx_san" ]; then
    expect 0 san.out "$nnx_san" run aug.nnx aug --out runs_san --set epochs=1 --quiet
fi

# the --verbose layer table, byte for byte
cd "$root" || exit 2
expect 0 "$tmp/v.out" "$nnx" run tests/golden/run/verbose_layers.nnx --verbose --out "$tmp/runs_v"
sed -n '/^network/,/^training/p' "$tmp/v.out" | sed '$d' >"$tmp/layers"
cmp -s tests/golden/run/verbose_layers.out "$tmp/layers" ||
    { diff tests/golden/run/verbose_layers.out "$tmp/layers"; fail "the --verbose layer table differs from its golden"; }
echo "run_augment: ok"
