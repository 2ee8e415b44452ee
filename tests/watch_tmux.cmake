# `ai watch` driven through tmux (tests/views/watch_tmux.sh): fixture /proc,
# resize, colours, q / Ctrl-C, TERM=dumb, and the daemon mode on a replay API.
find_program(TMUX_PROGRAM tmux)
find_program(NODE_PROGRAM node)
if(TMUX_PROGRAM AND NODE_PROGRAM)
  add_test(NAME watch_tmux
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/views/watch_tmux.sh
                   $<TARGET_FILE:ruvector-memopt> ${CMAKE_SOURCE_DIR}/tests/views)
  set_tests_properties(watch_tmux PROPERTIES LABELS integration TIMEOUT 120)
endif()
