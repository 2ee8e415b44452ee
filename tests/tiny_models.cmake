# make_tiny_models <dir>: tiny GGUF models the real llama.cpp loads
# (tests/support/tiny_models.h). Other areas' integration tests depend on it.
add_executable(make_tiny_models ${CMAKE_SOURCE_DIR}/tests/tools/make_tiny_models.cc)
target_compile_options(make_tiny_models PRIVATE ${MEMOPT_WARNINGS})
target_link_libraries(make_tiny_models PRIVATE memopt_testsupport)
