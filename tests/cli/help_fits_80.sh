#!/usr/bin/env bash
# Every command's --help fits an 80-column terminal, exits 0, and every
# command group refuses a missing subcommand with exit code 2 (usage error).
set -uo pipefail
BIN=$1
fail=0
walk() {
  local path=("$@")
  local out
  out=$("$BIN" "${path[@]}" --help 2>&1)
  local rc=$?
  if [ $rc -ne 0 ]; then echo "FAIL: '${path[*]} --help' exited $rc"; fail=1; fi
  local wide
  wide=$(printf '%s\n' "$out" | awk 'length($0) > 80 { print length($0) ": " $0 }')
  if [ -n "$wide" ]; then echo "FAIL: '${path[*]} --help' has lines over 80 columns:"; echo "$wide"; fail=1; fi
  # Subcommands are listed after the "Subcommands:" header, two-space indented.
  local subs
  subs=$(printf '%s\n' "$out" | awk '/^Subcommands:/ {on=1; next} on && /^  [a-z]/ {print $1}')
  if [ -n "$subs" ] && [ ${#path[@]} -gt 0 ]; then
    "$BIN" "${path[@]}" >/dev/null 2>&1
    local grc=$?
    if [ $grc -ne 2 ]; then echo "FAIL: '${path[*]}' without a subcommand exited $grc, want 2"; fail=1; fi
  fi
  for s in $subs; do walk "${path[@]}" "$s"; done
}
walk
n=$("$BIN" --version) || { echo "FAIL: --version"; fail=1; }
case "$n" in "ruvector-memopt "*) ;; *) echo "FAIL: --version printed '$n'"; fail=1 ;; esac
"$BIN" --no-such-option >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: unknown option exited $rc, want 2"; fail=1; }
[ $fail -eq 0 ] && echo "help_fits_80: every --help fits 80 columns; usage errors exit 2"
exit $fail
