#!/bin/sh
# build_settles.sh — a fresh tree builds in one pass: bison and flex run once each,
# and a second make on the untouched tree has nothing to do.
. "$(dirname "$0")/lib/run_common.sh"

# a fresh copy of the sources (no build/, no ./nnx), as a clone has them
src="$tmp/tree"
mkdir -p "$src"
(cd "$root" && tar cf - Makefile grammar include src stdlib tests) | (cd "$src" && tar xf -)
rm -rf "$src/build" "$src/nnx"
# To keep it cheap, the release objects that do not depend on the generated
# parser are copied from the tree's own build (timestamps kept); the parser,
# the scanner and every object that includes them are built afresh.
if [ -d "$root/build/rel/src" ]; then
    mkdir -p "$src/build"
    cp -a "$root/build/rel" "$src/build/rel"
    rm -rf "$src/build/rel/gen" "$src/build/rel/nnx" "$src/build/rel/libnnx.a" "$src/build/rel/tests" "$src/build/rel/bench"
    grep -l -e 'nnx\.tab\.h' -e 'lex\.yy\.h' $(find "$src/build/rel" -name '*.d') 2>/dev/null |
        while read -r d; do rm -f "$d" "${d%.d}.o"; done
    for f in $(find "$src/build/rel/src/lang" "$src/build/rel/src/cli" -name '*.o'); do
        rm -f "$f" "${f%.o}.d"
    done
fi

# the release binary only, unoptimised to keep it cheap: what is checked is
# how many times each rule runs, not the code
build() { make -C "$src" -j2 --no-print-directory OPT=-O0 "$@"; }
build nnx >"$tmp/first" 2>&1 || { cat "$tmp/first" >&2; fail "the first build failed"; }
[ "$(grep -c '^bison ' "$tmp/first")" = 1 ] || { grep -E '^(bison|flex) ' "$tmp/first" >&2; fail "bison did not run exactly once"; }
[ "$(grep -c '^flex ' "$tmp/first")" = 1 ] || { grep -E '^(bison|flex) ' "$tmp/first" >&2; fail "flex did not run exactly once"; }

# nothing left to do: make -q says so by its status, make prints no command
build -q nnx || { build -n nnx >&2; fail "a second make would rebuild"; }
build nnx >"$tmp/second" 2>&1 || fail "the second make failed"
grep -qE '^(cc|bison|flex|ar|rm|cp) ' "$tmp/second" && { cat "$tmp/second" >&2; fail "a second make ran commands"; }

# touching the grammar rebuilds the parser once, then settles again
sleep 1
touch "$src/grammar/nnx.y"
build nnx >"$tmp/third" 2>&1 || { cat "$tmp/third" >&2; fail "the rebuild failed"; }
[ "$(grep -c '^bison ' "$tmp/third")" = 1 ] || { cat "$tmp/third" >&2; fail "bison did not run exactly once after a touch"; }
build -q nnx || { build -n nnx >&2; fail "make does not settle after a grammar change"; }
exit 0
