# The seed's success metrics script end to end on its short setting
# (bench/seed_metrics.sh --quick): the simulator's held-out figures and
# replayed week, real llama.cpp (node-llama-cpp) with and without the daemon.
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
memopt_tool_test(NAME seed_metrics_smoke TOOLS node node-llama-cpp
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/seed_metrics_smoke.sh ${CMAKE_BINARY_DIR}
  LABELS integration TIMEOUT 300)
