#include "tray/tray_worker.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "ui/token_file.h"
#include "ui/tray_client.h"

namespace memopt::cli {

std::optional<int> tray_usage_error(CliContext& ctx, const TrayOptions& o) {
  if (o.daemon_url.rfind("http://", 0) != 0) {
    *ctx.err << "ruvector-memopt: --daemon wants http://HOST:PORT, got '" << o.daemon_url << "'\n";
    return kExitUsage;
  }
  if (ctx.opts.json && !o.dump_menu) {
    *ctx.err << "ruvector-memopt: tray is a desktop icon; --json goes with --dump-menu "
                "(or use `ai watch --json`)\n";
    return kExitUsage;
  }
  return std::nullopt;
}

int tray_helper_main(int argc, char** argv, const std::function<void(CLI::App&)>& extra,
                     const std::function<int(CliContext&, const TrayOptions&)>& run) {
  CLI::App app{"The tray icon of ruvector-memopt (run it as `ruvector-memopt tray`)",
               "ruvector-memopt-tray"};
  app.allow_windows_style_options(false);
  CliContext ctx;
  TrayOptions o;
  app.add_flag("--json", ctx.opts.json, "with --dump-menu: the items as JSON");
  extra(app);
  add_tray_options(&app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return run(ctx, o);
}

Result<std::string> tray_token(const TrayOptions& o) {
  const std::string path = ui::token_file_or_default(o.token_file);
  if (path.empty()) return std::string();
  return ui::read_token_file(path);
}

TrayWorker::TrayWorker(TrayOptions o, std::string token)
    : o_(std::move(o)), token_(std::move(token)) {}

TrayWorker::~TrayWorker() { stop(); }

void TrayWorker::start(std::function<void(ui::TrayMenu)> deliver) {
  thread_ = std::thread([this, deliver = std::move(deliver)] { work(deliver); });
}

void TrayWorker::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TrayWorker::request(const ui::TrayAction& a) {
  auto r = ui::tray_request(a, token_);
  if (!r) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() < 16) queue_.push_back(*r);
  }
  cv_.notify_all();
}

std::vector<std::string> TrayWorker::send_queued() {
  std::vector<std::string> out;
  std::deque<ui::ApiRequest> q;
  {
    std::lock_guard<std::mutex> lock(mu_);
    q.swap(queue_);
  }
  for (const auto& r : q) {
    auto res = ui::tray_send(o_.daemon_url, r, kTrayActionTimeoutMs);
    out.push_back(res ? r.path + ": done" : res.error().message);
  }
  return out;
}

void TrayWorker::note(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  message_ = text.substr(0, 120);
}

void TrayWorker::work(const std::function<void(ui::TrayMenu)>& deliver) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    while (!queue_.empty() && !stop_) {
      const ui::ApiRequest r = queue_.front();
      queue_.pop_front();
      lock.unlock();
      auto res = ui::tray_send(o_.daemon_url, r, kTrayActionTimeoutMs);
      const std::string text = res ? r.path + ": done" : res.error().message;
      lock.lock();
      message_ = text.substr(0, 120);
    }
    lock.unlock();
    auto s = ui::tray_fetch_status(o_.daemon_url, kTrayStatusTimeoutMs);
    ui::TrayMenu m = s ? ui::tray_menu_from_status(*s, can_act())
                       : ui::tray_menu_unreachable(s.error().message);
    lock.lock();
    if (!message_.empty()) {
      ui::TrayItem last;
      last.label = message_;
      last.sensitive = false;
      m.items.insert(m.items.begin() + 1, last);
    }
    if (stop_) break;
    lock.unlock();
    deliver(std::move(m));
    lock.lock();
    cv_.wait_for(lock, std::chrono::duration<double>(o_.interval_seconds),
                 [this] { return stop_ || !queue_.empty(); });
  }
}

}  // namespace memopt::cli
