#!/usr/bin/env bash
# Unpacks Mesa's lavapipe Vulkan driver (software WebGPU adapter for Dawn) from Debian bookworm-backports into
# .cache/lavapipe/root, without touching the system Mesa. Debian 12's own Mesa 22.3 is too old for Dawn (no adapter).
# scripts/run-tests.mjs points VK_ICD_FILENAMES / LD_LIBRARY_PATH at it, so the webgpu tests run on CPU-only CI.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=.cache/lavapipe/root
if [ -f "$ROOT/usr/share/vulkan/icd.d/lvp_icd.json" ]; then echo "lavapipe: already unpacked in $ROOT"; exit 0; fi
LIST=/etc/apt/sources.list.d/bookworm-backports.list
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$LIST"
fi
apt-get update -qq
mkdir -p .cache/lavapipe/debs
( cd .cache/lavapipe/debs && apt-get download -qq mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports libdrm-amdgpu1/bookworm-backports 2>&1 | grep -v "_apt" || true )
for deb in .cache/lavapipe/debs/*.deb; do dpkg -x "$deb" "$ROOT"; done
test -f "$ROOT/usr/share/vulkan/icd.d/lvp_icd.json"
echo "lavapipe: unpacked into $ROOT"
