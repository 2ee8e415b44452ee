#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each for
# $1 seconds (default 60) on its seed corpus. Fails on any crash or leak.
# Without clang++ it fails too, unless RVM_ALLOW_SKIP names fuzz (or clang,
# or all): then it exits 77, which scripts/test.sh counts as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
. tests/support/tools.sh
if ! tool_present fuzz; then
  missing_tool fuzz clang || exit $?
fi
shopt -s nullglob
targets=(fuzz/*_fuzz.cc)
if [ "${#targets[@]}" -eq 0 ]; then echo "fuzz: no targets"; exit 0; fi
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMEMOPT_FUZZ=ON -DMEMOPT_BUILD_TESTS=OFF -DMEMOPT_BUILD_BENCH=OFF >/dev/null
for t in "${targets[@]}"; do
  name="$(basename "$t" .cc)"
  cmake --build build-fuzz --target "$name" -j"$(nproc)" >/dev/null
  work="build-fuzz/corpus-$name"; mkdir -p "$work" fuzz/artifacts
  echo "fuzz: $name for ${SECONDS_EACH}s"
  ./build-fuzz/"$name" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix=fuzz/artifacts/ -print_final_stats=1 "$work" "fuzz/corpus/$name" 2>&1 | tail -4
done
echo "fuzz: all targets ran ${SECONDS_EACH}s without a crash"
