# CLI surface: --help on every level fits 80 columns, usage errors exit 2.
add_test(NAME cli_help_fits_80 COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/help_fits_80.sh $<TARGET_FILE:ruvector-memopt>)
set_tests_properties(cli_help_fits_80 PROPERTIES LABELS integration TIMEOUT 120)
