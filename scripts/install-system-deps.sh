#!/usr/bin/env bash
# System packages the tests need on a fresh Debian 12 (bookworm): ffmpeg decodes videos (and generates the demo).
# Idempotent: installs only what is missing. Needs root (apt-get) when something is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
