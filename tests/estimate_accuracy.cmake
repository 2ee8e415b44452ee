# Estimator accuracy against the real llama.cpp (node-llama-cpp's bundled
# build, CPU backend) on the tiny models: tests/node/estimate_accuracy.mjs.
# Writes build/estimate_accuracy.jsonl; `node tests/node/accuracy_table.mjs
# build/estimate_accuracy.jsonl` prints the markdown table.
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)

# llama.cpp's figures on its generic CPU path, also on a CPU with AMX
# (tests/support/no_amx.c says why): preloaded into each test below.
add_library(memopt_no_amx SHARED ${CMAKE_SOURCE_DIR}/tests/support/no_amx.c)
target_link_libraries(memopt_no_amx PRIVATE ${CMAKE_DL_LIBS})
function(memopt_generic_cpu_path test)
  set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:memopt_no_amx>")
endfunction()
memopt_tool_test(NAME estimate_accuracy TOOLS node node-llama-cpp
  COMMAND node ${CMAKE_SOURCE_DIR}/tests/node/estimate_accuracy.mjs
    --memopt $<TARGET_FILE:ruvector-memopt>
    --make-models $<TARGET_FILE:make_tiny_models>
    --work ${CMAKE_BINARY_DIR}/tiny_models
    --out ${CMAKE_BINARY_DIR}/estimate_accuracy.jsonl
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/node
  LABELS integration TIMEOUT 300)
memopt_generic_cpu_path(estimate_accuracy)

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
memopt_generic_cpu_path(estimate_accuracy_real)

# `ai plan --emit llama-args` / `--no-spill`: llama.cpp creates a context with
# exactly the emitted arguments on the tiny models (tests/node/estimate_emit_args.mjs).
memopt_tool_test(NAME estimate_emit_args TOOLS node node-llama-cpp
  COMMAND node ${CMAKE_SOURCE_DIR}/tests/node/estimate_emit_args.mjs
    --memopt $<TARGET_FILE:ruvector-memopt>
    --make-models $<TARGET_FILE:make_tiny_models>
    --work ${CMAKE_BINARY_DIR}/emit_models
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/node
  LABELS integration TIMEOUT 300)
memopt_generic_cpu_path(estimate_emit_args)

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
memopt_generic_cpu_path(estimate_companions)
