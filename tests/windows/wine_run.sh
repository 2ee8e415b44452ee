#!/usr/bin/env bash
# wine_run.sh WINEPREFIX PROGRAM.exe [ARG...]: runs a Windows program of the
# MinGW build under Debian's wine64 (CMAKE_CROSSCOMPILING_EMULATOR, so CTest
# runs the .exe tests through it). The prefix lives under the build dir and
# is made on first use (wineboot, ~20 s); a persistent wineserver keeps later
# runs at a fraction of a second. Wine's own chatter is off (WINEDEBUG=-all),
# so stdout and stderr are the program's.
set -euo pipefail
prefix="$(realpath -m "$1")"  # wine wants it absolute
shift
wine=/usr/lib/wine/wine64
if [ ! -x "$wine" ]; then
  echo "wine_run: $wine is missing; install it: apt-get install wine64" >&2
  exit 1
fi
export WINEPREFIX="$prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
mkdir -p "$prefix"
if [ ! -f "$prefix/system.reg" ]; then
  # Several tests may start at once: one of them boots the prefix.
  exec 9>"$prefix.lock"
  flock 9
  [ -f "$prefix/system.reg" ] || "$wine" wineboot --init >/dev/null 2>&1 || true
  flock -u 9
fi
# The first program of a wineserver session starts Wine's services
# (winedevice.exe, ...), which inherit its stdout and stderr and outlive it:
# started here with /dev/null, so CTest's pipes close when the test ends.
/usr/lib/wine/wineserver -p 60 </dev/null >/dev/null 2>&1 || true
"$wine" hostname.exe </dev/null >/dev/null 2>&1 || true
exec "$wine" "$@"
