# The rule "a missing tool fails the test unless RVM_ALLOW_SKIP names it",
# proved end to end (tests/skip_rule/run.sh): the shell guard with PATH
# stripped of the tool, the C++ guard (tool_guard_probe), a CTest project
# registering a guarded test the way tests/*.cmake do, the closing-line
# counts (scripts/ctest_counts.sh) and scripts/fuzz.sh without clang++.
add_executable(tool_guard_probe ${CMAKE_SOURCE_DIR}/tests/skip_rule/tool_guard_probe.cc)
target_compile_options(tool_guard_probe PRIVATE ${MEMOPT_WARNINGS})
target_include_directories(tool_guard_probe PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(tool_guard_probe PRIVATE GTest::gtest GTest::gtest_main)
add_test(NAME skip_rule
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/skip_rule/run.sh ${CMAKE_SOURCE_DIR}
          $<TARGET_FILE:tool_guard_probe> ${CMAKE_COMMAND} ${CMAKE_CTEST_COMMAND})
set_tests_properties(skip_rule PROPERTIES LABELS integration TIMEOUT 120)
