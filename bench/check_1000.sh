#!/bin/sh
# check_1000.sh — time `nnx check` on a generated file of 1,000 experiments (target: under 1 s).
#
# The file has one Fashion-MNIST data block (its IDX headers are read once),
# a toy data set, two networks and 1,000 experiments: each extends a base,
# overrides a few keys, and every tenth one searches a 5×3 grid (so its
# searched values are checked too).  Usage: sh bench/check_1000.sh [NNX]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
NNX=${1:-${NNX:-$root/nnx}}
data=${NNX_DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
f=$tmp/many.nnx
{
    echo "let dir = \"$data\""
    echo 'data fashion {'
    echo '    train = idx(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz")'
    echo '    test  = idx(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz")'
    echo '    valid = split(train, 0.1)'
    echo '    normalize = standard'
    echo '    shape = [1, 28, 28]'
    echo '}'
    echo 'data toy { train = spirals(n = 3000, classes = 3, noise = 0.2, seed = 7)  valid = split(train, 0.2) }'
    echo 'network mlp(width = 256, p = 0.2, classes = 10) {'
    echo '    dense(width) batchnorm swish dropout(p)'
    echo '    dense(width / 2) batchnorm swish dropout(p)'
    echo '    dense(classes)'
    echo '}'
    echo 'network cnn(p = 0.3) {'
    echo '    conv(32, 3, pad = 1) batchnorm swish maxpool(2)'
    echo '    conv(64, 3, pad = 1) batchnorm swish maxpool(2)'
    echo '    flatten dropout(p) dense(128) swish dense(10)'
    echo '}'
    echo 'experiment base {'
    echo '    data = fashion  model = mlp()  optimizer = adam(lr = 1e-3)'
    echo '    schedule { warmup = 1  decay = cosine(min_lr = 1e-5) }'
    echo '    epochs = 20  batch = 128  metrics = [accuracy, auc]'
    echo '    select = max(valid.auc)  early_stop = patience(5, on = valid.loss)'
    echo '}'
    i=1
    while [ $i -lt 1000 ]; do
        if [ $((i % 10)) = 0 ]; then
            echo "experiment e$i extends e$((i - 1)) { search grid { optimizer.lr in decades(1e-5, 1e-1)  batch in [32, 64, 128] } }"
            i=$((i + 1))
            continue
        fi
        case $((i % 4)) in
            0) echo "experiment e$i extends base { optimizer.lr = ${i}e-5  model.width = $((32 + i % 200)) }" ;;
            1) echo "experiment e$i extends base { model = cnn(p = 0.$((i % 9))) batch = $((16 + i % 100)) }" ;;
            2) echo "experiment e$i extends base { data = toy model = mlp(classes = 3, width = $((8 + i % 50))) metrics += [f1] select = max(valid.f1) }" ;;
            3) echo "experiment e$i extends base { optimizer = sgd(lr = 0.0$((i % 9 + 1)), momentum = 0.9) schedule.decay = step(every = $((i % 7 + 1)), gamma = 0.5) }" ;;
        esac
        i=$((i + 1))
    done
} > "$f"
n=$(grep -c '^experiment' "$f")
start=$(date +%s%N)
"$NNX" check "$f" > "$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "nnx check: $n experiments ($(wc -l < "$f") lines) in $ms ms"
[ "$ms" -lt 1000 ] || { echo "slower than the 1 s target"; exit 1; }
