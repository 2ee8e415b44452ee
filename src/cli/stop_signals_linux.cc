// Stop requests on Linux (cli/stop_signals.h): SIGINT and SIGTERM, without
// SA_RESTART so a blocking wait wakes up.
#include <csignal>

#include "cli/stop_signals.h"

namespace memopt::cli {

void on_stop_signals(void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace memopt::cli
