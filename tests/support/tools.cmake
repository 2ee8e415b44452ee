# memopt_tool_test(NAME n TOOLS tool... [ABSENT tool...] COMMAND cmd... [WORKING_DIRECTORY d]
#                  [LABELS l...] [TIMEOUT s])
# An integration test that needs tools the build does not make (tmux, node,
# Chromium...). It is always registered: tests/support/require_tools.sh checks
# the TOOLS when the test runs, so a missing one fails the test with how to
# install it, or is reported skipped (exit 77) when RVM_ALLOW_SKIP names it.
# ABSENT names what the configure step already knows is missing.
include_guard(GLOBAL)
# Captured here: inside the function CMAKE_CURRENT_LIST_DIR is the caller's.
set(MEMOPT_REQUIRE_TOOLS_SH ${CMAKE_CURRENT_LIST_DIR}/require_tools.sh)

function(memopt_tool_test)
  cmake_parse_arguments(T "" "NAME;WORKING_DIRECTORY;TIMEOUT" "TOOLS;ABSENT;COMMAND;LABELS" ${ARGN})
  set(tools ${T_TOOLS})
  foreach(a ${T_ABSENT})
    list(APPEND tools absent:${a})
  endforeach()
  if(NOT T_WORKING_DIRECTORY)
    set(T_WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  endif()
  add_test(NAME ${T_NAME}
    COMMAND bash ${MEMOPT_REQUIRE_TOOLS_SH} ${tools} -- ${T_COMMAND}
    WORKING_DIRECTORY ${T_WORKING_DIRECTORY})
  set_tests_properties(${T_NAME} PROPERTIES SKIP_RETURN_CODE 77 ENVIRONMENT MEMOPT_TEST_NAME=${T_NAME})
  if(T_LABELS)
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
  endif()
  if(T_TIMEOUT)
    set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT})
  endif()
endfunction()
