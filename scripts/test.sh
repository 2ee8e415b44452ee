#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, build with
# warnings as errors, run every CTest test (unit, integration with the real
# llama.cpp from node-llama-cpp, fuzz seed replays), then a bounded libFuzzer
# run of every fuzz target (FUZZ_SECONDS each, default 30; 0 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")
if [ "${FUZZ_SECONDS:-30}" != "0" ]; then
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
fi
