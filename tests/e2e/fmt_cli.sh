#!/bin/sh
# fmt_cli.sh — `nnx fmt` prints, rewrites (-w) and checks (--check) as documented,
# and survives any input: random bytes, a binary file, an empty file, a 10 MB
# file, every kind of truncation.  Each must succeed (0) or be refused as bad
# input (2) — never crash, hang or leak (the ASan binary runs them too).
set -u
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NNX=${NNX:-$root/nnx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

expect() {  # expect CODE CMD...
    want=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" = "$want" ] || { fail "$* exited $got, want $want"; sed 's/^/    /' "$tmp/err" | head -5; }
}

# --- the command ------------------------------------------------------------
messy="$tmp/messy.nnx"
printf 'let a=1\nexperiment e { epochs=20  batch = 128 }\n' >"$messy"
expect 0 "$NNX" fmt "$messy"
printf 'let a = 1\n\nexperiment e {\n    epochs = 20\n    batch  = 128\n}\n' >"$tmp/want"
cmp -s "$tmp/out" "$tmp/want" || fail "fmt printed the wrong layout"
cmp -s "$messy" "$tmp/want" && fail "fmt without -w changed the file"

expect 1 "$NNX" fmt --check "$messy"
[ "$(cat "$tmp/out")" = "$messy" ] || fail "--check did not name the file"
chmod 640 "$messy"
expect 0 "$NNX" fmt -w "$messy"
cmp -s "$messy" "$tmp/want" || fail "-w did not rewrite the file"
[ "$(stat -c %a "$messy")" = 640 ] || fail "-w lost the file's permissions"
[ "$(ls "$tmp" | grep -c fmt-)" = 0 ] || fail "-w left a temporary file"
expect 0 "$NNX" fmt --check "$messy"
[ -s "$tmp/out" ] && fail "--check named a canonical file"

# A CRLF file reads the same, but its canonical form has LF line ends.
printf 'let a = 1\r\n' >"$tmp/crlf.nnx"
expect 1 "$NNX" fmt --check "$tmp/crlf.nnx"
expect 0 "$NNX" fmt -w "$tmp/crlf.nnx"
[ "$(od -An -c "$tmp/crlf.nnx" | tr -d ' ')" = 'leta=1\n' ] || fail "-w kept the CR"
# -w through a symbolic link rewrites the file it points to and keeps the link.
printf 'let  b=2\n' >"$tmp/target.nnx"
ln -s "$tmp/target.nnx" "$tmp/link.nnx"
expect 0 "$NNX" fmt -w "$tmp/link.nnx"
[ -L "$tmp/link.nnx" ] || fail "-w replaced the symbolic link"
[ "$(cat "$tmp/target.nnx")" = "let b = 2" ] || fail "-w did not rewrite the link's target"

printf 'let a = \n' >"$tmp/bad.nnx"
cp "$tmp/bad.nnx" "$tmp/bad.orig"
expect 2 "$NNX" fmt -w "$tmp/bad.nnx"
cmp -s "$tmp/bad.nnx" "$tmp/bad.orig" || fail "-w touched a file with a syntax error"
grep -q 'bad.nnx:1:9: error:' "$tmp/err" || fail "no located syntax error"
# A bad file among good ones: the others are still done, the status is 2.
expect 2 "$NNX" fmt --check "$messy" "$tmp/bad.nnx"
expect 2 "$NNX" fmt -w --check "$messy"
expect 2 "$NNX" fmt --bogus "$messy"
expect 2 "$NNX" fmt
expect 2 "$NNX" fmt "$tmp/does-not-exist.nnx"
grep -q "error: cannot read" "$tmp/err" || fail "no message for a missing file"

# --- any input ----------------------------------------------------------------
head -c 4096 /dev/urandom >"$tmp/random.nnx"
head -c 4096 /dev/urandom | tr -d '\000\200-\377' >"$tmp/random_ascii.nnx"
head -c 2000 "$NNX" >"$tmp/binary.nnx"
: >"$tmp/empty.nnx"
printf 'let a = 1' >"$tmp/no_newline.nnx"
awk 'BEGIN { for (i = 0; i < 250000; i++) printf "let x%07d = [%07d, 2.5e-3, \"s\"]  # c\n", i, i }' \
    >"$tmp/big.nnx"
awk 'BEGIN { printf "let s = \""; for (i = 0; i < 200000; i++) printf "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl"; printf "\"\n" }' \
    >"$tmp/long_line.nnx"
[ "$(wc -c <"$tmp/big.nnx")" -gt 10000000 ] || fail "big.nnx is not 10 MB"
example="$root/tests/golden/syntax/several_errors.nnx"
size=$(wc -c <"$example")
for cut in 1 7 20 33 50 77 100 150 $((size - 1)); do
    head -c "$cut" "$example" >"$tmp/cut_$cut.nnx"
done

for f in "$tmp"/random*.nnx "$tmp"/binary.nnx "$tmp"/empty.nnx "$tmp"/no_newline.nnx \
         "$tmp"/big.nnx "$tmp"/long_line.nnx "$tmp"/cut_*.nnx; do
    for bin in "$NNX" "${NNX_SAN:-}"; do
        [ -n "$bin" ] && [ -x "$bin" ] || continue
        timeout 60 "$bin" fmt "$f" >/dev/null 2>"$tmp/err"
        rc=$?
        case $rc in
            0|2) ;;
            *) fail "$(basename "$bin") fmt $(basename "$f") exited $rc"; head -5 "$tmp/err" ;;
        esac
        [ $rc = 2 ] && ! grep -q 'error' "$tmp/err" && fail "$(basename "$f"): exit 2 without a message"
    done
done
"$NNX" fmt "$tmp/big.nnx" >"$tmp/big.out" 2>/dev/null || fail "a valid 10 MB file was refused"
cmp -s "$tmp/big.out" "$tmp/big.nnx" || fail "the 10 MB file was not already canonical"

[ "$failed" = 0 ] && echo "fmt_cli: all passed"
[ "$failed" = 0 ]
