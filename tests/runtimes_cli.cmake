# End-to-end tests of the runtime commands (ai models/unload/preload/benchmark,
# vram clear/defrag): the real binary against the in-process replay server
# and, for ai benchmark, the real llama.cpp behind tests/node/openai_server.mjs.
if(MEMOPT_BUILD_TESTS AND TARGET memopt_runtimes AND TARGET memopt_testsupport)
  add_executable(test_runtimes_cli ${CMAKE_SOURCE_DIR}/tests/runtimes_cli_test.cc)
  target_compile_options(test_runtimes_cli PRIVATE ${MEMOPT_WARNINGS})
  target_link_libraries(test_runtimes_cli PRIVATE memopt_runtimes memopt_testsupport
                        GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(test_runtimes_cli PRIVATE
    MEMOPT_SOURCE_DIR="${CMAKE_SOURCE_DIR}" MEMOPT_BINARY_DIR="${CMAKE_BINARY_DIR}"
    MEMOPT_FIXTURES_DIR="${CMAKE_SOURCE_DIR}/tests/fixtures"
    MEMOPT_CLI="$<TARGET_FILE:ruvector-memopt>")
  add_dependencies(test_runtimes_cli ruvector-memopt)
  # The fake libnvidia-ml.so.1 (tests/gpu_fake_nvml.cmake) lets the unload
  # verification read "GPU memory" through the real NVML path.
  if(TARGET test_gpu)
    add_dependencies(test_runtimes_cli fake_nvml_modern)
    target_compile_definitions(test_runtimes_cli PRIVATE MEMOPT_FAKE_NVML_DIR="${CMAKE_BINARY_DIR}/fake_nvml")
  endif()
  gtest_discover_tests(test_runtimes_cli DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS integration TIMEOUT 120)
endif()
