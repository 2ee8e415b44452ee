#!/usr/bin/env bash
# Cross-builds ruvector-memopt.exe (Windows 10/11 x64, static: no DLLs beside
# it) and its Wine-run tests with Debian's MinGW-w64 into $WIN_BUILD_DIR
# (default build-win). Usage: scripts/build-windows.sh [cmake target...]
#
# cpp-httplib for Windows comes from the llama.cpp release that the pinned
# node-llama-cpp (tests/node/package.json, installed by scripts/setup.sh)
# ships as a git bundle: the two files are read out of the bundle into
# $WIN_BUILD_DIR/deps at set-up, never copied into the repository.
# The end-to-end test compares with the Linux build in $BUILD_DIR (build).
set -euo pipefail
cd "$(dirname "$0")/.."
WIN_BUILD_DIR="${WIN_BUILD_DIR:-build-win}"
for tool in x86_64-w64-mingw32-g++-posix cmake ninja git; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-windows: $tool is missing; run scripts/setup.sh (g++-mingw-w64-x86-64-posix)" >&2
    exit 1
  fi
done

deps="$WIN_BUILD_DIR/deps/cpp-httplib"
bundle=tests/node/node_modules/node-llama-cpp/llama/gitRelease.bundle
if [ ! -s "$deps/httplib.cpp" ] || [ "$bundle" -nt "$deps/httplib.cpp" ]; then
  if [ ! -f "$bundle" ]; then
    echo "build-windows: $bundle is missing; run scripts/setup.sh (npm install in tests/node)" >&2
    exit 1
  fi
  mkdir -p "$deps"
  git_dir="$(mktemp -d)"
  trap 'rm -rf "$git_dir"' EXIT
  git init -q --bare "$git_dir"
  # The bundle holds one head (the release's commit, HEAD).
  git -C "$git_dir" fetch -q "$PWD/$bundle" HEAD
  ref=FETCH_HEAD
  for f in httplib.h httplib.cpp LICENSE; do
    git -C "$git_dir" show "$ref:vendor/cpp-httplib/$f" >"$deps/$f.tmp"
    mv "$deps/$f.tmp" "$deps/$f"
  done
  echo "build-windows: cpp-httplib $(grep -m1 -o 'CPPHTTPLIB_VERSION "[^"]*"' "$deps/httplib.h") from $bundle"
fi

cmake -S . -B "$WIN_BUILD_DIR" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-mingw64.cmake" \
  -DCMAKE_BUILD_TYPE="${WIN_BUILD_TYPE:-Release}" -DCMAKE_CXX_FLAGS_RELEASE="-O1" \
  -DMEMOPT_WERROR=ON -DMEMOPT_BUILD_BENCH=OFF -DMEMOPT_TRAY=OFF \
  -DMEMOPT_LINUX_BUILD_DIR="$PWD/${BUILD_DIR:-build}" >/dev/null
cmake --build "$WIN_BUILD_DIR" -j"$(nproc)" ${1:+--target "$@"}
