#!/usr/bin/env bash
# Writes third_party/cometbft: the Go sources of CometBFT $VERSION (from the
# Go module proxy, through the module cache) with Weft's patches
# (third_party/cometbft-patches/*.patch, in name order) applied. go.mod
# replaces github.com/cometbft/cometbft with it. Run by `make generate`;
# `make check-generate` fails if the committed copy differs.
#
# Each patch fixes a fault a peer can cause in the release we run and says
# so in its header; they are written to go upstream as they are. Drop the
# fork (and the replace) once a release carries them.
set -euo pipefail
VERSION=v0.40.0
root=$(cd "$(dirname "$0")/.." && pwd)
dst=$root/third_party/cometbft
GO=${GO:-go}
# The release's go.sum hash (go.sum no longer lists it: go.mod replaces it).
SUM=h1:0+zc7FlcnonFfMwzhyDCd5vK/fHZqz0RfRyTCxZsFPU=
# Downloaded outside the module, so go.mod and go.sum stay as they are.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
info=$(cd "$tmp" && GOFLAGS= $GO mod download -json "github.com/cometbft/cometbft@$VERSION")
src=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
sum=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -f "$src/go.mod" ]; then
	echo "cometbft-fork: could not download github.com/cometbft/cometbft@$VERSION: $info" >&2
	exit 1
fi
if [ "$sum" != "$SUM" ]; then
	echo "cometbft-fork: github.com/cometbft/cometbft@$VERSION has hash $sum, want $SUM" >&2
	exit 1
fi
rm -rf "$dst"
mkdir -p "$dst"
# Sources only: no tests, test data, docs or specs (they stay upstream).
(cd "$src" && find . -type f \( \( -name '*.go' ! -name '*_test.go' \) -o -name go.mod -o -name LICENSE -o -name NOTICE \
	-o -path './test/e2e/pkg/templates/*' \) ! -path './docs/*' ! -path './spec/*' ! -path '*/testdata/*' -print0 |
	LC_ALL=C sort -z | tar --null --no-recursion --mode=u+w --owner=0 --group=0 -cf - -T -) | tar -xf - -C "$dst"
for p in "$root"/third_party/cometbft-patches/*.patch; do
	[ -e "$p" ] || continue
	patch --quiet --no-backup-if-mismatch -p1 -d "$dst" <"$p"
done
echo "third_party/cometbft: CometBFT $VERSION + $(ls "$root"/third_party/cometbft-patches/*.patch 2>/dev/null | wc -l) patch(es)"
