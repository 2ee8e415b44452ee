# The preload predictor on the real llama.cpp (bench/preload_latency.sh, one
# repetition): a gateway whose request log makes a model likely starts it
# before its first request (the request is a preload hit), and that request's
# first token comes sooner than a cold start's.
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
memopt_tool_test(NAME gateway_preload_real_llamacpp TOOLS node node-llama-cpp
  COMMAND bash ${CMAKE_SOURCE_DIR}/bench/preload_latency.sh $<TARGET_FILE:ruvector-memopt>
          $<TARGET_FILE:make_tiny_models> 1
  LABELS integration TIMEOUT 300)
