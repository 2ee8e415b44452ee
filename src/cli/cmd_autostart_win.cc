// `ruvector-memopt autostart on|off|status` (Windows build): starts the tray
// and, through it, the daemon at logon for this user. It writes one value
// under HKCU\Software\Microsoft\Windows\CurrentVersion\Run — not a
// scheduled task: the Run key needs no administrator, starts the program in
// the user's own desktop session (where the notification-area icon must
// live), and shows in Task Manager's Startup tab, where users expect to turn
// it off. The value runs ruvector-memopt-tray.exe --start-daemon: a desktop
// program, so no console window opens at logon; it starts the daemon
// without one when none answers. (Linux: dist/systemd/ruvector-memopt.service.)
#include <windows.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.h"
#include "util/process_win.h"
#include "util/text.h"
#include "util/utf16_win.h"

namespace memopt::cli {
namespace {

constexpr wchar_t kRunKey[] = L"Software\\Microsoft\\Windows\\CurrentVersion\\Run";
constexpr wchar_t kValueName[] = L"ruvector-memopt";
constexpr char kRunKeyText[] = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run";

struct AutostartOptions {
  std::string action = "status";
  std::string daemon_url = "http://127.0.0.1:7878";
};

std::string windows_error(LSTATUS rc) { return "Windows error " + std::to_string(rc); }

// The command the Run value holds now ("" when there is none).
Result<std::string> read_value() {
  HKEY key = nullptr;
  LSTATUS rc = RegOpenKeyExW(HKEY_CURRENT_USER, kRunKey, 0, KEY_QUERY_VALUE, &key);
  if (rc == ERROR_FILE_NOT_FOUND) return std::string();
  if (rc != ERROR_SUCCESS) return make_error("cannot open " + std::string(kRunKeyText) + ": " + windows_error(rc));
  std::unique_ptr<std::remove_pointer_t<HKEY>, decltype(&RegCloseKey)> hold(key, &RegCloseKey);
  DWORD type = 0, size = 0;
  rc = RegQueryValueExW(key, kValueName, nullptr, &type, nullptr, &size);
  if (rc == ERROR_FILE_NOT_FOUND) return std::string();
  if (rc != ERROR_SUCCESS || (type != REG_SZ && type != REG_EXPAND_SZ) || size > 65536)
    return make_error(std::string(kRunKeyText) + "\\ruvector-memopt is not a command line");
  std::wstring w(size / sizeof(wchar_t) + 1, L'\0');
  rc = RegQueryValueExW(key, kValueName, nullptr, &type, reinterpret_cast<BYTE*>(w.data()), &size);
  if (rc != ERROR_SUCCESS) return make_error("cannot read " + std::string(kRunKeyText) + ": " + windows_error(rc));
  return to_utf8(w.c_str());
}

Status write_value(const std::wstring& command) {
  HKEY key = nullptr;
  LSTATUS rc = RegCreateKeyExW(HKEY_CURRENT_USER, kRunKey, 0, nullptr, 0, KEY_SET_VALUE, nullptr,
                               &key, nullptr);
  if (rc != ERROR_SUCCESS) return make_error("cannot open " + std::string(kRunKeyText) + ": " + windows_error(rc));
  rc = RegSetValueExW(key, kValueName, 0, REG_SZ, reinterpret_cast<const BYTE*>(command.c_str()),
                      static_cast<DWORD>((command.size() + 1) * sizeof(wchar_t)));
  RegCloseKey(key);
  if (rc != ERROR_SUCCESS) return make_error("cannot write " + std::string(kRunKeyText) + ": " + windows_error(rc));
  return Ok{};
}

Status delete_value() {
  HKEY key = nullptr;
  LSTATUS rc = RegOpenKeyExW(HKEY_CURRENT_USER, kRunKey, 0, KEY_SET_VALUE, &key);
  if (rc == ERROR_FILE_NOT_FOUND) return Ok{};
  if (rc != ERROR_SUCCESS) return make_error("cannot open " + std::string(kRunKeyText) + ": " + windows_error(rc));
  rc = RegDeleteValueW(key, kValueName);
  RegCloseKey(key);
  if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND)
    return make_error("cannot remove " + std::string(kRunKeyText) + "\\ruvector-memopt: " + windows_error(rc));
  return Ok{};
}

int run_autostart(CliContext& ctx, const AutostartOptions& o) {
  if (o.action == "on") {
    if (o.daemon_url.rfind("http://", 0) != 0)
      return fail(ctx, "autostart: --daemon wants http://HOST:PORT, got '" + o.daemon_url + "'");
    auto self = this_executable();
    if (!self) return fail(ctx, "autostart: " + self.error().message);
    std::string tray = self->substr(0, self->rfind('/')) + "/ruvector-memopt-tray.exe";
    for (char& c : tray) {
      if (c == '/') c = '\\';
    }
    if (GetFileAttributesW(to_utf16(tray).c_str()) == INVALID_FILE_ATTRIBUTES)
      return fail(ctx, "autostart: " + tray + " is missing; it is built and shipped beside " + *self);
    const std::wstring command =
        windows_command_line({tray, "--start-daemon", "--daemon", o.daemon_url});
    if (auto st = write_value(command); !st) return fail(ctx, "autostart: " + st.error().message);
  } else if (o.action == "off") {
    if (auto st = delete_value(); !st) return fail(ctx, "autostart: " + st.error().message);
  }
  auto now = read_value();
  if (!now) return fail(ctx, "autostart: " + now.error().message);
  if (ctx.opts.json) {
    print_json(ctx, {{"schema", "ruvector-memopt.autostart/1"},
                     {"enabled", !now->empty()},
                     {"registry_key", kRunKeyText},
                     {"value_name", "ruvector-memopt"},
                     {"command", *now}});
    return kExitOk;
  }
  if (now->empty()) {
    *ctx.out << "autostart: off (no ruvector-memopt value under " << kRunKeyText << ")\n";
  } else {
    *ctx.out << wrap_block("autostart: on, at logon runs ", *now, 8);
  }
  return kExitOk;
}

RegisterCommands reg(65, [](CliRoot& root) {
  auto o = std::make_shared<AutostartOptions>();
  auto* cmd = root.app().add_subcommand(
      "autostart", "Start the tray and the daemon at logon (this user's Run key): on, off, status");
  cmd->add_option("action", o->action, "on, off or status")
      ->check(CLI::IsMember({"on", "off", "status"}))
      ->capture_default_str();
  cmd->add_option("--daemon", o->daemon_url, "the daemon's API URL the tray uses and starts")
      ->capture_default_str();
  root.bind(cmd, [o](CliContext& ctx) { return run_autostart(ctx, *o); });
});

}  // namespace
}  // namespace memopt::cli
