// Stop requests on Windows (cli/stop_signals.h): the console's control
// events. Windows runs the handler on a thread of its own and, for close,
// logoff and shutdown, ends the process when it returns: it waits (at most
// the few seconds Windows grants) for the main loop to finish first.
#include <windows.h>

#include <atomic>

#include "cli/stop_signals.h"

namespace memopt::cli {
namespace {

std::atomic<void (*)(int)> g_handler{nullptr};

BOOL WINAPI on_console_event(DWORD event) {
  auto* h = g_handler.load();
  if (!h) return FALSE;
  h(static_cast<int>(event));
  if (event == CTRL_CLOSE_EVENT || event == CTRL_LOGOFF_EVENT || event == CTRL_SHUTDOWN_EVENT)
    Sleep(4000);
  return TRUE;
}

}  // namespace

void on_stop_signals(void (*handler)(int)) {
  g_handler.store(handler);
  SetConsoleCtrlHandler(on_console_event, TRUE);
}

}  // namespace memopt::cli
