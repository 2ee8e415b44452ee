#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, build with
# warnings as errors, run every CTest test (unit, integration with the real
# llama.cpp from node-llama-cpp, fuzz seed replays), then a bounded libFuzzer
# run of every fuzz target (FUZZ_SECONDS each, default 30; 0 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)") 2>&1 | tee build/ctest.log
if [ "${FUZZ_SECONDS:-30}" != "0" ]; then
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
fi
# The suite's closing line (the fuzz run prints after ctest's own summary).
summary=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" build/ctest.log | tail -n 1)
failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$summary")
total=$(sed -E 's/.* tests failed out of ([0-9]+).*/\1/' <<<"$summary")
echo "ctest: $((total - failed)) passed, $failed failed"
