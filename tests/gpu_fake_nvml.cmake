# Fake libnvidia-ml.so.1 builds (tests/fake_nvml/fake_nvml.cc), one directory
# per driver generation, loaded by test_gpu and the vram status end-to-end
# test through the real dlopen path (--nvml-library).
if(TARGET test_gpu)
  foreach(variant modern r535 legacy)
    string(TOUPPER ${variant} up)
    add_library(fake_nvml_${variant} SHARED ${CMAKE_SOURCE_DIR}/tests/fake_nvml/fake_nvml.cc)
    set_target_properties(fake_nvml_${variant} PROPERTIES
      OUTPUT_NAME nvidia-ml PREFIX lib SUFFIX .so.1
      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fake_nvml/${variant}
      CXX_VISIBILITY_PRESET hidden)
    target_compile_definitions(fake_nvml_${variant} PRIVATE FAKE_NVML_${up})
    target_compile_options(fake_nvml_${variant} PRIVATE ${MEMOPT_WARNINGS} -Wno-unused-parameter)
    add_dependencies(test_gpu fake_nvml_${variant})
  endforeach()
  target_compile_definitions(test_gpu PRIVATE MEMOPT_FAKE_NVML_DIR="${CMAKE_BINARY_DIR}/fake_nvml")

  # End to end: the binary against fixture roots and the fake NVML.
  add_test(NAME gpu_vram_status_e2e
    COMMAND ${CMAKE_SOURCE_DIR}/tests/gpu_vram_status_e2e.sh $<TARGET_FILE:ruvector-memopt>
            ${CMAKE_SOURCE_DIR}/tests/fixtures/gpu ${CMAKE_BINARY_DIR}/fake_nvml/modern/libnvidia-ml.so.1)
  set_tests_properties(gpu_vram_status_e2e PROPERTIES LABELS integration TIMEOUT 60)
endif()
