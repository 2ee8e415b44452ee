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
# Load (issue 13): 200 slow + 50 fast clients against a real daemon on
# loopback for 10 s; fails unless /metrics p99 < 50 ms, no scrape failed and
# the policy loop missed no sample (bench/api_load_bench.cc).
if(MEMOPT_BUILD_BENCH)
  add_test(NAME daemon_api_load COMMAND api_load_bench --seconds 10 --check)
  set_tests_properties(daemon_api_load PROPERTIES LABELS load TIMEOUT 60 RUN_SERIAL TRUE)
endif()
