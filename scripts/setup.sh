#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmarks need on Debian 12.
# Safe to run twice: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

DEB_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libcpp-httplib-dev
  libfmt-dev libspdlog-dev libsqlite3-dev libncurses-dev
  libssl-dev openssl  # the daemon's API over TLS; tests make a self-signed certificate
  libgtest-dev libgmock-dev libbenchmark-dev
  tmux procps curl prometheus chromium sqlite3
  python3  # tests/gpu_vram_status_e2e.sh checks the JSON document with it
  # The optional native tray (`ruvector-memopt tray`, MEMOPT_TRAY=AUTO builds
  # it when found) and its test under a virtual X server (tests/tray.cmake):
  # xvfb-run needs xauth, which --no-install-recommends would leave out.
  libayatana-appindicator3-dev xvfb xauth
  # The Windows build (scripts/build-windows.sh) and its tests under Wine
  # (tests/windows/); googletest-source is built with MinGW for them.
  g++-mingw-w64-x86-64-posix wine64 googletest
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js and npm: the machine image ships them (NodeSource build, which
# conflicts with Debian's npm package); install Debian's only when absent.
if ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi

# npm test dependencies (pinned in tests/node/package.json + package-lock.json).
if [ -f tests/node/package.json ]; then
  if [ ! -d tests/node/node_modules ] || [ tests/node/package.json -nt tests/node/node_modules/.setup-stamp ]; then
    echo "setup: installing npm test dependencies"
    (cd tests/node && npm install --no-audit --no-fund --loglevel=error && touch node_modules/.setup-stamp)
  fi
fi
