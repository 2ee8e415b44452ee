// `ruvector-memopt-tray.exe`, the helper behind `ruvector-memopt tray` on
// Windows: the native notification-area icon (Shell_NotifyIcon) with the
// seed's tray menu, talking to the daemon's API. The menu itself is
// ui::TrayMenu (src/ui/tray_menu.h), as in the GTK shell
// (tray_main_linux.cc); this file only draws it with Win32 menus.
// A desktop (GUI subsystem) program: started at logon from the Run key
// (`ruvector-memopt autostart on`) with --start-daemon, it starts the daemon
// without a console window when none answers.
//
// Threads: the window and its menus live on the main thread; the worker
// (tray/tray_worker.h, shared with the GTK shell) does all HTTP and posts
// each new menu to the window.
#include <windows.h>
// After windows.h:
#include <shellapi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "tray/tray_dump.h"
#include "tray/tray_options.h"
#include "tray/tray_worker.h"
#include "ui/tray_client.h"
#include "ui/tray_menu.h"
#include "util/process_win.h"
#include "util/text.h"
#include "util/utf16_win.h"

namespace memopt::cli {
namespace {

constexpr UINT kNotifyMessage = WM_APP + 1;  // the icon was clicked
constexpr UINT kMenuMessage = WM_APP + 2;    // lParam: a new ui::TrayMenu*
constexpr UINT kFirstItemId = 1000;          // item i of the menu has id 1000 + i
constexpr wchar_t kWindowClass[] = L"ruvector-memopt-tray";

// '&' marks a mnemonic in a Win32 menu label: "&&" shows one.
std::wstring menu_text(const std::string& label) {
  std::wstring out;
  for (wchar_t c : to_utf16(label)) {
    if (c == L'&') out += L'&';
    out += c;
  }
  return out;
}

std::string label_of(const std::wstring& text) {
  std::wstring out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == L'&' && i + 1 < text.size() && text[i + 1] == L'&') ++i;
    out += text[i];
  }
  return to_utf8(out.c_str(), static_cast<int>(out.size()));
}

// The popup menu for `m`: item i has id kFirstItemId + i.
HMENU build_menu(const ui::TrayMenu& m) {
  HMENU menu = CreatePopupMenu();
  for (size_t i = 0; i < m.items.size(); ++i) {
    const auto& it = m.items[i];
    MENUITEMINFOW mii{};
    mii.cbSize = sizeof mii;
    mii.fMask = MIIM_FTYPE | MIIM_ID | MIIM_STATE;
    mii.wID = kFirstItemId + static_cast<UINT>(i);
    std::wstring text;
    if (it.type == ui::TrayItem::Type::kSeparator) {
      mii.fType = MFT_SEPARATOR;
    } else {
      text = menu_text(it.label);
      mii.fMask |= MIIM_STRING;
      mii.fType = MFT_STRING | (it.type == ui::TrayItem::Type::kRadio ? MFT_RADIOCHECK : 0);
      mii.dwTypeData = text.data();
      mii.fState = (it.sensitive ? MFS_ENABLED : MFS_GRAYED) |
                   (it.type == ui::TrayItem::Type::kRadio && it.checked ? MFS_CHECKED : 0);
    }
    InsertMenuItemW(menu, static_cast<UINT>(i), TRUE, &mii);
  }
  return menu;
}

// The built menu read back through the Win32 API, as a user would see it.
std::vector<DumpedItem> read_menu(HMENU menu, std::vector<UINT>* ids) {
  std::vector<DumpedItem> out;
  const int n = GetMenuItemCount(menu);
  for (int i = 0; i < n; ++i) {
    MENUITEMINFOW mii{};
    mii.cbSize = sizeof mii;
    mii.fMask = MIIM_FTYPE | MIIM_STATE | MIIM_ID | MIIM_STRING;
    mii.dwTypeData = nullptr;
    if (!GetMenuItemInfoW(menu, static_cast<UINT>(i), TRUE, &mii)) continue;
    DumpedItem it;
    if (mii.fType & MFT_SEPARATOR) {
      it.type = DumpedItem::Type::kSeparator;
    } else {
      std::wstring text(mii.cch + 1, L'\0');
      mii.dwTypeData = text.data();
      mii.cch = static_cast<UINT>(text.size());
      GetMenuItemInfoW(menu, static_cast<UINT>(i), TRUE, &mii);
      text.resize(mii.cch);
      it.label = label_of(text);
      it.sensitive = (mii.fState & MFS_GRAYED) == 0;
      if (mii.fType & MFT_RADIOCHECK) {
        it.type = DumpedItem::Type::kRadio;
        it.checked = (mii.fState & MFS_CHECKED) != 0;
      }
    }
    ids->push_back(mii.wID);
    out.push_back(std::move(it));
  }
  return out;
}

class Tray {
 public:
  Tray(TrayOptions o, std::string token) : worker_(std::move(o), std::move(token)) {
    menu_ = ui::tray_menu_unreachable("waiting for " + worker_.options().daemon_url);
  }

  void set_menu(ui::TrayMenu m) { menu_ = std::move(m); }
  // A line the menu shows under its header until the next action's outcome.
  void note(const std::string& text) { worker_.note(text); }
  const ui::TrayMenu& menu() const { return menu_; }

  // The menu item with this id was chosen (from the popup or --click).
  void command(UINT id) {
    if (id < kFirstItemId || id - kFirstItemId >= menu_.items.size()) return;
    const auto& it = menu_.items[id - kFirstItemId];
    if (!it.action || !it.sensitive) return;
    const ui::TrayAction a = *it.action;
    if (a.kind == ui::TrayActionKind::kQuit) {
      if (hwnd_) DestroyWindow(hwnd_);
      return;
    }
    if (a.kind == ui::TrayActionKind::kOpenDashboard) {
      // Without the token (as on Linux): the page opens read-only;
      // `ai dashboard` prints the URL that can act.
      const std::wstring url = to_utf16(ui::tray_dashboard_url(worker_.options().daemon_url));
      const auto rc = reinterpret_cast<INT_PTR>(
          ShellExecuteW(nullptr, L"open", url.c_str(), nullptr, nullptr, SW_SHOWNORMAL));
      if (rc <= 32) worker_.note("cannot open a browser (ShellExecute " + std::to_string(rc) + ")");
      return;
    }
    worker_.request(a);
  }

  // --dump-menu --click: sends what the clicks queued, here and now.
  std::vector<std::string> send_queued() { return worker_.send_queued(); }

  int run() {
    HINSTANCE inst = GetModuleHandleW(nullptr);
    WNDCLASSEXW wc{};
    wc.cbSize = sizeof wc;
    wc.lpfnWndProc = &Tray::window_proc;
    wc.hInstance = inst;
    wc.lpszClassName = kWindowClass;
    RegisterClassExW(&wc);
    taskbar_created_ = RegisterWindowMessageW(L"TaskbarCreated");
    // A hidden top-level window (not message-only: it must hear
    // TaskbarCreated when Explorer restarts, to put the icon back).
    hwnd_ = CreateWindowExW(0, kWindowClass, L"ruvector-memopt", WS_OVERLAPPED, 0, 0, 0, 0,
                            nullptr, nullptr, inst, this);
    if (!hwnd_) return kExitFailure;
    add_icon();
    worker_.start([this](ui::TrayMenu m) {
      auto heap = std::make_unique<ui::TrayMenu>(std::move(m));
      if (PostMessageW(hwnd_, kMenuMessage, 0, reinterpret_cast<LPARAM>(heap.get()))) heap.release();
    });
    MSG msg;
    while (GetMessageW(&msg, nullptr, 0, 0) > 0) {
      TranslateMessage(&msg);
      DispatchMessageW(&msg);
    }
    worker_.stop();
    // Menus the worker posted after the window closed.
    while (PeekMessageW(&msg, nullptr, kMenuMessage, kMenuMessage, PM_REMOVE)) {
      delete reinterpret_cast<ui::TrayMenu*>(msg.lParam);
    }
    return kExitOk;
  }

 private:
  void add_icon() {
    NOTIFYICONDATAW nid = icon_data();
    nid.uFlags = NIF_ICON | NIF_TIP | NIF_MESSAGE;
    nid.uCallbackMessage = kNotifyMessage;
    nid.hIcon = LoadIconW(nullptr, reinterpret_cast<LPCWSTR>(IDI_APPLICATION));
    set_tip(nid, menu_.header);
    Shell_NotifyIconW(NIM_ADD, &nid);
  }

  NOTIFYICONDATAW icon_data() const {
    NOTIFYICONDATAW nid{};
    nid.cbSize = sizeof nid;
    nid.hWnd = hwnd_;
    nid.uID = 1;
    return nid;
  }

  static void set_tip(NOTIFYICONDATAW& nid, const std::string& text) {
    const std::wstring w = to_utf16("ruvector-memopt: " + text);
    const size_t n = std::min(w.size(), std::size(nid.szTip) - 1);
    std::copy_n(w.data(), n, nid.szTip);
    nid.szTip[n] = L'\0';
  }

  void show_menu() {
    HMENU menu = build_menu(menu_);
    POINT pt{};
    GetCursorPos(&pt);
    // The documented dance for a notification-area menu: foreground first,
    // so it closes when the user clicks elsewhere; WM_NULL after.
    SetForegroundWindow(hwnd_);
    const UINT id = static_cast<UINT>(TrackPopupMenu(
        menu, TPM_RETURNCMD | TPM_NONOTIFY | TPM_RIGHTBUTTON, pt.x, pt.y, 0, hwnd_, nullptr));
    PostMessageW(hwnd_, WM_NULL, 0, 0);
    DestroyMenu(menu);
    if (id != 0) command(id);
  }

  static LRESULT CALLBACK window_proc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp) {
    if (msg == WM_NCCREATE) {
      auto* cs = reinterpret_cast<CREATESTRUCTW*>(lp);
      SetWindowLongPtrW(hwnd, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(cs->lpCreateParams));
    }
    auto* self = reinterpret_cast<Tray*>(GetWindowLongPtrW(hwnd, GWLP_USERDATA));
    if (!self) return DefWindowProcW(hwnd, msg, wp, lp);
    if (msg == self->taskbar_created_ && msg != 0) {
      self->add_icon();
      return 0;
    }
    switch (msg) {
      case kNotifyMessage:
        if (lp == WM_RBUTTONUP || lp == WM_LBUTTONUP || lp == WM_CONTEXTMENU) self->show_menu();
        return 0;
      case kMenuMessage: {
        std::unique_ptr<ui::TrayMenu> m(reinterpret_cast<ui::TrayMenu*>(lp));
        self->menu_ = std::move(*m);
        NOTIFYICONDATAW nid = self->icon_data();
        nid.uFlags = NIF_TIP;
        set_tip(nid, self->menu_.header);
        Shell_NotifyIconW(NIM_MODIFY, &nid);
        return 0;
      }
      case WM_COMMAND:
        self->command(LOWORD(wp));
        return 0;
      case WM_ENDSESSION:
        if (wp) DestroyWindow(hwnd);
        return 0;
      case WM_DESTROY: {
        NOTIFYICONDATAW nid = self->icon_data();
        Shell_NotifyIconW(NIM_DELETE, &nid);
        PostQuitMessage(0);
        return 0;
      }
      default:
        return DefWindowProcW(hwnd, msg, wp, lp);
    }
  }

  TrayWorker worker_;
  ui::TrayMenu menu_;  // main thread only
  HWND hwnd_ = nullptr;
  UINT taskbar_created_ = 0;
};

// --dump-menu: the real Win32 menu built from one status read, its items
// read back and printed; --click chooses an item by its id, as
// TrackPopupMenu would return it (no display or notification area needed).
int dump_menu(CliContext& ctx, Tray& tray, const TrayOptions& o, bool have_token) {
  auto s = ui::tray_fetch_status(o.daemon_url, kTrayStatusTimeoutMs);
  if (!s) return fail(ctx, s.error().message);
  tray.set_menu(ui::tray_menu_from_status(*s, have_token));
  HMENU menu = build_menu(tray.menu());
  std::vector<UINT> ids;
  const std::vector<DumpedItem> items = read_menu(menu, &ids);
  const int status = print_dumped_menu(
      ctx, o.daemon_url, items, o.clicks,
      [&](const std::string& want, std::vector<std::string>* outcomes) {
        for (size_t i = 0; i < items.size(); ++i) {
          if (items[i].type == DumpedItem::Type::kSeparator || items[i].label != want) continue;
          tray.command(ids[i]);
          *outcomes = tray.send_queued();
          return true;
        }
        return false;
      });
  DestroyMenu(menu);
  return status;
}

// --start-daemon: when nothing answers at --daemon, this tray starts
// `ruvector-memopt.exe daemon` (beside it) without a console window and
// waits (up to 20 s) until it answers, so that the token file it creates on
// its first start is there when the tray reads it; why it could not, or "".
std::string start_daemon_if_down(const TrayOptions& o) {
  if (ui::tray_fetch_status(o.daemon_url, kTrayStatusTimeoutMs)) return "";
  auto self = this_executable();
  if (!self) return self.error().message;
  const std::string dir = self->substr(0, self->rfind('/'));
  std::string listen = o.daemon_url.substr(std::string("http://").size());
  if (!listen.empty() && listen.back() == '/') listen.pop_back();
  auto started = start_program({dir + "/ruvector-memopt.exe", "daemon", "--listen", listen},
                               true, false, false);
  if (!started) return started.error().message;
  for (int i = 0; i < 100; ++i) {
    if (ui::tray_fetch_status(o.daemon_url, kTrayStatusTimeoutMs)) return "";
    Sleep(200);
  }
  return "started (pid " + std::to_string(started->pid) + ") but it does not answer at " +
         o.daemon_url;
}

int run_tray(CliContext& ctx, const TrayOptions& o, bool start_daemon) {
  if (auto usage = tray_usage_error(ctx, o)) return *usage;
  const std::string not_started = start_daemon ? start_daemon_if_down(o) : "";
  auto t = tray_token(o);
  if (!t) return fail(ctx, t.error().message);
  const std::string token = *t;
  Tray tray(o, token);
  if (!not_started.empty()) {
    // In the menu, and on stderr for whoever started the tray from a console.
    std::fprintf(stderr, "ruvector-memopt-tray: daemon not started: %s\n",
                 terminal_safe(not_started).c_str());
    tray.note("daemon not started: " + not_started);
  }
  if (o.dump_menu) return dump_menu(ctx, tray, o, !token.empty());
  return tray.run();
}

}  // namespace
}  // namespace memopt::cli

int main(int argc, char** argv) {
  using namespace memopt::cli;
  bool start_daemon = false;
  return tray_helper_main(
      argc, argv,
      [&](CLI::App& app) {
        app.add_flag("--start-daemon", start_daemon,
                     "start the daemon (beside this program, no console window) when none "
                     "answers");
      },
      [&](CliContext& ctx, const TrayOptions& o) { return run_tray(ctx, o, start_daemon); });
}
