#!/usr/bin/env bash
# run.sh: the Windows tests in one step (called by scripts/test.sh).
# Cross-builds ruvector-memopt.exe
# and its tests (scripts/build-windows.sh, into $WIN_BUILD_DIR) and runs them
# under Wine with CTest, writing $WIN_BUILD_DIR/ctest.xml for the counts.
# Exit: 0 all passed; 1 a failure (the build counts as one); 77 mingw or wine
# missing and RVM_ALLOW_SKIP names it (missing otherwise fails).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/support/tools.sh
BUILD_DIR="${BUILD_DIR:-build}"
export WIN_BUILD_DIR="${WIN_BUILD_DIR:-$BUILD_DIR-win}"
for t in mingw wine; do
  if ! tool_present "$t"; then
    MEMOPT_TEST_NAME=windows missing_tool windows "$t"
    exit $?
  fi
done
start=$(date +%s)
rm -f "$WIN_BUILD_DIR/ctest.xml"
if ! bash scripts/build-windows.sh; then
  echo "windows: FAILED: scripts/build-windows.sh failed"
  exit 1
fi
built=$(date +%s)
rc=0
(cd "$WIN_BUILD_DIR" && ctest --output-on-failure -j"$(nproc)" --output-junit "$PWD/ctest.xml") ||
  rc=$?
end=$(date +%s)
echo "windows: build $((built - start)) s, tests under Wine $((end - built)) s"
[ "$rc" -eq 0 ] || exit 1
