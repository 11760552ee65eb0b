#!/usr/bin/env bash
# What a fresh Debian 12 (bookworm) machine lacks for the test suite. Idempotent; installs only what is missing.
#   ffmpeg                 decoding, the synthetic demo video (ffprobe comes with it)
#   chromium + fonts       headless webview tests and the code-server UI tests (playwright-core drives it)
#   libkrb5-dev, ripgrep   building code-server 4.100.3 offline (see docs/testing.md)
#   libvulkan1             Vulkan loader for Dawn (npm `webgpu`); the lavapipe driver comes from backports below
#   build-essential, python3  node-gyp builds code-server's native modules
#   python3-torch …, black  the PyTorch engine (python/) and its tests: torch, torchvision, Pillow, PyAV, pytest,
#                          numpy; libopenblas0-pthread makes libblas.so.3 OpenBLAS (else torch's CPU matmuls use the
#                          reference BLAS, ~15x slower); black checks the Python formatting
#   slurm-wlm, munge       a real single-node Slurm cluster that the DDP/launcher tests start in a temp folder
#                          (python/tests/slurm_cluster.py; the packages' own services are not enabled or used)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg -s fonts-liberation >/dev/null 2>&1 || need+=(fonts-liberation fonts-dejavu-core)
[ -e /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
ldconfig -p | grep -q 'libvulkan.so.1' || need+=(libvulkan1)
command -v curl >/dev/null 2>&1 || need+=(curl)
{ command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1; } || need+=(build-essential)   # node-gyp (code-server)
command -v python3 >/dev/null 2>&1 || need+=(python3)
for pkg in python3-torch python3-torchvision python3-pil python3-av python3-pytest python3-numpy libopenblas0-pthread black \
           slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash scripts/setup-lavapipe.sh
