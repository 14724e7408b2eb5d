#!/bin/sh
# Which folder may include which: the table under "Which folder may include
# which" in docs/architecture.md, held against every #include of src/ and
# include/nnx/.  A row names its folders in its first column and, in its
# third, what they must never include: `src/X` (X's own headers, "X/..."),
# `nnx/NAME.h` or `nnx/DIR` (public headers), `NAME.h` (a system header).
# A row whose second column begins with "only" allows the names in it and no
# other header of this tree.  Each include that breaks a row is printed with
# its file and line, and the script fails; it fails too if the table cannot
# be read or names a folder that is not there.
root=${NNX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
doc=docs/architecture.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The rules, one a line: FOLDER never|only NAME (an include path, a folder of
# them ending in /).
awk -F'|' '
    /^## Which folder may include which/ { on = 1; next }
    on && /^\|/ { if (++row > 2) rule($2, $3, $4); next }
    on && row { exit }
    function names(text, out,   n, i, parts, t) {
        n = split(text, parts, "`"); out = ""
        for (i = 2; i <= n; i += 2) {
            t = parts[i]; sub(/\*\.h$/, "", t)
            if (t ~ /^src\//) t = substr(t, 5) "/"
            else if (t ~ /^include\//) t = substr(t, 9) "/"
            else if (t !~ /\.h$/ && t !~ /\/$/) t = t "/"
            gsub(/\/\/$/, "/", t); out = out " " t
        }
        return out
    }
    function rule(folders, may, never,   nf, f, i, j, nn, ns, n, s) {
        nf = split(folders, f, "`")
        nn = split(names(never), n, " ")
        ns = (may ~ /^ *only/) ? split(names(may), s, " ") : 0
        for (i = 2; i <= nf; i += 2) {
            for (j = 1; j <= nn; j++) print f[i], "never", n[j]
            for (j = 1; j <= ns; j++) print f[i], "only", s[j]
        }
    }' "$doc" >"$tmp/rules"
[ -s "$tmp/rules" ] || { echo "layering: no rules read from the table in $doc"; exit 1; }

# Every include of each folder the rules name: FOLDER FILE:LINE PATH QUOTE.
for dir in $(cut -d' ' -f1 "$tmp/rules" | sort -u); do
    [ -d "$dir" ] || { echo "layering: $doc names $dir, which is not a folder"; echo "$dir" >>"$tmp/bad"; continue; }
    find "$dir" -name '*.[ch]' | sort | while read -r f; do
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"]\)\([^>"]*\)[>"].*/\2 \1/p;=' "$f" |
        awk -v dir="$dir" -v f="$f" 'NF == 2 { print dir, f ":" line, $1, ($2 == "\"" ? "local" : "system") } NF == 1 { line = $1 }'
    done
done >"$tmp/includes"

awk -v doc="$doc" '
    NR == FNR { if ($2 == "never") never[$1] = never[$1] " " $3; else only[$1] = only[$1] " " $3; next }
    function hit(inc, name) { return name ~ /\/$/ ? index(inc, name) == 1 : inc == name }
    {
        dir = $1; where = $2; inc = $3; n = split(never[dir], nv, " ")
        for (i = 1; i <= n; i++) if (hit(inc, nv[i])) {
            printf "%s: includes %s, which %s must never include (%s)\n", where, inc, dir, doc; bad = 1
        }
        if (only[dir] != "" && $4 == "local") {
            ok = 0; n = split(only[dir], on, " ")
            for (i = 1; i <= n; i++) if (hit(inc, on[i])) ok = 1
            if (!ok) { printf "%s: includes %s; %s may include only%s (%s)\n", where, inc, dir, only[dir], doc; bad = 1 }
        }
        seen++
    }
    END { if (!seen) { print "layering: no include lines read"; exit 1 } exit bad }' "$tmp/rules" "$tmp/includes" || exit 1
[ ! -s "$tmp/bad" ]
