# `ai plan` end to end on the tiny models (tests/ai_plan/run.sh); node reads
# the JSON documents.
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
# make_tiny_models comes from tests/tiny_models.cmake, included after this file.
if(TARGET ruvector-memopt)
  memopt_tool_test(NAME ai_plan_cli TOOLS node
    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/ai_plan/run.sh $<TARGET_FILE:ruvector-memopt>
            $<TARGET_FILE:make_tiny_models>
    LABELS integration TIMEOUT 120)
endif()
