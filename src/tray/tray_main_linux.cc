// `ruvector-memopt-tray`, the helper behind `ruvector-memopt tray`: the
// native tray icon (Ayatana AppIndicator, GTK 3) with the seed's tray menu,
// talking to the daemon's API. Built only where ayatana-appindicator3-0.1 is
// found (CMakeLists.txt, MEMOPT_TRAY), as a program of its own so that GTK
// and its eighty libraries load only here, not in every command and the
// daemon. The menu itself is ui::TrayMenu (src/ui/tray_menu.h), this file
// only draws it.
//
// Threads: GTK runs on the main thread. One worker thread does all HTTP (the
// 2 s status poll and the clicked actions, with short timeouts) and hands
// each new menu to the main loop with g_idle_add, so a slow or hung daemon
// never freezes the menu.
#include <glib-unix.h>
#include <gtk/gtk.h>
#include <libayatana-appindicator/app-indicator.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "tray/tray_dump.h"
#include "tray/tray_options.h"
#include "tray/tray_worker.h"
#include "ui/tray_client.h"
#include "ui/tray_menu.h"

namespace memopt::cli {
namespace {


// What a menu shows, as one string: a new menu replaces the shown one only
// when this differs (replacing it closes it under the user's pointer).
std::string menu_key(const ui::TrayMenu& m) {
  std::string k;
  for (const auto& it : m.items) {
    k += std::to_string(static_cast<int>(it.type)) + (it.checked ? "x" : "-") +
         (it.sensitive ? "s" : "g") + it.label + '\n';
  }
  return k;
}

class Tray;

struct Click {
  Tray* tray;
  ui::TrayAction action;
};

class Tray {
 public:
  Tray(TrayOptions o, std::string token) : worker_(std::move(o), std::move(token)) {}

  // A GtkMenu for `m` (floating reference, as gtk_menu_new gives it).
  GtkWidget* build(const ui::TrayMenu& m) {
    GtkWidget* menu = gtk_menu_new();
    GSList* group = nullptr;
    for (const auto& it : m.items) {
      GtkWidget* item = nullptr;
      switch (it.type) {
        case ui::TrayItem::Type::kSeparator:
          item = gtk_separator_menu_item_new();
          break;
        case ui::TrayItem::Type::kRadio:
          item = gtk_radio_menu_item_new_with_label(group, it.label.c_str());
          group = gtk_radio_menu_item_get_group(GTK_RADIO_MENU_ITEM(item));
          // set_active emits "toggled", not "activate": no request here.
          gtk_check_menu_item_set_active(GTK_CHECK_MENU_ITEM(item), it.checked);
          break;
        case ui::TrayItem::Type::kLabel:
        case ui::TrayItem::Type::kAction:
          item = gtk_menu_item_new_with_label(it.label.c_str());
          break;
      }
      gtk_widget_set_sensitive(item, it.sensitive);
      if (it.action) {
        g_signal_connect_data(
            item, "activate", G_CALLBACK(&Tray::on_activate), new Click{this, *it.action},
            [](gpointer p, GClosure*) { delete static_cast<Click*>(p); }, GConnectFlags(0));
      }
      gtk_menu_shell_append(GTK_MENU_SHELL(menu), item);
      gtk_widget_show(item);
    }
    return menu;
  }

  // --dump-menu --click: sends what the clicks queued, here and now (the
  // worker thread is not running then); the outcomes, one per request.
  std::vector<std::string> send_queued() { return worker_.send_queued(); }

  int run() {
    indicator_ = app_indicator_new("ruvector-memopt", "utilities-system-monitor",
                                   APP_INDICATOR_CATEGORY_SYSTEM_SERVICES);
    app_indicator_set_title(indicator_, "ruvector-memopt");
    app_indicator_set_status(indicator_, APP_INDICATOR_STATUS_ACTIVE);
    // A menu before the first answer: AppIndicator shows nothing without one.
    show(ui::tray_menu_unreachable("waiting for " + worker_.options().daemon_url));
    g_unix_signal_add(SIGINT, &Tray::on_signal, nullptr);
    g_unix_signal_add(SIGTERM, &Tray::on_signal, nullptr);
    worker_.start([this](ui::TrayMenu m) {
      g_idle_add(&Tray::on_update, new Update{this, std::move(m)});
    });
    gtk_main();
    worker_.stop();
    // Updates the worker queued before it stopped: run them while `this` lives.
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    g_object_unref(indicator_);
    return kExitOk;
  }

 private:
  struct Update {
    Tray* tray;
    ui::TrayMenu menu;
  };

  void show(const ui::TrayMenu& m) {
    const std::string key = menu_key(m);
    if (key == shown_key_) return;
    shown_key_ = key;
    app_indicator_set_menu(indicator_, GTK_MENU(build(m)));
    app_indicator_set_label(indicator_, m.header.c_str(), "Memory 100% | VRAM 100%");
  }

  static gboolean on_update(gpointer p) {
    std::unique_ptr<Update> u(static_cast<Update*>(p));
    u->tray->show(u->menu);
    return G_SOURCE_REMOVE;
  }

  static gboolean on_signal(gpointer) {
    gtk_main_quit();
    return G_SOURCE_REMOVE;
  }

  static void on_activate(GtkMenuItem* item, gpointer p) {
    // A radio item GTK switches off also emits "activate" (from the newly
    // chosen one's handler, before it); "activate" runs GTK's handler first,
    // so the item is already off then: only the chosen profile is sent.
    if (GTK_IS_RADIO_MENU_ITEM(item) &&
        !gtk_check_menu_item_get_active(GTK_CHECK_MENU_ITEM(item))) {
      return;
    }
    auto* c = static_cast<Click*>(p);
    c->tray->clicked(c->action);
  }

  void clicked(const ui::TrayAction& a) {
    // GTK already moved a clicked radio's check; redraw on the next answer
    // even if it matches the last one (a refused profile switch).
    shown_key_.clear();
    if (a.kind == ui::TrayActionKind::kQuit) {
      gtk_main_quit();
      return;
    }
    if (a.kind == ui::TrayActionKind::kOpenDashboard) {
      // Without the token: a URL handed to the browser lands in its command
      // line, which every local user can read (/proc/PID/cmdline), and the
      // token file exists to keep it from them. The page opens read-only;
      // `ai dashboard` prints the URL that can act.
      GError* err = nullptr;
      const std::string url = ui::tray_dashboard_url(worker_.options().daemon_url);
      if (!g_app_info_launch_default_for_uri(url.c_str(), nullptr, &err)) {
        worker_.note(std::string("cannot open a browser: ") +
                    (err ? err->message : "unknown error"));
        if (err) g_error_free(err);
      }
      return;
    }
    worker_.request(a);
  }

  TrayWorker worker_;
  AppIndicator* indicator_ = nullptr;
  std::string shown_key_;
};

// --dump-menu: the real GtkMenu built from one status read, its items
// printed (the test hook: it needs a display, not a tray host).
int dump_menu(CliContext& ctx, Tray& tray, const TrayOptions& o, bool have_token) {
  auto s = ui::tray_fetch_status(o.daemon_url, kTrayStatusTimeoutMs);
  if (!s) return fail(ctx, s.error().message);
  GtkWidget* menu = tray.build(ui::tray_menu_from_status(*s, have_token));
  g_object_ref_sink(menu);
  std::vector<DumpedItem> items;
  GList* children = gtk_container_get_children(GTK_CONTAINER(menu));
  for (GList* l = children; l != nullptr; l = l->next) {
    GtkWidget* w = GTK_WIDGET(l->data);
    DumpedItem it;
    if (GTK_IS_SEPARATOR_MENU_ITEM(w)) {
      it.type = DumpedItem::Type::kSeparator;
    } else {
      const char* text = gtk_menu_item_get_label(GTK_MENU_ITEM(w));
      it.label = text ? text : "";
      it.sensitive = gtk_widget_get_sensitive(w);
      if (GTK_IS_RADIO_MENU_ITEM(w)) {
        it.type = DumpedItem::Type::kRadio;
        it.checked = gtk_check_menu_item_get_active(GTK_CHECK_MENU_ITEM(w));
      }
    }
    items.push_back(std::move(it));
  }
  // Clicks go through GTK's own "activate" signal on the built items.
  const int status = print_dumped_menu(
      ctx, o.daemon_url, items, o.clicks,
      [&](const std::string& want, std::vector<std::string>* outcomes) {
        GtkWidget* hit = nullptr;
        for (GList* l = children; l != nullptr; l = l->next) {
          GtkWidget* w = GTK_WIDGET(l->data);
          const char* text =
              GTK_IS_MENU_ITEM(w) ? gtk_menu_item_get_label(GTK_MENU_ITEM(w)) : nullptr;
          if (text != nullptr && want == text) hit = w;
        }
        if (hit == nullptr) return false;
        gtk_menu_item_activate(GTK_MENU_ITEM(hit));
        *outcomes = tray.send_queued();
        return true;
      });
  g_list_free(children);
  gtk_widget_destroy(menu);
  g_object_unref(menu);
  return status;
}

int run_tray(CliContext& ctx, const TrayOptions& o) {
  if (auto usage = tray_usage_error(ctx, o)) return *usage;
  auto t = tray_token(o);
  if (!t) return fail(ctx, t.error().message);
  const std::string token = *t;
  if (!gtk_init_check(nullptr, nullptr)) {
    return fail(ctx, "cannot open a display for the tray (is DISPLAY or WAYLAND_DISPLAY set?)");
  }
  Tray tray(o, token);
  if (o.dump_menu) return dump_menu(ctx, tray, o, !token.empty());
  return tray.run();
}

}  // namespace
}  // namespace memopt::cli

int main(int argc, char** argv) {
  using namespace memopt::cli;
  return tray_helper_main(
      argc, argv, [](CLI::App&) {},
      [](CliContext& ctx, const TrayOptions& o) { return run_tray(ctx, o); });
}
