#!/bin/sh
# Install the Debian packages named as arguments that are not installed yet.
# A no-op (one dpkg query) when everything is present; needs root otherwise.
missing=""
for p in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "nnx: missing Debian packages:$missing" >&2
    echo "nnx: run as root, or: sudo apt-get install$missing" >&2
    exit 1
fi
echo "nnx: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine often has apt busy already (unattended upgrades, another
# install): wait for its lock instead of failing at once.
lock="-o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
apt-get $lock update -qq >/dev/null || { echo "nnx: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get $lock install -y -qq --no-install-recommends $missing >/dev/null ||
    { echo "nnx: apt-get install$missing failed" >&2; exit 1; }
