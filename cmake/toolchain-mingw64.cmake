# Cross-compiling ruvector-memopt.exe for Windows 10/11 x64 with Debian's
# MinGW-w64 (g++-mingw-w64-x86-64-posix: the posix thread model, which
# std::thread and std::mutex need). Used by scripts/build-windows.sh.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${MINGW_TRIPLE}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${MINGW_TRIPLE})
# Never pick up Debian's Linux libraries or headers: everything the Windows
# build uses is named in cmake/toolchain-mingw64-deps.cmake.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Windows 10 APIs (GetExtendedTcpTable, QueryVideoMemoryInfo need 8/10).
add_compile_definitions(_WIN32_WINNT=0x0A00 WINVER=0x0A00 NOMINMAX WIN32_LEAN_AND_MEAN)
# One .exe with no MinGW DLLs beside it (libstdc++, libgcc, winpthread are
# linked in). Files open in binary mode: src/platform/windows/binary_files.c.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
