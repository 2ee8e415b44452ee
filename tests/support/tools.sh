# Sourced by tests/support/require_tools.sh and scripts/fuzz.sh: the tools
# tests need that the build does not make, how to tell one is there, how to
# install it, and whether the person running the tests allowed its absence.
#
# The rule: a test that cannot run because a tool is missing FAILS, naming the
# tool and how to install it. Only an explicit RVM_ALLOW_SKIP (a comma list of
# the names below, or "all") turns that into a skip, so a machine where set-up
# half failed never shows a green suite that proved nothing. CI sets none.

# Builtins only (no dirname): tests/skip_rule/run.sh runs this with an
# empty PATH.
MEMOPT_TOOLS_ROOT="${BASH_SOURCE[0]%/*}"
[ "$MEMOPT_TOOLS_ROOT" = "${BASH_SOURCE[0]}" ] && MEMOPT_TOOLS_ROOT=.
MEMOPT_TOOLS_ROOT="$MEMOPT_TOOLS_ROOT/../.."

# tool_present NAME: 0 when NAME can be used now.
tool_present() {
  local npm="$MEMOPT_TOOLS_ROOT/tests/node/node_modules"
  case "$1" in
    tmux | node | prometheus | promtool) command -v "$1" >/dev/null 2>&1 ;;
    # playwright-core drives this exact binary (tests/node/views/web_dashboard.mjs).
    chromium) [ -x /usr/bin/chromium ] ;;
    # xvfb-run starts the X server through xauth.
    xvfb) command -v xvfb-run >/dev/null 2>&1 && command -v xauth >/dev/null 2>&1 ;;
    node-llama-cpp | playwright-core | axe-core | openai | ollama) [ -d "$npm/$1" ] ;;
    huggingface-gguf) [ -d "$npm/@huggingface/gguf" ] ;;
    clang | fuzz) command -v clang++ >/dev/null 2>&1 ;;
    mingw) command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 ;;
    wine) [ -x /usr/lib/wine/wine64 ] ;;
    # Decided at configure time (tests/support/tools.cmake passes absent:NAME).
    tray) return 0 ;;
    *) return 1 ;;
  esac
}

# tool_hint NAME: how to install NAME (scripts/setup.sh does all of these).
tool_hint() {
  case "$1" in
    tmux) echo "apt-get install tmux" ;;
    chromium) echo "apt-get install chromium (/usr/bin/chromium)" ;;
    prometheus | promtool) echo "apt-get install prometheus" ;;
    xvfb) echo "apt-get install xvfb xauth" ;;
    node) echo "apt-get install nodejs npm" ;;
    node-llama-cpp | playwright-core | axe-core | huggingface-gguf | openai | ollama)
      echo "cd tests/node && npm install (pinned in package.json)"
      ;;
    tray) echo "apt-get install libayatana-appindicator3-dev, then configure again" ;;
    clang | fuzz) echo "apt-get install clang libclang-rt-14-dev (clang++, libFuzzer)" ;;
    mingw) echo "apt-get install g++-mingw-w64-x86-64-posix" ;;
    wine) echo "apt-get install wine64" ;;
    *) echo "unknown tool: add it to tests/support/tools.sh" ;;
  esac
}

# skip_allowed NAME...: 0 when RVM_ALLOW_SKIP names any of NAMEs, or "all".
skip_allowed() {
  local item want items
  IFS=',' read -ra items <<<"${RVM_ALLOW_SKIP:-}"
  for item in "${items[@]}"; do
    item="${item//[[:space:]]/}"
    [ "$item" = all ] && return 0
    for want in "$@"; do
      [ -n "$item" ] && [ "$item" = "$want" ] && return 0
    done
  done
  return 1
}

# missing_tool WHO NAME: report NAME missing for WHO. Returns 77 when
# RVM_ALLOW_SKIP allows it (CTest's SKIP_RETURN_CODE), 1 otherwise. promtool
# ships with prometheus, and the fuzz run needs only clang, so those names
# allow each other.
missing_tool() {
  local who="$1" name="$2" also=()
  case "$name" in
    promtool) also=(prometheus) ;;
    clang) also=(fuzz) ;;
    fuzz) also=(clang) ;;
  esac
  if skip_allowed "$name" "${also[@]}"; then
    echo "$who: SKIPPED: $name is missing and RVM_ALLOW_SKIP=${RVM_ALLOW_SKIP:-} allows it" >&2
    return 77
  fi
  echo "$who: FAILED: $name is missing; install it: $(tool_hint "$name")" \
    "(bash scripts/setup.sh installs everything), or skip it on purpose with" \
    "RVM_ALLOW_SKIP=$name" >&2
  return 1
}
