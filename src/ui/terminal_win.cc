// `ai watch` on Windows: the full-screen view drawn with VT sequences
// (ui/vt_frame.h) in the console or Windows Terminal, keys read as console
// input events; the plain view as on Linux. Ctrl-C, Ctrl-Break and closing
// the window stop the loop through the same path as 'q', so the console's
// modes and screen are always restored.
#include <windows.h>
// After windows.h:
#include <io.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include "ui/controller.h"
#include "ui/terminal.h"
#include "ui/vt_frame.h"

namespace memopt::ui {
namespace {

volatile LONG g_stop = 0;

BOOL WINAPI on_console_event(DWORD type) {
  if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT || type == CTRL_CLOSE_EVENT) {
    InterlockedExchange(&g_stop, 1);
    return TRUE;
  }
  return FALSE;
}

class StopSignals {
 public:
  StopSignals() {
    InterlockedExchange(&g_stop, 0);
    SetConsoleCtrlHandler(on_console_event, TRUE);
  }
  ~StopSignals() { SetConsoleCtrlHandler(on_console_event, FALSE); }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

bool stopped() { return InterlockedCompareExchange(&g_stop, 0, 0) != 0; }

void write_all(HANDLE out, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    DWORD wrote = 0;
    const DWORD want = static_cast<DWORD>(std::min<size_t>(s.size() - off, 1 << 20));
    if (!WriteFile(out, s.data() + off, want, &wrote, nullptr) || wrote == 0) return;
    off += wrote;
  }
}

// Waits up to `ms` for console input; the ASCII keys typed (arrows as
// 'UP'/'DOWN' moves) go to `on_key`, a resize marks the screen dirty.
// Returns true when anything arrived.
template <typename OnKey, typename OnMove>
bool read_keys(HANDLE in, DWORD ms, OnKey on_key, OnMove on_move) {
  if (WaitForSingleObject(in, ms) != WAIT_OBJECT_0) return false;
  INPUT_RECORD recs[32];
  DWORD n = 0;
  if (!ReadConsoleInputW(in, recs, 32, &n)) return false;
  for (DWORD i = 0; i < n; ++i) {
    if (recs[i].EventType == WINDOW_BUFFER_SIZE_EVENT) continue;
    if (recs[i].EventType != KEY_EVENT || !recs[i].Event.KeyEvent.bKeyDown) continue;
    const auto& k = recs[i].Event.KeyEvent;
    if (k.wVirtualKeyCode == VK_UP) {
      on_move(-1);
    } else if (k.wVirtualKeyCode == VK_DOWN) {
      on_move(1);
    } else if (k.uChar.UnicodeChar > 0 && k.uChar.UnicodeChar < 128) {
      if (!on_key(static_cast<int>(k.uChar.UnicodeChar))) break;
    }
  }
  return n > 0;
}

}  // namespace

bool needs_plain_mode(const char* term_env, bool stdout_is_tty) {
  if (!stdout_is_tty) return true;
  if (term_env != nullptr && std::string_view(term_env) == "dumb") return true;
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  DWORD mode = 0;
  if (!GetConsoleMode(out, &mode)) return true;  // not a console: a pipe or a file
  if ((mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0) return false;
  // Windows 10 1511 and later take VT sequences once asked to.
  if (!SetConsoleMode(out, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING)) return true;
  SetConsoleMode(out, mode);
  return false;
}

int run_fullscreen_watch(DashboardSource& source, const WatchOptions& opts, std::string& error) {
  StopSignals signals;
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  DWORD out_mode = 0, in_mode = 0;
  if (!GetConsoleMode(out, &out_mode) || !GetConsoleMode(in, &in_mode)) {
    error = "the full-screen view needs a console; use --plain";
    return 1;
  }
  if (!SetConsoleMode(out, out_mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING | ENABLE_PROCESSED_OUTPUT)) {
    error = "this console takes no VT sequences (Windows 10 1511 or later needed); use --plain";
    return 1;
  }
  // Keys one by one, no echo; Ctrl-C still raises the console event.
  SetConsoleMode(in, ENABLE_WINDOW_INPUT | ENABLE_PROCESSED_INPUT);
  const UINT old_cp = GetConsoleOutputCP();
  SetConsoleOutputCP(CP_UTF8);
  write_all(out, kVtEnter);

  WatchController ctl(source, opts.history_points);
  double next_tick = 0;
  bool dirty = true;
  bool quit = false;
  while (!stopped() && !quit) {
    const double now = now_seconds();
    if (now >= next_tick) {
      ctl.refresh(now);
      next_tick = now + opts.interval_seconds;
      dirty = true;
    }
    if (dirty) {
      CONSOLE_SCREEN_BUFFER_INFO info{};
      int cols = 80, rows = 24;
      if (GetConsoleScreenBufferInfo(out, &info)) {
        cols = std::max(20, info.srWindow.Right - info.srWindow.Left + 1);
        rows = std::max(5, info.srWindow.Bottom - info.srWindow.Top + 1);
      }
      write_all(out, vt_frame(render_dashboard(ctl.dashboard(), ctl.view(clock_text()), cols, rows),
                              opts.color, cols, rows));
      dirty = false;
    }
    dirty = read_keys(
        in, 100,
        [&](int ch) {
          if (ctl.key(ch, now_seconds()) == KeyResult::kQuit) quit = true;
          return !quit;
        },
        [&](int delta) { ctl.move_selection(delta); });
  }
  write_all(out, kVtLeave);
  SetConsoleOutputCP(old_cp);
  SetConsoleMode(in, in_mode);
  SetConsoleMode(out, out_mode);
  return 0;
}

int run_plain_watch(DashboardSource& source, const WatchOptions& opts, FILE* out, int cols) {
  StopSignals signals;
  WatchController ctl(source, opts.history_points);
  int frames = 0;
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  DWORD in_mode = 0;
  const bool console_in = GetConsoleMode(in, &in_mode) != 0;
  while (!stopped()) {
    ctl.refresh(now_seconds());
    const std::string frame =
        plain_frame(render_dashboard(ctl.dashboard(), ctl.view(clock_text()), cols, 60));
    if (frames > 0) std::fputs("\n", out);
    std::fputs(frame.c_str(), out);
    std::fflush(out);
    ++frames;
    if (opts.max_frames > 0 && frames >= opts.max_frames) break;
    // Wait for the interval, or a key typed in the console.
    const double until = now_seconds() + opts.interval_seconds;
    bool quit = false;
    while (!stopped() && !quit) {
      const double left = until - now_seconds();
      if (left <= 0) break;
      const auto ms = static_cast<DWORD>(std::min(left, 0.1) * 1000);
      if (!console_in) {
        Sleep(ms);
        continue;
      }
      if (read_keys(
              in, ms,
              [&](int ch) {
                if (ch == '\r' || ch == '\n' || ch == ' ') return true;
                if (ctl.key(ch, now_seconds()) == KeyResult::kQuit) quit = true;
                return !quit;
              },
              [&](int delta) { ctl.move_selection(delta); })) {
        break;  // redraw after a command
      }
    }
    if (quit) break;
  }
  return 0;
}

}  // namespace memopt::ui
