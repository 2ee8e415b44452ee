#!/usr/bin/env bash
# The house's layering, checked on every run: an area's non-test files may
# include only the areas listed for it (itself included). Collectors and
# parsers at the bottom include nothing above them; estimate includes only
# gguf/util; the views (ui) never include the daemon.
# Usage: layers.sh <source dir>
set -euo pipefail
SRC=$1/src
declare -A allowed=(
  [util]="util"
  [gguf]="gguf util"
  [proc]="proc util"
  [gpu]="gpu proc util"
  [estimate]="estimate gguf util"
  [runtimes]="runtimes estimate gguf util"
  [snapshot]="snapshot runtimes gpu proc util"
  [detect]="detect snapshot runtimes gpu proc gguf estimate util"
  [assembler]="assembler detect snapshot runtimes gpu proc gguf estimate util"
  [policy]="policy snapshot runtimes util"  # runtimes: its pure URL parsing (the Snapshot holds runtimes types already)
  [actuator]="actuator policy runtimes gpu util"
  [plan]="plan estimate gguf gpu proc util"
  [daemon]="daemon actuator assembler plan policy snapshot detect runtimes gpu proc util ui"
  [ui]="ui snapshot policy runtimes gpu util"
  [serve]="serve daemon actuator policy detect estimate gguf runtimes gpu proc util"  # actuator: the render handoff sleeps/unloads endpoint models through it
)
bad=0
checked=0
for area in "${!allowed[@]}"; do
  [ -d "$SRC/$area" ] || { echo "layers: no area $area"; bad=1; continue; }
  for f in "$SRC/$area"/*.cc "$SRC/$area"/*.h; do
    [ -e "$f" ] || continue
    case "$f" in *_test.cc) continue ;; esac
    checked=$((checked + 1))
    while IFS= read -r inc; do
      [ -z "$inc" ] && continue
      case " ${allowed[$area]} " in
        *" $inc "*) ;;
        *) echo "layers: ${f#$1/} includes $inc/ (allowed for $area: ${allowed[$area]})"; bad=1 ;;
      esac
    done < <(grep -oE '^#include "[a-z_]+/' "$f" | sed -E 's/#include "([a-z_]+)\//\1/' | sort -u)
  done
done
# Every area under src/ has a row (a new area must say where it sits).
for d in "$SRC"/*/; do
  a=$(basename "$d")
  # The edges may include anything; platform/ holds only the MinGW build's
  # POSIX headers, included as system headers (<unistd.h>), never by area.
  case "$a" in cli|tray|platform) continue ;; esac
  [ -n "${allowed[$a]+x}" ] || { echo "layers: area $a has no row in tests/layers.sh"; bad=1; }
done
[ $bad = 0 ] && echo "layers: $checked files in ${#allowed[@]} areas include only what their layer allows"
exit $bad
