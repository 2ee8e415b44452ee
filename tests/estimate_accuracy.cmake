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

# The estimator at real size: zero-weight GGUFs shaped like 20 current model
# families (tests/node/estimate_families.mjs) against llama.cpp's no_alloc dry
# run, the CI subset of the grid (tests/node/estimate_real_accuracy.mjs). The
# full grid and its table: docs/estimate-accuracy.md.
add_executable(estimate_probe ${CMAKE_SOURCE_DIR}/tests/tools/estimate_probe.cc)
target_compile_options(estimate_probe PRIVATE ${MEMOPT_WARNINGS})
target_link_libraries(estimate_probe PRIVATE memopt_estimate memopt_gguf memopt_util)
memopt_tool_test(NAME estimate_accuracy_real TOOLS node node-llama-cpp
  COMMAND node ${CMAKE_SOURCE_DIR}/tests/node/estimate_real_accuracy.mjs
    --probe $<TARGET_FILE:estimate_probe> --subset ci
    --work ${CMAKE_BINARY_DIR}/real_models
    --out ${CMAKE_BINARY_DIR}/estimate_accuracy_real.jsonl
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/node
  LABELS integration TIMEOUT 600)

# `ai plan --emit llama-args` / `--no-spill`: llama.cpp creates a context with
# exactly the emitted arguments on the tiny models (tests/node/estimate_emit_args.mjs).
memopt_tool_test(NAME estimate_emit_args TOOLS node node-llama-cpp
  COMMAND node ${CMAKE_SOURCE_DIR}/tests/node/estimate_emit_args.mjs
    --memopt $<TARGET_FILE:ruvector-memopt>
    --make-models $<TARGET_FILE:make_tiny_models>
    --work ${CMAKE_BINARY_DIR}/emit_models
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/node
  LABELS integration TIMEOUT 300)

# `ai plan --draft / --lora / --mmproj`, Ollama manifests naming a projector
# and adapters, `--emit ollama`: the draft and LoRA against the real llama.cpp
# (tests/node/estimate_companions.mjs).
memopt_tool_test(NAME estimate_companions TOOLS node node-llama-cpp
  COMMAND node ${CMAKE_SOURCE_DIR}/tests/node/estimate_companions.mjs
    --memopt $<TARGET_FILE:ruvector-memopt>
    --make-models $<TARGET_FILE:make_tiny_models>
    --work ${CMAKE_BINARY_DIR}/companion_models
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/node
  LABELS integration TIMEOUT 300)
