#pragma once
// "Stop now" from outside, for the long-running commands (daemon, serve):
// SIGINT and SIGTERM on Linux (stop_signals_linux.cc); Ctrl-C, Ctrl-Break,
// closing the console, logoff and shutdown on Windows (stop_signals_win.cc).
// `handler` must only set an atomic flag.
namespace memopt::cli {

void on_stop_signals(void (*handler)(int));

}  // namespace memopt::cli
