# `ai watch` driven through tmux (tests/node/views/watch_tmux.sh): fixture /proc,
# fixture GPUs (fake NVML), resize, colours, q / Ctrl-C, TERM=dumb, the daemon
# mode on a replay API, and a real llama.cpp process (node-llama-cpp).
find_program(TMUX_PROGRAM tmux)
find_program(NODE_PROGRAM node)
if(TMUX_PROGRAM AND NODE_PROGRAM)
  add_test(NAME watch_tmux
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/node/views/watch_tmux.sh
                   $<TARGET_FILE:ruvector-memopt> ${CMAKE_SOURCE_DIR}/tests/node/views
                   "$<$<TARGET_EXISTS:fake_nvml_modern>:$<TARGET_FILE:fake_nvml_modern>>"
                   ${CMAKE_SOURCE_DIR}/tests/fixtures/gpu/amd
                   "$<$<TARGET_EXISTS:make_tiny_models>:$<TARGET_FILE:make_tiny_models>>")
  set_tests_properties(watch_tmux PROPERTIES LABELS integration TIMEOUT 120)
endif()
