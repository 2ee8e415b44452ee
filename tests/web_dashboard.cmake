# The web dashboard end to end (tests/node/views/web_dashboard.mjs): the real
# daemon on fixture roots with a replay Ollama, Debian's Chromium driven by
# playwright-core; the screenshot lands in build/artifacts/.
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
if(TARGET fake_nvml_modern)
  memopt_tool_test(NAME web_dashboard TOOLS node chromium playwright-core axe-core
    COMMAND node ${CMAKE_SOURCE_DIR}/tests/node/views/web_dashboard.mjs
            $<TARGET_FILE:ruvector-memopt> ${CMAKE_SOURCE_DIR}/tests/fixtures/runtimes
            ${CMAKE_SOURCE_DIR}/tests/fixtures/gpu/amd $<TARGET_FILE:fake_nvml_modern>
            ${CMAKE_BINARY_DIR}/artifacts $<TARGET_FILE:make_sample_gguf>
    LABELS integration TIMEOUT 120)
endif()
