#!/usr/bin/env bash
# ctest_counts.sh JUNIT_XML: prints "PASSED FAILED SKIPPED" for a ctest run
# written with --output-junit. Skipped means CTest skipped the test on purpose
# (SKIP_RETURN_CODE, SKIP_REGULAR_EXPRESSION, or a DISABLED test); a test
# CTest could not start (its program missing) is a failure, although the
# JUnit file files it under "notrun" as well. A missing file counts as one
# failure: the run did not happen.
set -euo pipefail
xml="${1:?usage: ctest_counts.sh JUNIT_XML}"
if [ ! -s "$xml" ]; then
  echo "ctest_counts: $xml is missing or empty (ctest did not finish)" >&2
  echo "0 1 0"
  exit 0
fi
# ctest writes one <testcase ...> tag per line; test output is XML-escaped,
# so it cannot forge these tags.
total=$(grep -c '<testcase ' "$xml" || true)
passed=$(grep '<testcase ' "$xml" | grep -c 'status="run"' || true)
disabled=$(grep '<testcase ' "$xml" | grep -c 'status="disabled"' || true)
skipped=$(grep -cE '<skipped message="SKIP_(RETURN_CODE|REGULAR_EXPRESSION)' "$xml" || true)
skipped=$((skipped + disabled))
echo "$passed $((total - passed - skipped)) $skipped"
