#!/bin/sh
# onnx_export.sh — `nnx export` checked by the real ONNX Runtime: every example
# (trained briefly, the Fashion-MNIST ones on the first 2,000 images), a network
# with every layer kind and activation, a regression, a search (its winner) and
# an ensemble are exported, run in onnxruntime-node on 1,000 rows, and their
# outputs must equal `nnx predict --probs` on the same rows to 1e-5 (absolute).
# The files also pass the ONNX checker (Debian's python3-onnx, full check with
# shape inference) and carry the metadata docs/onnx.md promises.  Then the bad
# inputs: no run, no weights, no -o, an unwritable -o, each exit 2 with the
# file left as it was.
. "$(dirname "$0")/lib/run_common.sh"

ort=${NNX_ORT:-$root/build/ort}
sh "$root/tests/tools/ort_install.sh" "$ort" || fail "onnxruntime-node could not be installed"
sh "$root/tests/install-deps.sh" python3-onnx || fail "python3-onnx could not be installed"
export NNX_ORT="$ort"
py=/usr/bin/python3

fashion=${NNX_DATA:-/usr/share/datasets/fashion-mnist}
[ -f "$fashion/train-images-idx3-ubyte.gz" ] ||
    fail "Fashion-MNIST is not in $fashion (make data-deps installs dataset-fashion-mnist)"
mkdir -p "$tmp/fm"
for part in train:2000 t10k:1000; do
    p=${part%%:*} n=${part#*:}
    sh "$root/tests/tools/idx_head.sh" "$fashion/$p-images-idx3-ubyte.gz" "$tmp/fm/$p-images-idx3-ubyte.gz" "$n" &&
        sh "$root/tests/tools/idx_head.sh" "$fashion/$p-labels-idx1-ubyte.gz" "$tmp/fm/$p-labels-idx1-ubyte.gz" "$n" ||
        fail "cannot cut Fashion-MNIST to $n rows"
done
images="$tmp/fm/t10k-images-idx3-ubyte.gz"

# compare ONNX PREDICT: ORT's outputs (one row per line) against nnx predict's
# CSV (a header, the class, then one probability per class; for a one-output
# sigmoid the last column is P(class 1); for regression the value): 1,000 rows
# each, every value within 1e-5.
compare() {
    awk -F, -v name="$3" '
        NR == FNR { ort[FNR] = $0; n = FNR; next }
        FNR == 1 { next }
        {
            rows++
            k = split(ort[FNR - 1], o, ",")
            for (j = 1; j <= k; j++) {
                d = o[j] - $(NF - k + j); d = d < 0 ? -d : d
                if (d > worst) worst = d
            }
        }
        END {
            if (n != 1000 || rows != 1000) { printf "%s: %d ONNX rows, %d nnx rows, expected 1000\n", name, n, rows; exit 1 }
            if (worst > 1e-5) { printf "%s: largest difference %g > 1e-5\n", name, worst; exit 1 }
            printf "%s: 1000 rows, largest difference %.2g\n", name, worst
        }' "$1" "$2"
}

# check NAME RUNDIR INPUT [ORT_INPUT]: export, run nnx predict on INPUT and
# ONNX Runtime on ORT_INPUT (the same rows with the columns in the model's
# order; default INPUT), compare.
models=""
check() {
    name=$1 dir=$2 input=$3 ort_input=${4:-$3}
    expect 0 "$tmp/$name.export" "$nnx" export "$dir" -o "$tmp/$name.onnx"
    has "$tmp/$name.export" "ONNX opset 17"
    expect 0 "$tmp/$name.predict" "$nnx" predict "$dir" "$input" --probs -o "$tmp/$name.nnx.csv"
    node "$root/tests/tools/ort_run.js" "$tmp/$name.onnx" "$ort_input" >"$tmp/$name.ort.csv" 2>"$tmp/$name.ort.err" ||
        { cat "$tmp/$name.ort.err" >&2; fail "$name: ONNX Runtime could not run the exported model"; }
    compare "$tmp/$name.ort.csv" "$tmp/$name.nnx.csv" "$name" || fail "$name: ONNX Runtime and nnx predict differ"
    models="$models $name"
}

# run NAME FILE [nnx run args...]: train into $tmp/runs/NAME; prints the directory.
train() {
    name=$1 file=$2; shift 2
    NNX_DATA="$tmp/fm" "$nnx" run "$file" "$@" --quiet --out "$tmp/runs/$name" >"$tmp/$name.run" 2>&1 ||
        { cat "$tmp/$name.run" >&2; fail "$name: nnx run failed"; }
}

# 1,000 rows of D uniform numbers in [lo, hi) under a header of names (D = $#names).
rows() {
    lo=$1 hi=$2 seed=$3; shift 3
    echo "$*" | tr ' ' ','
    awk -v d=$# -v lo="$lo" -v hi="$hi" -v seed="$seed" 'BEGIN {
        srand(seed)
        for (i = 0; i < 1000; i++)
            for (j = 1; j <= d; j++) printf "%.5f%s", lo + (hi - lo) * rand(), j < d ? "," : "\n"
    }'
}

# --- every example, briefly ------------------------------------------------------
rows -1.5 1.5 11 x y >"$tmp/spirals.csv"
for f in "$root"/examples/*.nnx "$root"/examples/*/*.nnx; do
    name=$(basename "$f" .nnx)
    train "$name" "$f" --set epochs=1 --set schedule.warmup=0
    dir=$(rundir "$tmp/runs/$name")
    case $(sed -n 's/^ *"source": "\(.*\)",*$/\1/p' "$dir/model.json" | head -n 1) in
        idx)       check "$name" "$dir" "$images" ;;
        synthetic) check "$name" "$dir" "$tmp/spirals.csv" ;;
        *)         fail "$name: no input rows for its data source in this test; add some" ;;
    esac
done

# --- every layer kind and activation, on a CSV table viewed as 1×4×4 ----------------
names="f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 f12 f13 f14 f15"
{
    echo "$names label" | tr ' ' ','
    awk 'BEGIN { srand(3)
        for (i = 0; i < 600; i++) {
            c = i % 3
            for (j = 0; j < 16; j++) printf "%.4f,", 4 * rand() + (j % 3 == c) * 1.5 + 10
            print (c == 0 ? "cat" : c == 1 ? "dog" : "eel")
        } }'
} >"$tmp/table.csv"
rows 9 16 12 $names >"$tmp/table_rows.csv"
# nnx predict reads the columns by name, in any order: f3 first, then f1, f0, f2, ...
awk -F, -v OFS=, '{ t = $1; $1 = $4; $4 = $3; $3 = $2; $2 = t; print }' "$tmp/table_rows.csv" >"$tmp/table_shuffled.csv"
awk 'BEGIN { srand(4); print "a,b,c,y"
    for (i = 0; i < 400; i++) { a = rand(); b = rand(); c = rand()
        printf "%.4f,%.4f,%.4f,%.4f\n", a, b, c, 3 * a - b + c * c + 5 } }' >"$tmp/reg.csv"
rows 0 1 13 a b c >"$tmp/reg_rows.csv"
cat >"$tmp/layers.nnx" <<'EOF'
data table {
    train     = csv("table.csv", label = "label")
    valid     = split(train, 0.2)
    normalize = minmax
    shape     = [1, 4, 4]
}

data table_flat {
    train     = csv("table.csv", label = "label")
    valid     = split(train, 0.2)
    normalize = standard
}

data reg {
    train     = csv("reg.csv", label = "y")
    valid     = split(train, 0.2, stratify = false)
    normalize = standard
}

network every_layer {
    conv(4, 3, pad = 1)  batchnorm  gelu  maxpool(2, stride = 1)
    conv(3, 2, stride = 1)  elu(alpha = 0.5)  avgpool(2, stride = 1)  flatten
    dense(12, bias = false)  batchnorm  swish(beta = 1.5)  dropout(0.2)
    dense(12)  leaky_relu(0.1)
    dense(12)  tanh
    dense(12)  sigmoid
    dense(12)  relu
    dense(12)  swish
    dense(3)
}

network small(width = 16, out = 3) {
    dense(width)  batchnorm  relu  dropout(0.1)
    dense(out)
}

experiment layers {
    data      = table
    model     = every_layer()
    loss      = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs    = 3
    batch     = 32
    seed      = 1
    metrics   = [accuracy]
    select    = max(valid.accuracy)
}

experiment regression extends layers {
    data   = reg
    model  = small(width = 8, out = 1)
    loss   = mse
    metrics = []
    select = min(valid.loss)
}

experiment members extends layers {
    data  = table_flat
    model = small()
    ensemble.seeds = 3
}

experiment grid extends layers {
    data  = table_flat
    model = small()
    search grid {
        optimizer.lr in [1e-3, 3e-2]
    }
}
EOF
train layers "$tmp/layers.nnx" layers
check layers "$(rundir "$tmp/runs/layers")" "$tmp/table_shuffled.csv" "$tmp/table_rows.csv"
train regression "$tmp/layers.nnx" regression
check regression "$(rundir "$tmp/runs/regression")" "$tmp/reg_rows.csv"
train members "$tmp/layers.nnx" members
ens=$(rundir "$tmp/runs/members")
check ensemble "$ens" "$tmp/table_rows.csv"
has "$tmp/ensemble.export" "the mean of 3 members"
train grid "$tmp/layers.nnx" grid
check search "$(rundir "$tmp/runs/grid")" "$tmp/table_rows.csv"

# Residual blocks (identity, 1×1 conv and dense projections), layernorm and
# global_avgpool.
cat >"$tmp/residual.nnx" <<'EOF'
data table {
    train     = csv("table.csv", label = "label")
    valid     = split(train, 0.2)
    normalize = standard
    shape     = [1, 4, 4]
}

network res_net {
    conv(4, 3, pad = 1)  batchnorm  relu
    residual { conv(4, 3, pad = 1)  batchnorm  relu  conv(4, 3, pad = 1) }
    residual { conv(8, 3, stride = 2, pad = 1)  relu }
    layernorm
    residual { global_avgpool  dense(6) }
    residual(project = false) { layernorm  dense(6)  swish  dense(6) }
    residual { dense(5)  gelu }
    dense(3)
}

experiment residual {
    data      = table
    model     = res_net()
    loss      = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs    = 3
    batch     = 32
    seed      = 1
    metrics   = [accuracy]
    select    = max(valid.accuracy)
}
EOF
train residual "$tmp/residual.nnx"
check residual "$(rundir "$tmp/runs/residual")" "$tmp/table_shuffled.csv" "$tmp/table_rows.csv"

# --- the ONNX checker and the metadata --------------------------------------------
# shellcheck disable=SC2086
"$py" - "$tmp" $models >"$tmp/checker.out" 2>&1 <<'EOF' || { cat "$tmp/checker.out" >&2; fail "the ONNX checker refused a model"; }
import json, sys
import onnx
tmp, names = sys.argv[1], sys.argv[2:]
for name in names:
    m = onnx.load(f"{tmp}/{name}.onnx")
    onnx.checker.check_model(m, full_check=True)
    assert m.ir_version == 8, m.ir_version
    assert [(o.domain, o.version) for o in m.opset_import] == [("", 17)], m.opset_import
    assert m.producer_name == "nnx"
    meta = {p.key: p.value for p in m.metadata_props}
    for key in ("nnx_version", "task", "input_shape", "members", "normalize", "source",
                "experiment", "source_sha256", "outputs"):
        assert key in meta, f"{name}: no {key} in {sorted(meta)}"
    assert len(meta["source_sha256"]) == 64
    dims = m.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "N", f"{name}: the batch dimension is not dynamic"
    ops = [n.op_type for n in m.graph.node]
    assert "Dropout" not in ops
    if name == "layers":
        assert json.loads(meta["class_names"]) == ["cat", "dog", "eel"], meta
        assert json.loads(meta["feature_names"]) == [f"f{j}" for j in range(16)], meta
        assert json.loads(meta["input_shape"]) == [1, 4, 4] and len(dims) == 4, meta
        assert meta["normalize"] == "minmax"
        for op in ("Sub", "Mul", "Conv", "BatchNormalization", "Erf", "MaxPool", "Elu",
                   "AveragePool", "Flatten", "Gemm", "Sigmoid", "LeakyRelu", "Tanh", "Relu",
                   "Softmax"):
            assert op in ops, f"layers: no {op} in {ops}"
    if name == "regression":
        assert meta["task"] == "regression" and m.graph.output[0].name == "output"
        assert "Softmax" not in ops and "class_names" not in meta
    if name == "ensemble":
        assert meta["members"] == "3" and ops[-1] == "Mean" and ops.count("Softmax") == 3
    if name == "shirts_auc":
        assert meta["task"] == "binary" and ops[-1] == "Sigmoid"
        assert json.loads(meta["class_names"]) == ["0", "6"], meta
    if name == "residual":
        for op in ("Add", "LayerNormalization", "GlobalAveragePool", "Conv", "Gemm"):
            assert op in ops, f"residual: no {op} in {ops}"
    if name == "fashion_cnn":
        assert json.loads(meta["input_shape"]) == [1, 28, 28] and meta["source"] == "idx"
    print(name, "ok", len(ops), "nodes")
EOF

# --- bad input -------------------------------------------------------------------
expect 2 "$tmp/e1" "$nnx" export "$tmp/nowhere" -o "$tmp/x.onnx"
has "$tmp/e1" "nnx export: $tmp/nowhere"
expect 2 "$tmp/e2" "$nnx" export "$ens"
has "$tmp/e2" "-o FILE is required"
expect 2 "$tmp/e3" "$nnx" export "$ens" -o "$tmp/no/such/dir/x.onnx"
has "$tmp/e3" "cannot"
[ ! -e "$tmp/no" ] || fail "a failed export left $tmp/no behind"
expect 2 "$tmp/e4" "$nnx" export "$ens" -o "$tmp/x.onnx" --opset 9
has "$tmp/e4" "unknown flag '--opset'"
# A run whose weights are gone says what state it is in; the file at -o stays as it was.
cp -r "$(rundir "$tmp/runs/layers")" "$tmp/broken"
rm "$tmp/broken/weights.nnxw"
echo "keep me" >"$tmp/keep.onnx"
expect 2 "$tmp/e5" "$nnx" export "$tmp/broken" -o "$tmp/keep.onnx"
has "$tmp/e5" "weights"
has "$tmp/e5" "completed"
[ "$(cat "$tmp/keep.onnx")" = "keep me" ] || fail "a failed export changed the file at -o"
ls "$tmp"/keep.onnx.* 2>/dev/null && fail "a failed export left a temporary file"
# The sanitized build exports too, without a leak.
expect 0 "$tmp/san" "$nnx_san" export "$ens" -o "$tmp/san.onnx"
cmp -s "$tmp/san.onnx" "$tmp/ensemble.onnx" || fail "the sanitized build wrote another file"

cat "$tmp/checker.out"
echo "onnx_export: ok ($(echo $models | wc -w) models)"
