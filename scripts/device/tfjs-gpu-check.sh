#!/bin/bash
# The TF.js engine on a real GPU (WebGPU via Dawn/Vulkan), for a session that has the GPU machine
# (../shared/device/README.md). Two halves:
#
#   here  (this machine, after `npm ci && npm run build`):   bash scripts/device/tfjs-gpu-check.sh prepare
#         → .device/ (Node + the bundled CLI + Vulkan loader, by shared/device/prepare.sh), plus the official DoRA files
#           (exported at 0508b2c from the bare mirror, for the speed anchor) and the golden cases.
#   there (the run tool, carry [".device"], timeout_s ≈ 540):
#         bash .device/on-device.sh 'bash scripts/device/tfjs-gpu-check.sh run'
#
# What `run` measures, each part bounded by `timeout` and tee'd into $OUT (it comes back even when cut off):
#   1. golden 12/12 on webgpu                                               → $OUT/golden.txt
#   2. the OFFICIAL paper step, fp32 and fp16 (time_official_gpu.py)        → $OUT/official.jsonl
#   3. `dora bench --config paper --backend webgpu` with the DEFAULTS (microBatch "auto"), --profile: step time,
#      launches, GPU dispatches, peak memory by our tracker                  → $OUT/bench.json
#      while nvidia-smi samples the device memory every 0.5 s                → $OUT/nvidia-smi.csv
#   4. a summary: ratio of our step to the official fp32 step (same machine, same run) and both peaks → $OUT/summary.txt
# Goals (issue 14): the paper preset runs with the defaults, peak memory ≤ the official's (44 GiB fp32), our step
# ≥ 0.5× the official fp32 step's speed (ratio ≤ 2).
set -u
cd "$(dirname "$0")/../.."
MIRROR=${DORA_OFFICIAL_GIT:-/work/.mirror/shashankvkt+DoRA_ICLR24/repo}
GOLDEN=${DORA_GOLDEN_DIR:-../shared/golden}

prepare() {
  set -e
  [ -f dist/cli.js ] || { echo "build first: npm ci && npm run build"; exit 1; }
  # shared/device/prepare.sh appends to .git/info/exclude, which is not a folder in a git worktree; .device/ is in
  # .gitignore already, so run it without that line.
  local tmp; tmp=$(mktemp -d)
  cp ../shared/device/prepare.sh ../shared/device/on-device.sh "$tmp/"
  sed -i '/info\/exclude/d' "$tmp/prepare.sh"
  bash "$tmp/prepare.sh"
  rm -rf "$tmp"
  mkdir -p .device/official .device/golden
  for f in main.py utils.py vision_transformer.py sinkhorn_knopp.py WTDataloader.py; do
    git --git-dir="$MIRROR" show "0508b2c:$f" > ".device/official/$f"
  done
  cp "$GOLDEN"/*.safetensors .device/golden/
  du -sh .device
}

run() {
  : "${NODE:?run through .device/on-device.sh}" "${CLI:?}" "${OUT:=/tmp/out}"
  mkdir -p "$OUT"
  local PY=${PYTHON:-python3}
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv | tee "$OUT/gpu.txt"
  echo "== golden (webgpu)"
  timeout 150 "$NODE" "$CLI" golden .device/golden --backend webgpu 2>&1 | tee "$OUT/golden.txt" | tail -3
  echo "== official paper step (fp32, fp16)"
  timeout 170 "$PY" scripts/anchors/time_official_gpu.py --official .device/official --warmup 2 --steps 5 \
    --modes fp32,fp16 --json "$OUT/official.jsonl" > "$OUT/official.log" 2>&1
  tail -3 "$OUT/official.log"
  echo "== dora bench, paper preset, defaults (microBatch auto)"
  nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader,nounits -lms 500 > "$OUT/nvidia-smi.csv" &
  local SMI=$!
  timeout 200 "$NODE" "$CLI" bench --config paper --backend webgpu --steps 3 --warmup 1 --profile > "$OUT/bench.json" 2> "$OUT/bench.log"
  kill "$SMI" 2>/dev/null
  tail -c 1500 "$OUT/bench.json"; tail -5 "$OUT/bench.log"
  "$NODE" -e '
    const fs = require("fs"), out = process.argv[1];
    const lines = (f) => { try { return fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean); } catch { return []; } };
    const bench = lines(out + "/bench.json").map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean).pop();
    // time_official_gpu.py prints one "OFFICIAL_GPU {json}" line per finished mode (official.jsonl only at the end).
    const official = lines(out + "/official.log").filter((l) => l.startsWith("OFFICIAL_GPU ")).map((l) => JSON.parse(l.slice(13)));
    const fp32 = official.find((o) => o.mode === "fp32");
    const smi = lines(out + "/nvidia-smi.csv").map((l) => Number(l.split(",")[1]));
    const med = (o) => o && o.step_s_median;
    const s = {
      oursSecPerStep: bench?.secPerStepMedian, microBatch: bench?.microBatch, microBatchReason: bench?.microBatchReason,
      launchesPerStep: bench?.launchesPerStep, gpuDispatchesPerStep: bench?.gpuDispatchesPerStep,
      oursPeakTrackedMiB: bench?.peakMemoryMB, oursPeakNvidiaSmiMiB: smi.length ? Math.max(...smi) : null,
      officialFp32SecPerStep: med(fp32) ?? null, officialFp32PeakGiB: fp32?.peak_mem_GiB ?? null,
      officialFp16SecPerStep: med(official.find((o) => o.mode === "fp16")) ?? null, ratioToOfficialFp32: bench && med(fp32) ? bench.secPerStepMedian / med(fp32) : null,
    };
    fs.writeFileSync(out + "/summary.txt", JSON.stringify(s, null, 1));
    console.log(JSON.stringify(s, null, 1));
  ' "$OUT"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: bash scripts/device/tfjs-gpu-check.sh prepare|run   (see the header)"; exit 2 ;;
esac
