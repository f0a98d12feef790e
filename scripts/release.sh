#!/usr/bin/env bash
# Builds the release archives of worker (lean, -tags nodev) and starter for
# linux and darwin on amd64 and arm64, with SHA-256 checksums:
#
#   scripts/release.sh [VERSION]        # default: git describe, or "dev"
#   ls dist/   vigil_<version>_<os>_<arch>.tar.gz  checksums.txt
#
# CHECK_ONLY=1 only cross-compiles (CI), without archives.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
commit="$(git rev-parse HEAD 2>/dev/null || true)"
targets="${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"
ldflags="-s -w -X github.com/vigilops/vigil/internal/version.Version=${version} -X github.com/vigilops/vigil/internal/version.Commit=${commit}"
out="${OUT:-dist}"
rm -rf "$out" && mkdir -p "$out"
for t in $targets; do
  os="${t%/*}" arch="${t#*/}"
  dir="$out/vigil_${version}_${os}_${arch}"
  mkdir -p "$dir"
  echo "--- $os/$arch"
  CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -tags nodev -ldflags "$ldflags" -o "$dir/worker" ./worker
  CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -ldflags "$ldflags" -o "$dir/starter" ./starter
  if [ -n "${CHECK_ONLY:-}" ]; then continue; fi
  cp README.md "$dir/"
  tar -C "$out" -czf "$dir.tar.gz" "$(basename "$dir")"
  rm -rf "$dir"
done
if [ -z "${CHECK_ONLY:-}" ]; then
  (cd "$out" && sha256sum ./*.tar.gz | sed 's| \./| |' > checksums.txt && cat checksums.txt)
else
  rm -rf "$out"
fi
