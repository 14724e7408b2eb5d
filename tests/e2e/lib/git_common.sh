# git_common.sh — for the tests/e2e/git_*.sh scripts (sourced after run_common.sh): a real git, installed
# if missing, a private HOME, and a throwaway repository.
#   git_repo DIR     make DIR a repository on branch main with a local user.name and user.email
command -v git >/dev/null 2>&1 || sh "$root/tests/install-deps.sh" git || fail "git is missing and could not be installed"
export GIT_CONFIG_NOSYSTEM=1 HOME="$tmp/home"
mkdir -p "$HOME"
git_repo() {
    mkdir -p "$1"
    git -C "$1" init -q -b main && git -C "$1" config user.name "nnx test" &&
        git -C "$1" config user.email "nnx@example.invalid" || fail "git init $1 failed"
}
