#!/bin/sh
# idx_head.sh — the first N items of an IDX file (images or labels, gzip or
# plain) as a new gzip IDX file: the tests train the Fashion-MNIST examples on
# a few thousand rows this way (std/fashion.nnx reads $NNX_DATA).
#
# Usage: sh tests/tools/idx_head.sh SRC DST N
set -u
src=$1 dst=$2 n=$3
fail() { echo "idx_head.sh: $*" >&2; exit 1; }
[ -f "$src" ] || fail "$src: no such file"
cat_src() { gzip -dcf "$src" 2>/dev/null; }
set -- $(cat_src | head -c 4 | od -An -tu1)
[ $# = 4 ] && [ "$1" = 0 ] && [ "$2" = 0 ] && [ "$3" = 8 ] || fail "$src: not an IDX file of bytes"
ndim=$4
hlen=$((4 + 4 * ndim))
set -- $(cat_src | head -c "$hlen" | od -An -tu1)
shift 4
count=$(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 ))
[ "$n" -le "$count" ] || fail "$src holds $count items, not $n"
shift 4
row=1 dims=""
while [ $# -ge 4 ]; do
    d=$(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 ))
    row=$((row * d)) dims="$dims $d"
    shift 4
done
be32() {  # a number as 4 big-endian bytes
    printf "\\$(printf %03o $(($1 >> 24 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))"
    printf "\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 & 255)))"
}
{
    printf '\000\000\010'
    printf "\\$(printf %03o "$ndim")"
    be32 "$n"
    for d in $dims; do be32 "$d"; done
    cat_src | tail -c +$((hlen + 1)) | head -c $((n * row))
} | gzip -1 >"$dst.tmp" && mv "$dst.tmp" "$dst" || fail "cannot write $dst"
