# Daemon integration tests: a real Prometheus scraping the daemon, and
# kill -9 during heavy history writes (tests/daemon_*.sh).
include(${CMAKE_SOURCE_DIR}/tests/support/tools.cmake)
memopt_tool_test(NAME daemon_prometheus_scrape TOOLS prometheus
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/daemon_prometheus.sh $<TARGET_FILE:ruvector-memopt> ${CMAKE_SOURCE_DIR}
  LABELS integration TIMEOUT 120)
add_test(NAME daemon_kill9_history
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/daemon_kill9.sh $<TARGET_FILE:ruvector-memopt>)
set_tests_properties(daemon_kill9_history PROPERTIES LABELS integration TIMEOUT 120)
memopt_tool_test(NAME daemon_alert_rules_valid TOOLS promtool
  COMMAND promtool check rules ${CMAKE_SOURCE_DIR}/dist/prometheus/alerts.yml
  LABELS integration)
