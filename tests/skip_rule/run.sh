#!/usr/bin/env bash
# A test that cannot run because a tool is missing fails, naming the tool
# and how to install it; RVM_ALLOW_SKIP (comma list, or "all") turns that
# into a skip that CTest and scripts/test.sh's closing line report as
# skipped. Checked here on every layer that applies the rule. The outer
# RVM_ALLOW_SKIP is ignored: each case sets its own.
# Usage: run.sh SOURCE_DIR TOOL_GUARD_PROBE CMAKE CTEST
set -uo pipefail
SRC="$1"; PROBE="$2"; CMAKE="$3"; CTEST="$4"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fail() { echo "skip_rule: FAIL: $*"; exit 1; }

# A PATH with only what the guarded commands need: no tmux, no clang++.
mkdir -p "$WORK/bin" "$WORK/fake"
for t in bash dirname; do ln -s "$(command -v "$t")" "$WORK/bin/$t"; done
ln -s /bin/true "$WORK/fake/tmux"  # "installed" tmux, for the run-through case

# run EXPECTED_RC NEEDLE ENV... -- CMD...: runs CMD with exactly ENV (env -i),
# checks its exit status and that its output holds NEEDLE.
run() {
  local want="$1" needle="$2" envs=()
  shift 2
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local out rc
  out="$(env -i "${envs[@]}" "$@" 2>&1)"
  rc=$?
  [ "$rc" -eq "$want" ] || fail "exit $rc, not $want: ${envs[*]} $*: $out"
  [[ "$out" == *"$needle"* ]] || fail "no \"$needle\" in the output of ${envs[*]} $*: $out"
}

# 1. The shell guard every tool-needing CTest test runs through.
REQ="$SRC/tests/support/require_tools.sh"
B="$WORK/bin/bash"
run 1 "FAILED: tmux is missing; install it: apt-get install tmux" PATH="$WORK/bin" \
  -- "$B" "$REQ" tmux -- /bin/true
run 1 "RVM_ALLOW_SKIP=tmux" PATH="$WORK/bin" -- "$B" "$REQ" tmux -- /bin/true
run 77 "SKIPPED: tmux is missing" PATH="$WORK/bin" RVM_ALLOW_SKIP=tmux -- "$B" "$REQ" tmux -- /bin/true
run 77 "SKIPPED" PATH="$WORK/bin" "RVM_ALLOW_SKIP= chromium , tmux" -- "$B" "$REQ" tmux -- /bin/true
run 77 "SKIPPED" PATH="$WORK/bin" RVM_ALLOW_SKIP=all -- "$B" "$REQ" tmux -- /bin/true
# Another tool's permission, or a name that only starts like it, is not one.
run 1 "FAILED: tmux" PATH="$WORK/bin" RVM_ALLOW_SKIP=chromium,prometheus -- "$B" "$REQ" tmux -- /bin/true
run 1 "FAILED: tmux" PATH="$WORK/bin" RVM_ALLOW_SKIP=tmuxx -- "$B" "$REQ" tmux -- /bin/true
# A missing tool after a present one still fails the test.
run 1 "FAILED: tray" PATH="$WORK/fake:$WORK/bin" -- "$B" "$REQ" tmux absent:tray -- /bin/true
run 1 "FAILED: tray is missing; install it: apt-get install libayatana-appindicator3-dev" \
  PATH="$WORK/bin" -- "$B" "$REQ" absent:tray -- /bin/true
run 77 "SKIPPED: tray" PATH="$WORK/bin" RVM_ALLOW_SKIP=tray -- "$B" "$REQ" absent:tray -- /bin/true
run 77 "SKIPPED: promtool" PATH="$WORK/bin" RVM_ALLOW_SKIP=prometheus -- "$B" "$REQ" promtool -- /bin/true
# With the tool there, the command runs and its exit status is the test's.
run 3 "ran" PATH="$WORK/fake:$WORK/bin" -- "$B" "$REQ" tmux -- "$B" -c 'echo ran; exit 3'

# 2. The C++ guard (MEMOPT_REQUIRE_TOOL) on a tool that never exists.
run 0 "[  PASSED  ] 3 tests" -- "$PROBE" --gtest_filter='SkipAllowed.*:Probe.PresentToolRunsTheTest'
run 1 "memopt-probe-tool is missing; install it: apt-get install memopt-probe-tool" \
  -- "$PROBE" --gtest_filter=Probe.MissingTool
run 1 "[  FAILED  ] Probe.MissingTool" RVM_ALLOW_SKIP=tmux -- "$PROBE" --gtest_filter=Probe.MissingTool
run 0 "[  SKIPPED ] Probe.MissingTool" RVM_ALLOW_SKIP=memopt-probe-tool \
  -- "$PROBE" --gtest_filter=Probe.MissingTool
run 0 "[  SKIPPED ] Probe.MissingTool" RVM_ALLOW_SKIP=all -- "$PROBE" --gtest_filter=Probe.MissingTool

# 3. CTest: a test registered as tests/*.cmake do (memopt_tool_test) fails
#    without its tool, is reported skipped (not passed) when allowed, and the
#    closing line's counts say so.
mkdir -p "$WORK/proj"
cat >"$WORK/proj/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.25)
project(skip_rule_probe NONE)
enable_testing()
include($SRC/tests/support/tools.cmake)
memopt_tool_test(NAME needs_tmux TOOLS tmux COMMAND /bin/true)
memopt_tool_test(NAME needs_nothing COMMAND /bin/true)
EOF
"$CMAKE" -S "$WORK/proj" -B "$WORK/proj/b" >"$WORK/cmake.log" 2>&1 || fail "configure: $(cat "$WORK/cmake.log")"
counts() { bash "$SRC/scripts/ctest_counts.sh" "$WORK/proj/b/j.xml"; }
run 8 "needs_tmux (Failed)" PATH="$WORK/bin" -- "$CTEST" --test-dir "$WORK/proj/b" \
  --output-junit "$WORK/proj/b/j.xml"
[ "$(counts)" = "1 1 0" ] || fail "counts without tmux: $(counts), not 1 1 0"
run 0 "needs_tmux (Skipped)" PATH="$WORK/bin" RVM_ALLOW_SKIP=tmux -- "$CTEST" --test-dir "$WORK/proj/b" \
  --output-junit "$WORK/proj/b/j.xml"
[ "$(counts)" = "1 0 1" ] || fail "counts with RVM_ALLOW_SKIP=tmux: $(counts), not 1 0 1"
run 0 "100% tests passed" PATH="$WORK/fake:$WORK/bin" -- "$CTEST" --test-dir "$WORK/proj/b" \
  --output-junit "$WORK/proj/b/j.xml"
[ "$(counts)" = "2 0 0" ] || fail "counts with tmux: $(counts), not 2 0 0"

# 4. scripts/fuzz.sh without clang++.
run 1 "FAILED: clang is missing; install it: apt-get install clang" PATH="$WORK/bin" \
  -- "$B" "$SRC/scripts/fuzz.sh" 1
run 77 "SKIPPED: clang" PATH="$WORK/bin" RVM_ALLOW_SKIP=fuzz -- "$B" "$SRC/scripts/fuzz.sh" 1
run 77 "SKIPPED: clang" PATH="$WORK/bin" RVM_ALLOW_SKIP=clang -- "$B" "$SRC/scripts/fuzz.sh" 1

echo "skip_rule: all checks passed"
