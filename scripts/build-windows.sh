#!/usr/bin/env bash
# Cross-builds ruvector-memopt.exe (Windows 10/11 x64, static: no DLLs beside
# it) and its Wine-run tests with Debian's MinGW-w64 into $WIN_BUILD_DIR
# (default build-win). Usage: scripts/build-windows.sh [cmake target...]
#
# cpp-httplib for Windows comes from the llama.cpp release that the pinned
# node-llama-cpp (tests/node/package.json, installed by scripts/setup.sh)
# ships as a git bundle: the two files are read out of the bundle into
# $WIN_BUILD_DIR/deps at set-up, never copied into the repository.
# SQLite for Windows is the amalgamation inside the npm package
# better-sqlite3@12.11.1 (SQLite 3.53.2), fetched with `npm pack` and checked
# against the tarball's SHA-256 below; sqlite3.c/.h go to $WIN_BUILD_DIR/deps.
# The end-to-end test compares with the Linux build in $BUILD_DIR (build).
set -euo pipefail
cd "$(dirname "$0")/.."
WIN_BUILD_DIR="${WIN_BUILD_DIR:-build-win}"
for tool in x86_64-w64-mingw32-g++-posix cmake ninja git npm sha256sum; do
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

sqlite_pkg=better-sqlite3@12.11.1
sqlite_sha256=ebf0ed75a7a59dbcb3b24bbd014ef49d9f15bc328e4adcbf516f2a8fadfa2835
sqlite_dir="$WIN_BUILD_DIR/deps/sqlite"
if [ ! -s "$sqlite_dir/sqlite3.c" ] || [ "$(cat "$sqlite_dir/.from" 2>/dev/null)" != "$sqlite_sha256" ]; then
  mkdir -p "$sqlite_dir"
  pack_dir="$(mktemp -d)"
  (cd "$pack_dir" && npm pack --silent "$sqlite_pkg" >/dev/null) || {
    echo "build-windows: npm pack $sqlite_pkg failed (the npm registry must be reachable)" >&2
    rm -rf "$pack_dir"; exit 1; }
  tgz="$(ls "$pack_dir"/*.tgz)"
  got="$(sha256sum "$tgz" | cut -d' ' -f1)"
  if [ "$got" != "$sqlite_sha256" ]; then
    echo "build-windows: $sqlite_pkg has SHA-256 $got, expected $sqlite_sha256" >&2
    rm -rf "$pack_dir"; exit 1
  fi
  for f in sqlite3.c sqlite3.h; do
    tar -xzOf "$tgz" "package/deps/sqlite3/$f" >"$sqlite_dir/$f.tmp"
    mv "$sqlite_dir/$f.tmp" "$sqlite_dir/$f"
  done
  echo "$sqlite_sha256" >"$sqlite_dir/.from"
  rm -rf "$pack_dir"
  echo "build-windows: SQLite $(grep -m1 -o 'SQLITE_VERSION  *"[^"]*"' "$sqlite_dir/sqlite3.h" | grep -o '"[^"]*"') from $sqlite_pkg"
fi

cmake -S . -B "$WIN_BUILD_DIR" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-mingw64.cmake" \
  -DCMAKE_BUILD_TYPE="${WIN_BUILD_TYPE:-Release}" -DCMAKE_CXX_FLAGS_RELEASE="-O1" \
  -DMEMOPT_WERROR=ON -DMEMOPT_BUILD_BENCH=OFF -DMEMOPT_TRAY=ON \
  -DMEMOPT_LINUX_BUILD_DIR="$PWD/${BUILD_DIR:-build}" >/dev/null
cmake --build "$WIN_BUILD_DIR" -j"$(nproc)" ${1:+--target "$@"}
