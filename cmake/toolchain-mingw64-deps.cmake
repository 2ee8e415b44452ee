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
#   * spdlog: Debian's headers in header-only mode (its fmt is the external,
#     header-only one above);
#   * SQLite: the amalgamation (sqlite3.c/.h) that the pinned npm package
#     better-sqlite3 ships, fetched with `npm pack` and checked against its
#     SHA-256 by scripts/build-windows.sh into MEMOPT_WIN_DEPS_DIR;
#   * OpenSSL: none (Debian has no MinGW build): the daemon's TLS seam
#     (src/daemon/tls_win.cc) says so and the API stays on loopback;
#   * GoogleTest: Debian's source (/usr/src/googletest), built with MinGW.
# The tests run under Wine: CMAKE_CROSSCOMPILING_EMULATOR is
# tests/windows/wine_run.sh with a WINEPREFIX under the build dir.
set(MEMOPT_WIN_DEPS_DIR "${CMAKE_BINARY_DIR}/deps" CACHE PATH "third-party sources for the Windows build")
set(stage ${CMAKE_BINARY_DIR}/deps/include)
file(MAKE_DIRECTORY ${stage})
foreach(d fmt nlohmann toml++ CLI spdlog)
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
add_library(spdlog::spdlog INTERFACE IMPORTED)
target_link_libraries(spdlog::spdlog INTERFACE memopt_win_headers fmt::fmt)
target_compile_definitions(spdlog::spdlog INTERFACE SPDLOG_FMT_EXTERNAL)

set(sqlite_dir ${MEMOPT_WIN_DEPS_DIR}/sqlite)
if(NOT EXISTS ${sqlite_dir}/sqlite3.c OR NOT EXISTS ${sqlite_dir}/sqlite3.h)
  message(FATAL_ERROR "${sqlite_dir}/sqlite3.{c,h} missing: build with scripts/build-windows.sh, "
                      "which fetches SQLite's amalgamation (npm pack better-sqlite3)")
endif()
add_library(memopt_sqlite STATIC ${sqlite_dir}/sqlite3.c)
target_include_directories(memopt_sqlite SYSTEM PUBLIC ${sqlite_dir})
# Serialized threading (the daemon's API threads read while the sampler
# writes), no extensions loaded from disk, no double-quoted string literals.
target_compile_definitions(memopt_sqlite PRIVATE SQLITE_THREADSAFE=1 SQLITE_OMIT_LOAD_EXTENSION
                           SQLITE_DQS=0 SQLITE_DEFAULT_MEMSTATUS=0 SQLITE_OMIT_DEPRECATED)
add_library(SQLite::SQLite3 ALIAS memopt_sqlite)

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
    "${CMAKE_CXX_STANDARD_LIBRARIES} -lws2_32 -lpsapi -liphlpapi -ldxgi -lpdh -lshell32 -ladvapi32 -lbcrypt")
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

# The daemon is built (sockets through util/socket_ops_win.cc, its private
# files through daemon/private_files_win.cc, no TLS: loopback only).
# Not yet on Windows: the gateway's parts that start backends and serve
# requests (fork/exec today); its pure parts (config, admission by plan,
# llama.cpp arguments, API translation) are built, and `ai status` reads
# [serve] to find a gateway. `daemon --serve` says it is not there
# (cli/gateway_start_win.cc).
set(MEMOPT_SKIP_AREAS "")
set(MEMOPT_WIN_LATER_SOURCES serve/gateway.cc serve/backend.cc serve/upstream.cc
                              serve/request_log.cc)
set(MEMOPT_WIN_LATER_COMMANDS cmd_serve.cc)
# The unit tests of the platform-free core that run under Wine: GGUF,
# estimator, planner, policy, Prometheus and JSON parsers, and the Windows
# collectors' own tests (*_win_test.cc).
set(MEMOPT_WIN_TESTS
    "/(gguf/[a-z_]+|estimate/[a-z_]+|policy/[a-z_]+|serve/(config|admission|llama_args|translate)|ui/(vt_frame|screen)|runtimes/prometheus|snapshot/snapshot_json|util/(bytes|text)|gpu/dxgi_gpus|daemon/(action_delays|action_worker|metrics|http_front)|[a-z_]+_win)_test\\.cc$")
