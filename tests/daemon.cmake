# Daemon integration tests: a real Prometheus scraping the daemon, and
# kill -9 during heavy history writes (tests/daemon_*.sh).
find_program(MEMOPT_PROMETHEUS prometheus)
if(MEMOPT_PROMETHEUS)
  add_test(NAME daemon_prometheus_scrape
    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/daemon_prometheus.sh $<TARGET_FILE:ruvector-memopt> ${CMAKE_SOURCE_DIR})
  set_tests_properties(daemon_prometheus_scrape PROPERTIES LABELS integration TIMEOUT 120)
endif()
add_test(NAME daemon_kill9_history
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/daemon_kill9.sh $<TARGET_FILE:ruvector-memopt>)
set_tests_properties(daemon_kill9_history PROPERTIES LABELS integration TIMEOUT 120)
find_program(MEMOPT_PROMTOOL promtool)
if(MEMOPT_PROMTOOL)
  add_test(NAME daemon_alert_rules_valid
    COMMAND ${MEMOPT_PROMTOOL} check rules ${CMAKE_SOURCE_DIR}/dist/prometheus/alerts.yml)
  set_tests_properties(daemon_alert_rules_valid PROPERTIES LABELS integration)
endif()
