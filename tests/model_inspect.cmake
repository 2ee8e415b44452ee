# `model inspect` end to end: the built binary on the generated sample, on a
# fake Ollama store, on a split model and on broken input (exit codes 1 and 2).
if(TARGET ruvector-memopt AND TARGET make_sample_gguf)
  add_test(NAME model_inspect_cli
    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/model_inspect/run.sh $<TARGET_FILE:ruvector-memopt>
            ${CMAKE_BINARY_DIR}/sample.gguf ${CMAKE_SOURCE_DIR}/tests/fixtures/runtimes)
  set_tests_properties(model_inspect_cli PROPERTIES LABELS integration TIMEOUT 120)
endif()
