#pragma once
// The tray's talking to the daemon, shared by both shells (GTK:
// tray_main_linux.cc; Win32: tray_main_win.cc): one worker thread does all
// HTTP — the clicked actions first (a click should not wait for the poll),
// then the status, then it sleeps until the next poll or click — and hands
// each new menu to `deliver`, which passes it to the shell's UI thread. A
// slow or hung daemon never freezes the menu; short timeouts keep quitting
// quick.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "tray/tray_options.h"
#include "ui/tray_menu.h"

namespace memopt::cli {

inline constexpr int kTrayStatusTimeoutMs = 1500;
inline constexpr int kTrayActionTimeoutMs = 5000;

// What both shells check first: a --daemon that is not http://, or --json
// without --dump-menu, is a usage error (printed; the exit code returned).
std::optional<int> tray_usage_error(CliContext& ctx, const TrayOptions& o);
// The daemon token the actions send: "" when no token file is given and the
// default one does not exist (the menu is then read-only); an error when the
// file is there but not private or not a token.
Result<std::string> tray_token(const TrayOptions& o);

// The helper program's main(): parses --json, the tray options and what
// `extra` adds (no Windows-style /options: a path is not an option), then
// runs `run`; --help and parse errors end it with their exit code.
int tray_helper_main(int argc, char** argv, const std::function<void(CLI::App&)>& extra,
                     const std::function<int(CliContext&, const TrayOptions&)>& run);

class TrayWorker {
 public:
  TrayWorker(TrayOptions o, std::string token);
  ~TrayWorker();
  TrayWorker(const TrayWorker&) = delete;
  TrayWorker& operator=(const TrayWorker&) = delete;

  const TrayOptions& options() const { return o_; }
  bool can_act() const { return !token_.empty(); }

  // Polls until stop(); `deliver` runs on the worker thread.
  void start(std::function<void(ui::TrayMenu)> deliver);
  void stop();

  // Queues the API request of `a` (none for Quit and Open Dashboard, which
  // the shell does itself); at most 16 wait: a burst of clicks is not a backlog.
  void request(const ui::TrayAction& a);
  // --dump-menu --click (no worker running): sends what was queued, now; the
  // outcome of each ("PATH: done" or the error).
  std::vector<std::string> send_queued();
  // A line the menu shows under its header until the next action's outcome.
  void note(const std::string& text);

 private:
  void work(const std::function<void(ui::TrayMenu)>& deliver);

  TrayOptions o_;
  std::string token_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ui::ApiRequest> queue_;  // guarded by mu_
  std::string message_;               // guarded by mu_: the last action's outcome
  bool stop_ = false;                 // guarded by mu_
};

}  // namespace memopt::cli
