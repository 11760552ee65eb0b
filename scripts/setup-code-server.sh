#!/usr/bin/env bash
# setup-code-server.sh [install-dir] [version]
# Offline-friendly install of code-server (VS Code 1.100.3 in a browser, Node 20 extension host) for the
# integration tests. Needs only the npm registry and Debian's apt repositories (see docs in
# /work/shared/notes/vscode-testing.md). Idempotent: returns in well under a second when already installed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-$ROOT/.vscode-test/code-server}
VER=${2:-4.100.3}
BIN="$DIR/node_modules/.bin/code-server"

missing_system_packages() {
  local need=()
  command -v rg >/dev/null 2>&1 || need+=(ripgrep)
  [ -e /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)   # kerberos native module (its prebuilt download fails offline)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)       # driven by playwright-core
  # node-gyp builds argon2, kerberos, node-pty and @vscode/spdlog from source (their prebuilt downloads fail offline)
  { command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1; } || need+=(build-essential)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  echo "${need[@]:-}"
}

need=$(missing_system_packages)
if [ -n "$need" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-code-server: missing Debian packages: $need. Run as root, or: sudo apt-get install -y $need" >&2
    exit 1
  fi
  echo "setup-code-server: installing Debian packages: $need"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for a concurrent apt/dpkg instead of failing on its lock.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # shellcheck disable=SC2086
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $need >/dev/null
fi

if [ -x "$BIN" ] && [ -f "$DIR/.installed-$VER" ]; then
  echo "setup-code-server: code-server $VER already installed in $DIR"
  exit 0
fi

# @vscode/ripgrep's postinstall downloads rg from GitHub. It first looks in
# $TMPDIR/vscode-ripgrep-cache-<pkgver>/ripgrep-<tag>-<target>.tar.gz, so pre-seed that with Debian's rg.
TMP=${TMPDIR:-/tmp}
STAGE=$(mktemp -d)
cp "$(command -v rg)" "$STAGE/rg"
for pv in 1.15.9 1.15.10 1.15.11 1.15.12 1.15.13 1.15.14; do
  mkdir -p "$TMP/vscode-ripgrep-cache-$pv"
  for tag in v13.0.0-10 v13.0.0-13 v13.0.0-8 v13.0.0-4; do
    tar czf "$TMP/vscode-ripgrep-cache-$pv/ripgrep-$tag-x86_64-unknown-linux-musl.tar.gz" -C "$STAGE" rg
  done
done
rm -rf "$STAGE"

mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || echo '{ "name": "code-server-tools", "private": true }' > package.json
# npm_config_yes=true: node-pty's postinstall runs `npx node-gyp ...`, which an npmrc with yes=false cancels.
# npm_config_unsafe_perm=true: code-server's postinstall.sh refuses to run as root under npm without it.
npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund --no-save "code-server@$VER"
# Plain --version writes ~/.config/code-server and ~/.local/share/code-server: keep those inside the tools folder.
XDG_CONFIG_HOME="$DIR/.xdg" XDG_DATA_HOME="$DIR/.xdg" "$BIN" --version
touch "$DIR/.installed-$VER"
echo "setup-code-server: installed code-server $VER in $DIR"
