#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, run.
# Without arguments it shows the most useful view (ai status); with arguments it runs
# ruvector-memopt with them (e.g. scripts/run.sh ai plan model.gguf).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
if [ "$#" -gt 0 ]; then
  exec ./build/ruvector-memopt "$@"
fi
exec ./build/ruvector-memopt ai status
