# The image-generation handoff on the real llama.cpp (tests/node/
# gateway_handoff.mjs): `serve` with a node-llama-cpp backend and a stand-in
# ComfyUI whose queue the test fills and empties.
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
memopt_tool_test(NAME gateway_handoff_real_llamacpp TOOLS node node-llama-cpp openai
  COMMAND node ${CMAKE_SOURCE_DIR}/tests/node/gateway_handoff.mjs $<TARGET_FILE:ruvector-memopt>
          $<TARGET_FILE:make_tiny_models>
  LABELS integration TIMEOUT 300)
