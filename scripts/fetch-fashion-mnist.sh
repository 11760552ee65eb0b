#!/usr/bin/env bash
# Fashion-MNIST (MIT) for the k-NN evaluation, from Debian's dataset-fashion-mnist package:
# `apt-get download` the .deb and unpack it with `dpkg-deb -x` (nothing is installed, nothing is committed).
# Usage: scripts/fetch-fashion-mnist.sh [target dir]   (default: .cache/datasets/fashion-mnist)
# Idempotent: does nothing when the four .gz files are already there. Offline: FASHION_MNIST_DEB=/path/to/file.deb.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-$root/.cache/datasets/fashion-mnist}"
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
missing=0
for f in "${files[@]}"; do [ -s "$target/$f" ] || missing=1; done
if [ "$missing" = 0 ]; then echo "Fashion-MNIST already in $target"; exit 0; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -n "${FASHION_MNIST_DEB:-}" ]; then
  cp "$FASHION_MNIST_DEB" "$work/"
else
  (cd "$work" && apt-get download dataset-fashion-mnist) || {
    echo "apt-get download dataset-fashion-mnist failed. Fix: run 'apt-get update' (Debian bookworm or later), or set FASHION_MNIST_DEB to the .deb file." >&2
    exit 1
  }
fi
dpkg-deb -x "$work"/dataset-fashion-mnist_*.deb "$work/unpacked"
src="$work/unpacked/usr/share/datasets/fashion-mnist"
mkdir -p "$target"
for f in "${files[@]}"; do
  [ -s "$src/$f" ] || { echo "$f is not in the package (looked in $src)" >&2; exit 1; }
  cp "$src/$f" "$target/$f.partial" && mv "$target/$f.partial" "$target/$f"
done
echo "Fashion-MNIST unpacked into $target"
