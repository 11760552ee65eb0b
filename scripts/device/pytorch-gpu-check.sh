#!/bin/bash
# The PyTorch engine's checks on a CUDA machine (see ../shared/device/README.md: no Node, no package registry there;
# PyTorch 2.x, numpy and safetensors are; 64 MiB travel with the checkout).
#
#   here:   bash scripts/device/pytorch-gpu-check.sh prepare    (after npm ci; ~3 min)
#           → .device-pytorch/ (git-ignored, ~30 MB): Node, the CLI bundled with its dependencies, the golden cases,
#             the timing anchors and the official DoRA files (commit 0508b2c) exported from the bare mirror
#   there:  bash scripts/device/pytorch-gpu-check.sh run        (with carry: [".device-pytorch"])
#           1. the CUDA unit tests (python/tests/test_cuda_step.py; pytest when installed, else its own runner)
#           2. `dora golden --engine pytorch --device cuda` on every golden case (the TS tolerance code)
#           3. `dora bench --engine pytorch --config paper` in bf16 and fp16 with microBatch auto (peak memory in the
#              JSON line) and the OFFICIAL step (time_official_gpu.py: fp16 and fp32) timed in the same run
#           Every part is bounded by `timeout` and tee'd into $OUT/pytorch-gpu-check.txt (back even if cut off).
# Local dry run of the mechanics on a CPU machine: DORA_CHECK_DEVICE=cpu DORA_CHECK_CONFIG=demo … run
set -u
cd "$(dirname "$0")/../.."
D=.device-pytorch
MIRROR=${DORA_OFFICIAL_MIRROR:-/work/.mirror/shashankvkt+DoRA_ICLR24/repo}
SHARED=${DORA_SHARED_DIR:-../shared}

prepare() {
  set -e
  [ -f dist/cli.js ] || npm run build
  rm -rf "$D" && mkdir -p "$D/official" "$D/anchors" "$D/golden"
  xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > "$D/node.xz"
  # compressed, so no bundle lies in the tree for eslint/prettier; unpacked next to Node on the device
  npx esbuild dist/cli.js --bundle --platform=node --target=node20 --external:webgpu --log-level=error \
    --outfile=/tmp/dora-pytorch-cli.js
  xz -T2 -6 -c /tmp/dora-pytorch-cli.js > "$D/cli.js.xz" && rm -f /tmp/dora-pytorch-cli.js
  for f in main.py utils.py vision_transformer.py sinkhorn_knopp.py WTDataloader.py; do
    git --git-dir="$MIRROR" show "0508b2c:$f" > "$D/official/$f"
  done
  cp "$SHARED"/anchors/*.py "$D/anchors/"
  cp "$SHARED"/golden/*.safetensors "$D/golden/"
  git check-ignore -q "$D" || { echo "prepare: $D is not git-ignored (it must be, to be carried)"; exit 1; }
  du -sh "$D"
}

run() {
  OUT=${OUT:-/tmp/out}
  mkdir -p "$OUT"
  exec > >(tee -a "$OUT/pytorch-gpu-check.txt") 2>&1
  local device=${DORA_CHECK_DEVICE:-cuda} config=${DORA_CHECK_CONFIG:-paper} W=/tmp/dora-pytorch-device
  local node=$W/node cli=$W/cli.js  # the CLI finds python/ from the working directory (the checkout)
  mkdir -p "$W"
  [ -x "$node" ] || { xz -dc "$D/node.xz" > "$node" && chmod +x "$node"; }
  xz -dc "$D/cli.js.xz" > "$cli"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total --format=csv,noheader
  python3 -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available() and torch.cuda.get_device_name(0))'
  echo "== 1. CUDA unit tests"
  if [ "$device" = cuda ]; then
    if python3 -c 'import pytest' 2>/dev/null; then
      DORA_GOLDEN_DIR=$D/golden PYTHONPATH=python timeout 300 python3 -m pytest -q -p no:cacheprovider python/tests/test_cuda_step.py
    else
      DORA_GOLDEN_DIR=$D/golden PYTHONPATH=python timeout 300 python3 python/tests/test_cuda_step.py
    fi
    echo "cuda tests exit $?"
  else
    echo "skipped: DORA_CHECK_DEVICE=$device (dry run)"
  fi
  echo "== 2. golden on $device"
  timeout 300 "$node" "$cli" golden "$D/golden" --engine pytorch --device "$device" --verbose
  echo "golden exit $?"
  echo "== 3. bench: $config, bf16 and fp16 (microBatch auto) + the official step in the same run"
  local precisions=bf16,fp16
  [ "$device" = cuda ] || precisions=fp32
  timeout 420 "$node" "$cli" bench --engine pytorch --config "$config" --device "$device" --precision "$precisions" \
    --micro-batch auto --steps 5 --warmup 2 --official "$D/official" --anchors "$D/anchors" | tee "$OUT/pytorch-bench.jsonl"
  echo "bench exit ${PIPESTATUS[0]}"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: bash scripts/device/pytorch-gpu-check.sh prepare|run"; exit 2 ;;
esac
