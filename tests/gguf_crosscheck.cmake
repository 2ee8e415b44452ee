# Cross-check of the GGUF reader against an independent implementation, the
# npm package @huggingface/gguf (pinned in tests/node/package.json).
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
add_executable(gguf_crosscheck ${CMAKE_SOURCE_DIR}/tests/gguf_crosscheck/crosscheck.cc)
target_compile_options(gguf_crosscheck PRIVATE ${MEMOPT_WARNINGS})
target_link_libraries(gguf_crosscheck PRIVATE memopt_testsupport memopt_gguf)
memopt_tool_test(NAME gguf_crosscheck TOOLS node huggingface-gguf
  COMMAND $<TARGET_FILE:gguf_crosscheck> node ${CMAKE_SOURCE_DIR}/tests/node/gguf_dump.mjs
          ${CMAKE_BINARY_DIR}/sample.gguf
  LABELS integration TIMEOUT 120)
