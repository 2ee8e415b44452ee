# `ai watch` driven through tmux (tests/node/views/watch_tmux.sh): fixture /proc,
# fixture GPUs (fake NVML), resize, colours, q / Ctrl-C, TERM=dumb, the daemon
# mode on a replay API, and a real llama.cpp process (node-llama-cpp).
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
memopt_tool_test(NAME watch_tmux TOOLS tmux node node-llama-cpp
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/node/views/watch_tmux.sh
          $<TARGET_FILE:ruvector-memopt> ${CMAKE_SOURCE_DIR}/tests/node/views
          "$<$<TARGET_EXISTS:fake_nvml_modern>:$<TARGET_FILE:fake_nvml_modern>>"
          ${CMAKE_SOURCE_DIR}/tests/fixtures/gpu/amd
          "$<$<TARGET_EXISTS:make_tiny_models>:$<TARGET_FILE:make_tiny_models>>"
  LABELS integration TIMEOUT 120)
