#!/bin/bash
# The quality benchmark on the GPU machine (issue 15): the `paper` preset (ViT-S/16) at reduced resolution (112 px
# global crops, 56 px local crops, 4-frame clips) trained through the PyTorch engine on the carried synthetic training
# tour, DoRA and then DINO for at most `trainSeconds` (scripts/device/quality-gpu.recipe.json: 150 s each, so the whole
# check fits one 10-minute device call), then evaluated exactly as `npm run quality` evaluates (k-NN with scene folds,
# J&F and tracker IoU per clip, random init and raw pixels on the same evaluation tour).
#
# Here (project root, after `npm ci && npm run build`, with the PyTorch engine merged):
#   bash scripts/device/quality-gpu.sh prepare
#     → .device/ (../shared/device/prepare.sh: Node, the bundled CLI, Dawn; ~30 MB) + .device/ffmpeg.tgz (23 MB: the
#       static ffmpeg of the npm package @ffmpeg-installer/linux-x64, because the GPU machine has none; there it encodes
#       the two tours, which the same TypeScript code renders, and fills the frame caches). The tours themselves (28 MB)
#       would not fit the 64 MiB carry limit next to these, so they are generated there (~1 min of the 10).
# There (the device tool, carrying .device; one call, timeout 600):
#   bash scripts/device/quality-gpu.sh run
#     → $OUT/quality-gpu.json (all numbers) and $OUT/quality-gpu.txt (the table), also when cut off part-way
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
case "${1:-}" in
  prepare)
    shared="${DORA_SHARED:-$root/../shared}"
    [ -f "$shared/device/prepare.sh" ] || { echo "prepare: $shared/device/prepare.sh not found (set DORA_SHARED to the shared folder)" >&2; exit 1; }
    bash "$shared/device/prepare.sh"
    if [ ! -s .device/ffmpeg.tgz ]; then
      work="$(mktemp -d)"
      (cd "$work" && npm pack --silent @ffmpeg-installer/linux-x64@4.1.0 >/dev/null)
      mv "$work"/ffmpeg-installer-linux-x64-4.1.0.tgz .device/ffmpeg.tgz
      rm -rf "$work"
    fi
    du -sh .device
    ;;
  run)
    [ -d .device ] || { echo "run: carry .device (made by 'bash scripts/device/quality-gpu.sh prepare')" >&2; exit 1; }
    mkdir -p /tmp/dora-ffmpeg && tar -C /tmp/dora-ffmpeg -xzf .device/ffmpeg.tgz
    export FFMPEG=/tmp/dora-ffmpeg/package/ffmpeg
    chmod +x "$FFMPEG"
    export OUT="${OUT:-/tmp/out}"
    mkdir -p "$OUT"
    # on-device.sh unpacks Node and the bundle ($NODE, $CLI) and installs the Vulkan loader for the webgpu evaluations.
    bash .device/on-device.sh 'timeout 560 $NODE $CLI quality --recipe scripts/device/quality-gpu.recipe.json \
      --dir /tmp/dora-quality --backend webgpu --ffmpeg "$FFMPEG" --out "$OUT/quality-gpu.json" 2>&1 | tee "$OUT/quality-gpu.txt"'
    ;;
  *)
    echo "usage: bash scripts/device/quality-gpu.sh prepare|run" >&2
    exit 2
    ;;
esac
