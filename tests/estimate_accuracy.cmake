# Estimator accuracy against the real llama.cpp (node-llama-cpp's bundled
# build, CPU backend) on the tiny models: tests/node/estimate_accuracy.mjs.
# Writes build/estimate_accuracy.jsonl; `node tests/node/accuracy_table.mjs
# build/estimate_accuracy.jsonl` prints the markdown table.
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
memopt_tool_test(NAME estimate_accuracy TOOLS node node-llama-cpp
  COMMAND node ${CMAKE_SOURCE_DIR}/tests/node/estimate_accuracy.mjs
    --memopt $<TARGET_FILE:ruvector-memopt>
    --make-models $<TARGET_FILE:make_tiny_models>
    --work ${CMAKE_BINARY_DIR}/tiny_models
    --out ${CMAKE_BINARY_DIR}/estimate_accuracy.jsonl
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/node
  LABELS integration TIMEOUT 300)
