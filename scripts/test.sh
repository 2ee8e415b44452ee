#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, build with
# warnings as errors into $BUILD_DIR (default build/), run every CTest test
# (unit, integration with the real llama.cpp from node-llama-cpp, fuzz seed
# replays), the Windows build's tests under Wine (tests/windows/run.sh), then
# a bounded libFuzzer run of every fuzz target (FUZZ_SECONDS
# each, default 30; 0 leaves it out and counts it as skipped).
#
# A test whose tool is missing fails, naming the tool and how to install it,
# unless RVM_ALLOW_SKIP names the tool (tests/support/tools.sh); skipped tests
# are counted apart, never as passed. The last line is exactly
# "N passed, N failed, N skipped" (CI reads it; the libFuzzer run counts as
# one test), and the exit status is non-zero when any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR="${BUILD_DIR:-build}"
FUZZ_SECONDS="${FUZZ_SECONDS:-30}"

# Set-up or build failing is one failure: no test could run.
for step in scripts/setup.sh scripts/build.sh; do
  if ! bash "$step"; then
    echo "test: $step failed; no test ran"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
  fi
done

rm -f "$BUILD_DIR/ctest.xml"
ctest_rc=0
(cd "$BUILD_DIR" && ctest --output-on-failure -j"$(nproc)" --output-junit "$PWD/ctest.xml") 2>&1 |
  tee "$BUILD_DIR/ctest.log" || ctest_rc=$?
read -r passed failed skipped < <(bash scripts/ctest_counts.sh "$BUILD_DIR/ctest.xml")
# ctest failing with no failed test in its report (it could not read its
# tests, say) must still fail the suite.
if [ "$ctest_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "test: ctest exited $ctest_rc without a failed test in its report"
  failed=1
fi

# The Windows build (ruvector-memopt.exe, MinGW) and its tests under Wine
# (tests/windows/run.sh): its CTest counts join the totals; a cross-build
# that fails counts as one failure, missing MinGW or Wine as one skip only
# when RVM_ALLOW_SKIP names it.
export WIN_BUILD_DIR="${WIN_BUILD_DIR:-$BUILD_DIR-win}"
win_rc=0
bash tests/windows/run.sh 2>&1 | tee "$BUILD_DIR/windows.log" || win_rc=$?
if [ "$win_rc" -eq 77 ]; then
  skipped=$((skipped + 1))
elif [ -s "$WIN_BUILD_DIR/ctest.xml" ]; then
  read -r wp wf ws < <(bash scripts/ctest_counts.sh "$WIN_BUILD_DIR/ctest.xml")
  passed=$((passed + wp))
  skipped=$((skipped + ws))
  if [ "$win_rc" -ne 0 ] && [ "$wf" -eq 0 ]; then wf=1; fi
  failed=$((failed + wf))
else
  echo "test: the Windows tests did not run (see $BUILD_DIR/windows.log)"
  failed=$((failed + 1))
fi

if [ "$FUZZ_SECONDS" = "0" ]; then
  echo "fuzz: SKIPPED: FUZZ_SECONDS=0 (seed replays ran under ctest)"
  skipped=$((skipped + 1))
else
  fuzz_rc=0
  bash scripts/fuzz.sh "$FUZZ_SECONDS" || fuzz_rc=$?
  case "$fuzz_rc" in
    0) passed=$((passed + 1)) ;;
    77) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)) ;;
  esac
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
