# `ai plan` end to end on the tiny models (tests/ai_plan/run.sh).
find_program(MEMOPT_NODE_FOR_PLAN node)
# make_tiny_models comes from tests/tiny_models.cmake, included after this file.
if(TARGET ruvector-memopt AND MEMOPT_NODE_FOR_PLAN)
  add_test(NAME ai_plan_cli
    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/ai_plan/run.sh $<TARGET_FILE:ruvector-memopt>
            $<TARGET_FILE:make_tiny_models>)
  set_tests_properties(ai_plan_cli PROPERTIES LABELS integration TIMEOUT 120)
endif()
