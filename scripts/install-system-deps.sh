#!/usr/bin/env bash
# What `npm test` needs from the system on Debian 12 (bookworm). `npm test` runs this first, so a fresh machine needs
# nothing but Node 20 and the repository (README: `npm install && npm test`). Idempotent and quick when all is there:
# it installs only what is missing, as root on Debian; anywhere else it stops with ONE line saying what to install.
#   ffmpeg                    decoding, the synthetic demo video (ffprobe comes with it)
#   chromium + fonts          headless webview tests and the code-server UI tests (playwright-core drives it)
#   libkrb5-dev, ripgrep,     building code-server 4.100.3 offline for the VS Code integration tests
#   build-essential, python3,   (node-gyp builds its native modules; see scripts/setup-code-server.sh)
#   curl
#   libvulkan1                Vulkan loader for Dawn (npm `webgpu`); the lavapipe driver comes from backports below
#   python3-torch …, black    the PyTorch engine (python/) and its tests: torch, torchvision, Pillow, PyAV, pytest,
#                             numpy; libopenblas0-pthread makes libblas.so.3 OpenBLAS (else torch's CPU matmuls use the
#                             reference BLAS, ~15x slower); black checks the Python formatting
#   slurm-wlm, munge          a real single-node Slurm cluster that the DDP/launcher tests start in a temp folder
#                             (python/tests/slurm_cluster.py; the packages' own services are not enabled or used)
# DORA_SKIP_SYSTEM_DEPS=1 skips the check (a non-Debian machine where you installed the equivalents yourself).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${DORA_SKIP_SYSTEM_DEPS:-}" = 1 ] && exit 0

PACKAGES=(
  ffmpeg chromium fonts-liberation fonts-dejavu-core
  libkrb5-dev ripgrep build-essential python3 curl
  libvulkan1
  python3-torch python3-torchvision python3-pil python3-av python3-pytest python3-numpy libopenblas0-pthread black
  slurm-wlm munge
)
LAVAPIPE_ICD=.cache/lavapipe/root/usr/share/vulkan/icd.d/lvp_icd.json

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test installs its system packages on Debian 12 only; on this system install the equivalents of: ${PACKAGES[*]} (and a lavapipe Vulkan ICD), then run with DORA_SKIP_SYSTEM_DEPS=1" >&2
  exit 1
fi

need=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
[ -f "$LAVAPIPE_ICD" ] && lavapipe=ok || lavapipe=missing
if [ ${#need[@]} -eq 0 ] && [ "$lavapipe" = ok ]; then exit 0; fi

if [ "$(id -u)" != 0 ]; then
  what="${need[*]:+sudo apt-get install -y ${need[*]}}"
  [ "$lavapipe" = missing ] && what="${what:+$what && }sudo bash scripts/setup-lavapipe.sh"
  echo "npm test needs system packages that are missing; run as root, or first: $what" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  # Wait for a concurrent apt/dpkg instead of failing on its lock.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash scripts/setup-lavapipe.sh
