# The Windows build's tests (included by CMakeLists.txt when WIN32). The unit
# tests of the platform-free core (test_<area>, MEMOPT_WIN_TESTS) run under
# Wine through CMAKE_CROSSCOMPILING_EMULATOR; the end-to-end test compares the
# .exe's --json documents with the Linux build's and detects DirectML and
# llama.cpp workloads through the real Windows API (Toolhelp32, modules).
set(MEMOPT_LINUX_BUILD_DIR "${CMAKE_SOURCE_DIR}/build" CACHE PATH
    "the Linux build whose ruvector-memopt and sample.gguf the Windows end-to-end test compares with")

foreach(dll DirectML llama ggml)
  add_library(fake_${dll} SHARED ${CMAKE_SOURCE_DIR}/tests/windows/fake_module.c)
  set_target_properties(fake_${dll} PROPERTIES OUTPUT_NAME ${dll} PREFIX ""
                        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fake_modules)
endforeach()
add_executable(module_holder ${CMAKE_SOURCE_DIR}/tests/windows/module_holder.cc)
target_compile_options(module_holder PRIVATE ${MEMOPT_WARNINGS})

add_test(NAME windows_e2e
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/windows/e2e.sh ${CMAKE_BINARY_DIR}
                 ${MEMOPT_LINUX_BUILD_DIR})
set_tests_properties(windows_e2e PROPERTIES LABELS "integration;windows" TIMEOUT 600)

add_test(NAME windows_daemon
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/windows/daemon_e2e.sh ${CMAKE_BINARY_DIR}
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(windows_daemon PROPERTIES LABELS "integration;windows" TIMEOUT 600)

# M_PI (the policy's forecaster): glibc defines it, MinGW's strict-ANSI mode
# (-std=c++20) only with _USE_MATH_DEFINES.
foreach(t memopt_policy test_policy)
  if(TARGET ${t})
    target_compile_definitions(${t} PRIVATE _USE_MATH_DEFINES)
  endif()
endforeach()

# mkdtemp for the tests' TempDir (tests/support/temp_dir.h): a header on the
# test targets' include path only, so the libraries' objects do not change.
foreach(t memopt_testsupport test_util test_gguf test_estimate test_policy test_runtimes
          test_snapshot test_proc test_gpu test_detect)
  if(TARGET ${t})
    target_include_directories(${t} SYSTEM BEFORE PRIVATE
                               ${CMAKE_SOURCE_DIR}/src/platform/windows/posix_tests)
  endif()
endforeach()
