# CLI surface: --help on every level fits 80 columns, usage errors exit 2.
add_test(NAME cli_help_fits_80 COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/help_fits_80.sh $<TARGET_FILE:ruvector-memopt>)
set_tests_properties(cli_help_fits_80 PROPERTIES LABELS integration TIMEOUT 120)

# Every bad option value is a usage error (exit 2) naming the option and value.
add_test(NAME cli_usage_errors COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/usage_errors.sh $<TARGET_FILE:ruvector-memopt>)
set_tests_properties(cli_usage_errors PROPERTIES LABELS integration TIMEOUT 120)

# Human output on hostile names, command lines and GGUF strings: no raw
# control character reaches the terminal; the `ai detect` columns stay apart.
if(MEMOPT_BUILD_TESTS AND TARGET memopt_testsupport)
  add_executable(test_cli_terminal_output ${CMAKE_SOURCE_DIR}/tests/cli/terminal_output_test.cc)
  target_compile_options(test_cli_terminal_output PRIVATE ${MEMOPT_WARNINGS})
  target_link_libraries(test_cli_terminal_output PRIVATE memopt_testsupport GTest::gtest GTest::gtest_main)
  target_compile_definitions(test_cli_terminal_output PRIVATE MEMOPT_CLI="$<TARGET_FILE:ruvector-memopt>")
  add_dependencies(test_cli_terminal_output ruvector-memopt)
  gtest_discover_tests(test_cli_terminal_output DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS integration TIMEOUT 120)
endif()
# The layering of the areas (tests/layers.sh): nothing includes an area above it.
add_test(NAME layering COMMAND bash ${CMAKE_SOURCE_DIR}/tests/layers.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(layering PROPERTIES LABELS unit)
