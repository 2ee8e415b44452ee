# Cross-check of the GGUF reader against an independent implementation, the
# npm package @huggingface/gguf (pinned in tests/node/package.json).
find_program(MEMOPT_NODE node)
add_executable(gguf_crosscheck ${CMAKE_SOURCE_DIR}/tests/gguf_crosscheck/crosscheck.cc)
target_compile_options(gguf_crosscheck PRIVATE ${MEMOPT_WARNINGS})
target_link_libraries(gguf_crosscheck PRIVATE memopt_testsupport memopt_gguf)
add_test(NAME gguf_crosscheck
  COMMAND gguf_crosscheck ${MEMOPT_NODE} ${CMAKE_SOURCE_DIR}/tests/node/gguf_dump.mjs ${CMAKE_BINARY_DIR}/sample.gguf)
set_tests_properties(gguf_crosscheck PROPERTIES LABELS integration TIMEOUT 120)
