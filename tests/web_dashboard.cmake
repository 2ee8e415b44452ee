# The web dashboard end to end (tests/node/views/web_dashboard.mjs): the real
# daemon on fixture roots with a replay Ollama, Debian's Chromium driven by
# playwright-core; the screenshot lands in build/artifacts/.
find_program(NODE_PROGRAM node)
if(NODE_PROGRAM AND EXISTS /usr/bin/chromium AND TARGET fake_nvml_modern)
  add_test(NAME web_dashboard
           COMMAND ${NODE_PROGRAM} ${CMAKE_SOURCE_DIR}/tests/node/views/web_dashboard.mjs
                   $<TARGET_FILE:ruvector-memopt> ${CMAKE_SOURCE_DIR}/tests/fixtures/runtimes
                   ${CMAKE_SOURCE_DIR}/tests/fixtures/gpu/amd $<TARGET_FILE:fake_nvml_modern>
                   ${CMAKE_BINARY_DIR}/artifacts)
  set_tests_properties(web_dashboard PROPERTIES LABELS integration TIMEOUT 120)
endif()
