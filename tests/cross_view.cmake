# Same process, same numbers, everywhere (tests/cross_view.sh): the real
# llama.cpp (node-llama-cpp) read through every view the one Snapshot feeds.
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
memopt_tool_test(NAME cross_view_consistency TOOLS node node-llama-cpp
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cross_view.sh $<TARGET_FILE:ruvector-memopt>
          $<TARGET_FILE:make_tiny_models> ${CMAKE_SOURCE_DIR}/tests/node
  LABELS integration TIMEOUT 240)
