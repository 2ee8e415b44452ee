# The gateway (`serve`) on the real llama.cpp (tests/node/gateway.mjs): two
# tiny models behind a budget that holds one, driven by the openai and ollama
# npm clients.
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
memopt_tool_test(NAME gateway_real_llamacpp TOOLS node node-llama-cpp openai ollama
  COMMAND node ${CMAKE_SOURCE_DIR}/tests/node/gateway.mjs $<TARGET_FILE:ruvector-memopt>
          $<TARGET_FILE:make_tiny_models>
  LABELS integration TIMEOUT 300)

# The gateway in the views (tests/node/gateway_views.mjs): `ai status --json`,
# `ai models --json` and their text while the real `serve` loads, streams and
# swaps tiny llama.cpp models; then `daemon --serve` and its /api/v1/status.
memopt_tool_test(NAME gateway_views_real_llamacpp TOOLS node node-llama-cpp openai
  COMMAND node ${CMAKE_SOURCE_DIR}/tests/node/gateway_views.mjs $<TARGET_FILE:ruvector-memopt>
          $<TARGET_FILE:make_tiny_models>
  LABELS integration TIMEOUT 300)
