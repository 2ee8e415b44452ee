# Real processes for the detector's tests (src/detect/real_process_test.cc):
# a sleeper exec'd under runtime-like command lines, and shared objects built
# under ONNX Runtime's real file names for it to map.
if(TARGET test_detect)
  add_executable(detect_sleeper ${CMAKE_SOURCE_DIR}/tests/detect/sleeper.cc)
  target_compile_options(detect_sleeper PRIVATE ${MEMOPT_WARNINGS})
  target_link_libraries(detect_sleeper PRIVATE ${CMAKE_DL_LIBS})
  add_library(fake_onnxruntime SHARED ${CMAKE_SOURCE_DIR}/tests/detect/fake_onnxruntime.cc)
  set_target_properties(fake_onnxruntime PROPERTIES OUTPUT_NAME onnxruntime VERSION 1.20.1 SOVERSION 1
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fake_ort)
  add_library(fake_onnxruntime_cuda SHARED ${CMAKE_SOURCE_DIR}/tests/detect/fake_onnxruntime.cc)
  set_target_properties(fake_onnxruntime_cuda PROPERTIES OUTPUT_NAME onnxruntime_providers_cuda
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fake_ort)
  add_dependencies(test_detect detect_sleeper fake_onnxruntime fake_onnxruntime_cuda)
  target_compile_definitions(test_detect PRIVATE
    MEMOPT_DETECT_SLEEPER="$<TARGET_FILE:detect_sleeper>"
    MEMOPT_FAKE_ORT="$<TARGET_FILE:fake_onnxruntime>"
    MEMOPT_FAKE_ORT_CUDA="$<TARGET_FILE:fake_onnxruntime_cuda>")
endif()
