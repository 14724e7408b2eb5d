#!/bin/sh
# git_provenance.sh — every run and search records where its files stand in git (a real git, a throwaway
# repository): HEAD and dirty false when clean; dirty true and source.diff after an edit of the file, an
# imported file or the hooks file, or an untracked file; nothing fails outside a repository or without git.
. "$(dirname "$0")/lib/run_common.sh"

. "$(dirname "$0")/lib/git_common.sh"

repo=$tmp/repo
git_repo "$repo"
mkdir -p "$repo/exps" "$repo/lib"
cat >"$repo/lib/nets.nnx" <<'NNX'
network net(width = 16) { dense(width) swish dense(3) }
NNX
cat >"$repo/exps/hooks.lua" <<'LUA'
function on_epoch_end(run) run:log("lr_x1000", run.lr * 1000) end
LUA
cat >"$repo/exps/spiral.nnx" <<'NNX'
import "../lib/nets.nnx"

data toy {
    train = spirals(n = 300, classes = 3, noise = 0.2, seed = 7)
    valid = split(train, 0.25)
}

experiment spiral {
    data = toy
    model = net()
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs = 2
    batch = 32
    hooks = "hooks.lua"
}
NNX
printf 'runs/\n' >"$repo/.gitignore"
git -C "$repo" add . && git -C "$repo" commit -q -m baseline || fail "git commit failed"
head=$(git -C "$repo" rev-parse HEAD)

# git_field SUMMARY KEY: a string or literal value of the "git" object
git_field() { sed -n '/^  "git": {/,/^  }/s/^    "'"$2"'": "*\([^",]*\)"*,*$/\1/p' "$1"; }
run_in() {  # NAME: run the experiment into runs/NAME from the repository's top
    (cd "$repo" && "$nnx" run exps/spiral.nnx --quiet --out "runs/$1") >"$tmp/$1.out" 2>&1 ||
        { cat "$tmp/$1.out" >&2; fail "nnx run ($1) failed"; }
    rundir "$repo/runs/$1"
}

# 1. clean: HEAD, the branch, the path, dirty false, no diff
d=$(run_in clean)
s=$d/summary.json
[ "$(git_field "$s" commit)" = "$head" ] || fail "clean run: commit '$(git_field "$s" commit)', expected $head"
[ "$(git_field "$s" branch)" = main ] || fail "clean run: branch '$(git_field "$s" branch)'"
[ "$(git_field "$s" path)" = exps/spiral.nnx ] || fail "clean run: path '$(git_field "$s" path)'"
[ "$(git_field "$s" dirty)" = false ] || fail "clean run: dirty '$(git_field "$s" dirty)'"
has "$s" '"lib/nets.nnx"'
has "$s" '"exps/hooks.lua"'
[ ! -e "$d/source.diff" ] || fail "clean run wrote source.diff"

# 2. an uncommitted edit of the file: dirty, and the diff of exactly that edit
sed -i 's/lr = 1e-2/lr = 3e-2/' "$repo/exps/spiral.nnx"
d=$(run_in edited)
s=$d/summary.json
[ "$(git_field "$s" dirty)" = true ] || fail "edited file: dirty '$(git_field "$s" dirty)'"
[ "$(git_field "$s" commit)" = "$head" ] || fail "edited file: commit is not HEAD"
[ "$(git_field "$s" diff)" = source.diff ] || fail "edited file: diff '$(git_field "$s" diff)'"
has "$d/source.diff" '^-    optimizer = adam(lr = 1e-2)'
has "$d/source.diff" '^+    optimizer = adam(lr = 3e-2)'
git -C "$repo" checkout -q -- exps/spiral.nnx

# 3. an edited import counts; so does an edited hooks file; the diff names them
sed -i 's/width = 16/width = 24/' "$repo/lib/nets.nnx"
d=$(run_in import)
[ "$(git_field "$d/summary.json" dirty)" = true ] || fail "edited import: not dirty"
has "$d/source.diff" '+++ b/lib/nets.nnx'
git -C "$repo" checkout -q -- lib/nets.nnx
printf -- '-- a comment\n' >>"$repo/exps/hooks.lua"
d=$(run_in hooks)
[ "$(git_field "$d/summary.json" dirty)" = true ] || fail "edited hooks file: not dirty"
has "$d/source.diff" '+-- a comment'
git -C "$repo" checkout -q -- exps/hooks.lua

# 4. a new, untracked experiment: dirty, its whole text in the diff
cp "$repo/exps/spiral.nnx" "$repo/exps/new.nnx"
(cd "$repo" && "$nnx" run exps/new.nnx --quiet --out runs/new) >"$tmp/new.out" 2>&1 || fail "untracked run failed"
d=$(rundir "$repo/runs/new")
[ "$(git_field "$d/summary.json" dirty)" = true ] || fail "untracked file: not dirty"
has "$d/source.diff" 'new file mode'
rm "$repo/exps/new.nnx"

# 5. committed again: a new HEAD, clean; a detached HEAD has no branch
git -C "$repo" commit -q --allow-empty -m second
d=$(run_in second)
[ "$(git_field "$d/summary.json" commit)" = "$(git -C "$repo" rev-parse HEAD)" ] || fail "second commit not recorded"
git -C "$repo" checkout -q --detach
d=$(run_in detached)
[ "$(git_field "$d/summary.json" branch)" = null ] || fail "detached HEAD: branch '$(git_field "$d/summary.json" branch)'"
git -C "$repo" checkout -q main

# 6. a search records it too, in its summary and in every trial; the sanitized build agrees
cat >"$repo/exps/grid.nnx" <<'NNX'
import "../lib/nets.nnx"
data toy {
    train = spirals(n = 200, classes = 3, noise = 0.2, seed = 7)
    valid = split(train, 0.25)
}
experiment grid {
    data = toy
    model = net()
    loss = cross_entropy
    optimizer = adam(lr = 1e-2)
    epochs = 2
    search grid { optimizer.lr in [1e-2, 3e-2] }
}
NNX
git -C "$repo" add exps/grid.nnx && git -C "$repo" commit -q -m grid
(cd "$repo" && "$nnx_san" run exps/grid.nnx --quiet --out runs/grid) >"$tmp/grid.out" 2>&1 ||
    { cat "$tmp/grid.out" >&2; fail "search failed"; }
g=$(rundir "$repo/runs/grid")
head=$(git -C "$repo" rev-parse HEAD)
[ "$(git_field "$g/summary.json" commit)" = "$head" ] || fail "search summary: no commit"
for t in "$g"/trials/*/; do
    [ "$(git_field "$t/summary.json" commit)" = "$head" ] || fail "trial $t: no commit"
done

# 6b. a repository with no commit yet: commit null, its files untracked, so dirty with the diff;
# the run says so in words (it printed "(no comm", the message cut to a hash's 8 characters)
git_repo "$tmp/fresh"
cp "$repo/exps/hooks.lua" "$tmp/fresh/"
sed 's|import "../lib/nets.nnx"|network net(width = 16) { dense(width) swish dense(3) }|' \
    "$repo/exps/spiral.nnx" >"$tmp/fresh/spiral.nnx"
(cd "$tmp/fresh" && "$nnx" run spiral.nnx --out runs) >"$tmp/fresh.out" 2>&1 ||
    { cat "$tmp/fresh.out" >&2; fail "run in a repository with no commit failed"; }
has "$tmp/fresh.out" "^git         no commit yet on main, dirty: the diff of its files is in source.diff$"
d=$(rundir "$tmp/fresh/runs")
[ "$(git_field "$d/summary.json" commit)" = null ] || fail "no commit yet: commit is not null"
[ -s "$d/source.diff" ] || fail "no commit yet: no source.diff"

# 7. outside a repository: recorded as such, the run succeeds
mkdir -p "$tmp/plain"
cp "$repo/exps/spiral.nnx" "$repo/exps/hooks.lua" "$tmp/plain/"
sed -i 's|import "../lib/nets.nnx"|network net(width = 16) { dense(width) swish dense(3) }|' "$tmp/plain/spiral.nnx"
export GIT_CEILING_DIRECTORIES=$tmp
(cd "$tmp/plain" && "$nnx" run spiral.nnx --quiet --out runs) >"$tmp/plain.out" 2>&1 ||
    { cat "$tmp/plain.out" >&2; fail "run outside a repository failed"; }
d=$(rundir "$tmp/plain/runs")
[ "$(git_field "$d/summary.json" commit)" = null ] || fail "outside a repository: commit is not null"
has "$d/summary.json" 'is not in a git repository'

# 8. no git on the PATH: recorded as such, the run succeeds
(cd "$tmp/plain" && PATH=/nonexistent "$nnx" run spiral.nnx --quiet --out nogit) >"$tmp/nogit.out" 2>&1 ||
    { cat "$tmp/nogit.out" >&2; fail "run without git failed"; }
d=$(rundir "$tmp/plain/nogit")
has "$d/summary.json" 'git is not installed'
echo "$me: ok"
