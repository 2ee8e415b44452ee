#!/usr/bin/env bash
# require_tools.sh TOOL... -- COMMAND [ARG...]
# Runs COMMAND when every TOOL is there (tests/support/tools.sh names them).
# A missing one fails the test with how to install it, or exits 77 (CTest:
# skipped, through SKIP_RETURN_CODE) when RVM_ALLOW_SKIP names it.
# "absent:NAME" is a tool the configure step did not find (a library the
# build links, such as the tray's indicator): always missing at run time.
set -uo pipefail
here="${BASH_SOURCE[0]%/*}"  # builtins only: PATH may be empty
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
. "$here/tools.sh"

who="${MEMOPT_TEST_NAME:-test}"
tools=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  tools+=("$1")
  shift
done
if [ $# -lt 2 ]; then
  echo "usage: require_tools.sh TOOL... -- COMMAND [ARG...]" >&2
  exit 2
fi
shift

for t in "${tools[@]}"; do
  case "$t" in
    absent:*) missing_tool "$who" "${t#absent:}" || exit $? ;;
    *)
      if ! tool_present "$t"; then
        missing_tool "$who" "$t" || exit $?
      fi
      ;;
  esac
done
exec "$@"
