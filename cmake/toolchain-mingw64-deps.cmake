# The Windows (MinGW) build's dependencies, included by CMakeLists.txt in
# place of the Linux find_package() calls. Debian ships no MinGW builds of
# them, so:
#   * fmt, nlohmann-json, toml++, CLI11: Debian's headers in header-only mode,
#     staged under the build dir so that no other Linux header (glibc's) is
#     ever on the MinGW include path;
#   * cpp-httplib: Debian's httplib.h is only the declarations of its shared
#     library, so the Windows build compiles the vendored cpp-httplib of the
#     llama.cpp release pinned by node-llama-cpp (tests/node/package.json),
#     extracted at set-up by scripts/build-windows.sh into
#     MEMOPT_WIN_DEPS_DIR (never copied into the repository);
#   * GoogleTest: Debian's source (/usr/src/googletest), built with MinGW.
# The tests run under Wine: CMAKE_CROSSCOMPILING_EMULATOR is
# tests/windows/wine_run.sh with a WINEPREFIX under the build dir.
set(MEMOPT_WIN_DEPS_DIR "${CMAKE_BINARY_DIR}/deps" CACHE PATH "third-party sources for the Windows build")
set(stage ${CMAKE_BINARY_DIR}/deps/include)
file(MAKE_DIRECTORY ${stage})
foreach(d fmt nlohmann toml++ CLI)
  if(NOT EXISTS /usr/include/${d})
    message(FATAL_ERROR "/usr/include/${d} is missing: run scripts/setup.sh")
  endif()
  file(CREATE_LINK /usr/include/${d} ${stage}/${d} SYMBOLIC)
endforeach()

# Binary file mode in every program and library (src/platform/windows/binary_files.c).
add_library(memopt_binary_files OBJECT ${CMAKE_SOURCE_DIR}/src/platform/windows/binary_files.c)
link_libraries(memopt_binary_files)

# Threads: MinGW's posix thread model (winpthreads, linked statically).
find_package(Threads REQUIRED)

add_library(memopt_win_headers INTERFACE)
target_include_directories(memopt_win_headers SYSTEM INTERFACE ${stage})

add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
target_link_libraries(nlohmann_json::nlohmann_json INTERFACE memopt_win_headers)
add_library(fmt::fmt INTERFACE IMPORTED)
target_link_libraries(fmt::fmt INTERFACE memopt_win_headers)
target_compile_definitions(fmt::fmt INTERFACE FMT_HEADER_ONLY)
add_library(CLI11::CLI11 INTERFACE IMPORTED)
target_link_libraries(CLI11::CLI11 INTERFACE memopt_win_headers)
add_library(PkgConfig::TOMLPP INTERFACE IMPORTED)
target_link_libraries(PkgConfig::TOMLPP INTERFACE memopt_win_headers)

set(httplib_dir ${MEMOPT_WIN_DEPS_DIR}/cpp-httplib)
if(NOT EXISTS ${httplib_dir}/httplib.h OR NOT EXISTS ${httplib_dir}/httplib.cpp)
  message(FATAL_ERROR "${httplib_dir}/httplib.{h,cpp} missing: build with scripts/build-windows.sh, "
                      "which extracts them from node-llama-cpp (run scripts/setup.sh first)")
endif()
add_library(memopt_httplib STATIC ${httplib_dir}/httplib.cpp)
target_include_directories(memopt_httplib SYSTEM PUBLIC ${httplib_dir})
target_link_libraries(memopt_httplib PUBLIC ws2_32 crypt32)
add_library(PkgConfig::HTTPLIB ALIAS memopt_httplib)

# The POSIX names the platform-free code uses (src/platform/windows/posix).
include_directories(BEFORE SYSTEM ${CMAKE_SOURCE_DIR}/src/platform/windows/posix)
# The Windows API libraries the collectors call, at the end of every link
# line (after the static area libraries that use them).
set(CMAKE_CXX_STANDARD_LIBRARIES
    "${CMAKE_CXX_STANDARD_LIBRARIES} -lws2_32 -lpsapi -liphlpapi -ldxgi -lpdh -lshell32 -ladvapi32")
# localtime_r / gmtime_r: MinGW's time.h defines them (over localtime_s)
# when asked for the POSIX thread-safe functions.
add_compile_definitions(_FILE_OFFSET_BITS=64 _POSIX_THREAD_SAFE_FUNCTIONS=200112L)

set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_SOURCE_DIR}/tests/windows/wine_run.sh
    ${CMAKE_BINARY_DIR}/wineprefix)

if(MEMOPT_BUILD_TESTS)
  set(gtest_force_shared_crt OFF CACHE BOOL "" FORCE)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
  # googletest's own CMake names them GTest::gtest, GTest::gmock, GTest::gtest_main.
endif()

# Not yet on Windows: the daemon (sockets, OpenSSL, SQLite history, signals)
# and the commands built on it. `ai watch` is built (its full-screen view in
# VT sequences, src/ui/terminal_win.cc); `dashboard` waits with the daemon.
# The gateway's pure parts (its config, admission by plan, llama.cpp
# arguments, API translation) are built: `ai status` reads [serve] to find a
# gateway; the parts that start backends and serve requests wait.
set(MEMOPT_SKIP_AREAS daemon)
set(MEMOPT_WIN_LATER_SOURCES serve/gateway.cc serve/backend.cc serve/upstream.cc
                              serve/request_log.cc)
set(MEMOPT_WIN_LATER_COMMANDS cmd_daemon.cc cmd_serve.cc cmd_dashboard.cc
                              cmd_profile.cc gateway_start.cc)
# The unit tests of the platform-free core that run under Wine: GGUF,
# estimator, planner, policy, Prometheus and JSON parsers, and the Windows
# collectors' own tests (*_win_test.cc).
set(MEMOPT_WIN_TESTS
    "/(gguf/[a-z_]+|estimate/[a-z_]+|policy/[a-z_]+|serve/(config|admission|llama_args|translate)|ui/(vt_frame|screen)|runtimes/prometheus|snapshot/snapshot_json|util/(bytes|text)|gpu/dxgi_gpus|[a-z_]+_win)_test\\.cc$")
