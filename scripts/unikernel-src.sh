#!/bin/sh
# Fetch the Debian source packages the unikernel build compiles into
# build/src/<pkg>/ (unpacked, version-independent directory name).
# Idempotent: a package whose directory exists is not fetched again.
# Usage: scripts/unikernel-src.sh [pkg ...]   (default: all of them)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dst="$top/build/src"
pkgs=${*:-"musl mbedtls zlib libgit2 http-parser cmocka ldns lwip"}
mkdir -p "$dst"

missing=""
for p in $pkgs; do
    [ -d "$dst/$p" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

command -v dpkg-source >/dev/null || sh "$top/scripts/deps.sh" unikernel

# apt-get source needs deb-src entries; mirror the binary sources if none.
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    if [ "$(id -u)" != 0 ]; then
        echo "unikernel-src.sh: no deb-src configured (run as root once)" >&2
        exit 1
    fi
    src=/etc/apt/sources.list.d/debian.sources
    [ -f "$src" ] || { echo "unikernel-src.sh: no $src to mirror" >&2; exit 1; }
    sed 's/^Types:.*/Types: deb-src/' "$src" >/etc/apt/sources.list.d/zonelet-src.sources
    apt-get update -qq
fi

for p in $missing; do
    work="$dst/.fetch-$p"
    rm -rf "$work"; mkdir -p "$work"
    # The newest version may sit on a mirror that lacks it (security
    # pool); the release pocket is the fallback.
    (cd "$work" && { apt-get source -qq "$p" >/dev/null 2>&1 ||
        { rm -rf ./*; apt-get source -qq "$p/bookworm" >/dev/null 2>&1; }; }) || {
        echo "unikernel-src.sh: apt-get source $p failed" >&2; rm -rf "$work"; exit 1; }
    d=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)
    [ -n "$d" ] || { echo "unikernel-src.sh: $p unpacked nothing" >&2; exit 1; }
    mv "$d" "$dst/$p"
    rm -rf "$work"
    echo "unikernel-src.sh: $p -> build/src/$p"
done
