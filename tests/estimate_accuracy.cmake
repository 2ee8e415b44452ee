# Estimator accuracy against the real llama.cpp (node-llama-cpp's bundled
# build, CPU backend) on the tiny models: tests/node/estimate_accuracy.mjs.
# Writes build/estimate_accuracy.jsonl; `node tests/node/accuracy_table.mjs
# build/estimate_accuracy.jsonl` prints the markdown table.
find_program(MEMOPT_NODE node)
if(MEMOPT_NODE AND EXISTS ${CMAKE_SOURCE_DIR}/tests/node/node_modules/node-llama-cpp)
  add_test(NAME estimate_accuracy
    COMMAND ${MEMOPT_NODE} ${CMAKE_SOURCE_DIR}/tests/node/estimate_accuracy.mjs
      --memopt $<TARGET_FILE:ruvector-memopt>
      --make-models $<TARGET_FILE:make_tiny_models>
      --work ${CMAKE_BINARY_DIR}/tiny_models
      --out ${CMAKE_BINARY_DIR}/estimate_accuracy.jsonl
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/node)
  set_tests_properties(estimate_accuracy PROPERTIES LABELS integration TIMEOUT 300)
else()
  message(STATUS "estimate_accuracy: node or tests/node/node_modules missing; test not registered")
endif()
