# A stand-in backend for the gateway's own tests (src/serve/gateway_test.cc):
# answers /health and chat completions like llama-server, with a slow mode.
if(TARGET test_serve)
  add_executable(serve_fake_backend ${CMAKE_SOURCE_DIR}/tests/serve/fake_backend.cc)
  target_compile_options(serve_fake_backend PRIVATE ${MEMOPT_WARNINGS})
  target_link_libraries(serve_fake_backend PRIVATE PkgConfig::HTTPLIB Threads::Threads)
  add_dependencies(test_serve serve_fake_backend)
  target_compile_definitions(test_serve PRIVATE
    MEMOPT_SERVE_FAKE_BACKEND="$<TARGET_FILE:serve_fake_backend>")
endif()
