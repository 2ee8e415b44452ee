#include "ui/screen.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "util/bytes.h"
#include "util/text.h"

namespace memopt::ui {
namespace {

double percent(uint64_t used, uint64_t total) {
  if (total == 0) return 0;
  return 100.0 * static_cast<double>(used) / static_cast<double>(total);
}

// Table cells: at most 6 characters ("512M", "18.2G", "1023K"), so the
// workloads table fits 80 columns.
std::string short_bytes(std::optional<uint64_t> b) {
  if (!b) return "-";
  const double v = static_cast<double>(*b);
  if (*b < kKiB) return fmt::format("{}B", *b);
  if (*b < kMiB) return fmt::format("{:.0f}K", v / kKiB);
  if (*b < kGiB) return fmt::format("{:.0f}M", v / kMiB);
  if (v / kGiB < 100) return fmt::format("{:.1f}G", v / kGiB);
  return fmt::format("{:.0f}G", v / kGiB);
}

std::string fit(std::string s, int width) {
  if (width <= 0) return "";
  if (static_cast<int>(s.size()) > width) {
    // Keep the end of long names: model tags (":7b-q4") tell them apart.
    if (width <= 3) return s.substr(0, static_cast<size_t>(width));
    return "~" + s.substr(s.size() - static_cast<size_t>(width - 1));
  }
  return s;
}

std::string pad_right(const std::string& s, int width) {
  std::string out = fit(s, width);
  out.append(static_cast<size_t>(width) - out.size(), ' ');
  return out;
}

std::string pad_left(const std::string& s, int width) {
  std::string out = fit(s, width);
  return std::string(static_cast<size_t>(width) - out.size(), ' ') + out;
}

ScreenLine plain(std::string text, Style style = Style::kNormal) {
  ScreenLine l;
  l.text = terminal_safe(text);  // names and messages come from other programs
  if (style != Style::kNormal && !l.text.empty()) {
    l.spans.push_back({0, static_cast<int>(l.text.size()), style});
  }
  return l;
}

void clip(ScreenLine& l, int cols) {
  if (static_cast<int>(l.text.size()) <= cols) return;
  l.text.resize(static_cast<size_t>(std::max(cols, 0)));
  std::vector<Span> kept;
  for (Span s : l.spans) {
    if (s.col >= cols) continue;
    s.len = std::min(s.len, cols - s.col);
    kept.push_back(s);
  }
  l.spans = std::move(kept);
}

// "<label> [bar] 12.3 GiB / 24.0 GiB  51%" across the whole width.
ScreenLine bar_line(const std::string& label, uint64_t used, uint64_t total, int cols,
                    const std::vector<double>& marks) {
  std::string figures =
      total == 0 ? "    unknown" : fmt::format(" {:>9} / {:<9} {:>3.0f}%", format_bytes(used),
                                                 format_bytes(total), percent(used, total));
  const int label_w = 6;
  int width = cols - label_w - static_cast<int>(figures.size());
  width = std::max(width, 7);
  ScreenLine bar = threshold_bar(used, total, width, marks);
  ScreenLine l;
  l.text = pad_right(label, label_w) + bar.text + figures;
  for (Span s : bar.spans) {
    s.col += label_w;
    l.spans.push_back(s);
  }
  return l;
}

// The memory map of one device as a bar the width of the usage bar above
// it: a letter per cell for what fills it (lower case: estimated), blanks
// free. Cells are given out by running total so they add up to used/total.
char map_letter(const MapSegment& s) {
  char c = '?';
  switch (s.kind) {
    case SegmentKind::kWeights:
      c = 'W';
      break;
    case SegmentKind::kKvCache:
      c = 'K';
      break;
    case SegmentKind::kCompute:
      c = 'C';
      break;
    case SegmentKind::kModel:
      c = 'M';
      break;
    case SegmentKind::kNonAi:
      return 'n';
    case SegmentKind::kUnattributed:
      return '?';
  }
  return s.estimated ? static_cast<char>(c - 'A' + 'a') : c;
}

ScreenLine map_bar_line(const DeviceMap& m, int cols) {
  // Same geometry as bar_line: a 6-column label, the bar, the figures' width.
  const int figures_w = 1 + 9 + 3 + 9 + 1 + 4;
  const int width = std::max(cols - 6 - figures_w, 7);
  const int inner = width - 2;
  ScreenLine l;
  l.text = "  map [";
  std::vector<uint64_t> parts;
  for (const MapSegment& s : m.segments) parts.push_back(s.bytes);
  const std::vector<int> cells = bar_cells(parts, m.total_bytes, inner);
  int cell = 0;
  for (size_t i = 0; i < m.segments.size(); ++i) {
    const MapSegment& s = m.segments[i];
    const int n = cells[i];
    if (n <= 0) continue;
    const bool ai = s.kind != SegmentKind::kNonAi && s.kind != SegmentKind::kUnattributed;
    l.spans.push_back({static_cast<int>(l.text.size()), n, ai ? Style::kBarLow : Style::kDim});
    l.text.append(static_cast<size_t>(n), map_letter(s));
    cell += n;
  }
  l.text.append(static_cast<size_t>(inner - cell), ' ');
  l.text += "]";
  return l;
}

// The map's numbers: owner, then letter and size per part ("~" estimated).
ScreenLine map_detail_line(const DeviceMap& m) {
  std::string text = "      ";
  std::string owner;
  for (const MapSegment& s : m.segments) {
    const std::string who =
        s.kind == SegmentKind::kNonAi || s.kind == SegmentKind::kUnattributed ? "" : s.owner;
    if (s.kind == SegmentKind::kNonAi) {
      text += (owner.empty() ? "" : " | ") + std::string("non-AI ") + short_bytes(s.bytes);
    } else if (s.kind == SegmentKind::kUnattributed) {
      text += (owner.empty() ? "" : " | ") + std::string("? ") + short_bytes(s.bytes);
    } else {
      if (who != owner) text += (owner.empty() ? "" : " | ") + who;
      text += std::string(" ") + map_letter(s) + (s.estimated ? "~" : "") + short_bytes(s.bytes);
    }
    owner = who.empty() ? "-" : who;
  }
  return plain(text, Style::kDim);
}

std::string gpu_title(const GpuView& g) {
  std::string t = fmt::format("GPU{} {}", g.index, g.name);
  if (g.temperature_c) t += fmt::format("  {:.0f}C", *g.temperature_c);
  if (g.power_watts) {
    t += g.power_limit_watts ? fmt::format("  {:.0f}/{:.0f} W", *g.power_watts, *g.power_limit_watts)
                             : fmt::format("  {:.0f} W", *g.power_watts);
  }
  if (g.utilization_percent) t += fmt::format("  util {}%", *g.utilization_percent);
  return t;
}

std::string kv_cell(const WorkloadView& w) {
  if (w.kv_used_bytes && w.kv_capacity_bytes) {
    return short_bytes(w.kv_used_bytes) + "/" + short_bytes(w.kv_capacity_bytes);
  }
  if (w.kv_capacity_bytes) return "-/" + short_bytes(w.kv_capacity_bytes);
  if (w.kv_used_bytes) return short_bytes(w.kv_used_bytes);
  return "-";
}

// Column widths of the workloads table; the model column takes what is left.
constexpr int kRuntimeW = 9, kPidW = 7, kBytesW = 6, kShareW = 4, kKvW = 13, kIdleW = 6;

std::string table_row(char mark, const std::string& runtime, const std::string& model,
                      const std::string& pid, const std::string& vram, const std::string& ram,
                      const std::string& share, const std::string& kv, const std::string& idle,
                      int cols) {
  const int fixed = 1 + kRuntimeW + 1 + 1 + kPidW + 1 + kBytesW + 1 + kBytesW + 1 + kShareW + 1 +
                    kKvW + 1 + kIdleW;
  const int model_w = std::max(cols - fixed, 8);
  std::string s(1, mark);
  s += pad_right(runtime, kRuntimeW) + " " + pad_right(model, model_w) + " " + pad_left(pid, kPidW) +
       " " + pad_left(vram, kBytesW) + " " + pad_left(ram, kBytesW) + " " + pad_left(share, kShareW) +
       " " + pad_left(kv, kKvW) + " " + pad_left(idle, kIdleW);
  return s;
}

// One graph of `height` rows, one column per sample (newest on the right),
// each filled up to value/scale of the height.
std::vector<std::string> graph(const std::vector<double>& fractions, int width, int height) {
  std::vector<std::string> rows(static_cast<size_t>(height), std::string(static_cast<size_t>(width), ' '));
  const int n = static_cast<int>(fractions.size());
  const int first = std::max(0, n - width);
  for (int i = first; i < n; ++i) {
    const int col = width - (n - i);
    const double f = std::clamp(fractions[static_cast<size_t>(i)], 0.0, 1.0);
    const int filled = static_cast<int>(std::lround(f * height));
    for (int r = 0; r < filled; ++r) rows[static_cast<size_t>(height - 1 - r)][static_cast<size_t>(col)] = '|';
  }
  return rows;
}

}  // namespace

std::string plain_frame(const std::vector<ScreenLine>& lines) {
  std::string out;
  if (lines.empty()) return out;
  size_t body_end = lines.size() - 1;  // the footer is the last line
  while (body_end > 0 && lines[body_end - 1].text.empty()) --body_end;
  for (size_t i = 0; i < body_end; ++i) out += lines[i].text + "\n";
  out += lines.back().text + "\n";
  return out;
}

ScreenLine threshold_bar(uint64_t used, uint64_t total, int width,
                         const std::vector<double>& marks_percent) {
  const int inner = std::max(width - 2, 1);
  int filled = 0;
  if (total > 0) {
    const double frac = std::min(1.0, static_cast<double>(used) / static_cast<double>(total));
    filled = static_cast<int>(std::lround(frac * inner));
  }
  std::vector<int> marks;
  for (double m : marks_percent) {
    if (!std::isfinite(m) || m <= 0 || m >= 100) continue;
    marks.push_back(std::min(inner - 1, static_cast<int>(m / 100.0 * inner)));
  }
  std::sort(marks.begin(), marks.end());
  ScreenLine l;
  l.text = "[";
  for (int i = 0; i < inner; ++i) {
    const bool is_mark = std::find(marks.begin(), marks.end(), i) != marks.end();
    l.text.push_back(is_mark ? ':' : (i < filled ? '|' : ' '));
  }
  l.text.push_back(']');
  // Fill colour by the threshold band each cell lies in: below the first mark
  // low, past the last high, between them mid.
  auto band = [&](int i) {
    int passed = 0;
    for (int m : marks) passed += (i >= m);
    if (passed == 0) return Style::kBarLow;
    if (passed == static_cast<int>(marks.size())) return Style::kBarHigh;
    return Style::kBarMid;
  };
  int i = 0;
  while (i < filled) {
    const Style st = band(i);
    int j = i;
    while (j < filled && band(j) == st) ++j;
    l.spans.push_back({1 + i, j - i, st});
    i = j;
  }
  for (int m : marks) l.spans.push_back({1 + m, 1, Style::kMarker});
  return l;
}

// The serve gateway's section: a heading, then one row per model (state,
// backend pid, queue length, oldest wait, mean wait), at most `max_rows`,
// and the image-generation handoff's line when it watches an image server.
std::vector<ScreenLine> gateway_lines(const snapshot::GatewayStatus& g, int cols, int max_rows) {
  std::vector<ScreenLine> out;
  if (!g.reachable) {
    out.push_back(plain("Gateway " + g.listen + ": not reachable", Style::kTitle));
    out.push_back(plain(" " + g.error, Style::kWarning));
    return out;
  }
  out.push_back(plain(fmt::format("Gateway {} ({} models)", g.listen, g.models.size()),
                      Style::kTitle));
  out.push_back(plain(fmt::format(" {} {} {} {} {} {}", pad_right("MODEL", 20),
                                  pad_right("STATE", 8), pad_left("PID", 7), pad_left("QUEUE", 5),
                                  pad_left("WAIT", 6), pad_left("AVG", 6)),
                      Style::kDim));
  int shown = 0;
  for (const auto& m : g.models) {
    if (shown++ >= max_rows) break;
    const Style style = m.state == "crashed"   ? Style::kWarning
                        : m.state == "stopped" ? Style::kDim
                                               : Style::kNormal;
    out.push_back(plain(
        fmt::format(" {} {} {} {} {} {}", pad_right(fit(m.name, 20), 20), pad_right(m.state, 8),
                    pad_left(m.pid > 0 ? std::to_string(m.pid) : "-", 7),
                    pad_left(std::to_string(m.queued), 5),
                    pad_left(m.queued ? format_duration(m.oldest_wait_seconds) : "-", 6),
                    pad_left(format_duration(m.mean_wait_seconds), 6)),
        style));
  }
  if (g.handoff) {
    // While a render holds the models, the line stands out.
    out.push_back(plain(memopt::fit(" Image renders: " + g.handoff->summary(),
                                    static_cast<size_t>(std::max(cols, 1))),
                        g.handoff->holding() ? Style::kWarning : Style::kDim));
  }
  return out;
}

std::vector<ScreenLine> render_dashboard(const Dashboard& d, const ViewState& v, int cols,
                                         int rows) {
  cols = std::max(cols, 20);
  std::vector<ScreenLine> top;
  std::string title = "ruvector-memopt ai watch | " + d.source;
  if (d.profile) title += " | profile " + d.profile->name;
  if (!v.clock.empty()) title += " | " + v.clock;
  top.push_back(plain(title, Style::kTitle));

  std::vector<double> ram_marks;
  if (d.profile && d.ram_total_bytes > 0) {
    const double reserve = d.profile->reserve_ram_gb * static_cast<double>(kGiB);
    ram_marks.push_back(100.0 - 100.0 * reserve / static_cast<double>(d.ram_total_bytes));
  }
  const uint64_t ram_used =
      d.ram_total_bytes > d.ram_available_bytes ? d.ram_total_bytes - d.ram_available_bytes : 0;
  top.push_back(bar_line("RAM", ram_used, d.ram_total_bytes, cols, ram_marks));

  std::vector<double> vram_marks;
  if (d.profile) vram_marks = {d.profile->auto_compact_threshold, d.profile->auto_offload_threshold};
  if (d.gpus.empty()) top.push_back(plain("No GPU found: VRAM bars hidden", Style::kDim));
  for (const GpuView& g : d.gpus) {
    ScreenLine t = plain(gpu_title(g));
    if (!g.throttle.empty()) {
      const std::string w = "  THROTTLED (" + g.throttle + ")";
      t.spans.push_back({static_cast<int>(t.text.size()), static_cast<int>(w.size()), Style::kWarning});
      t.text += w;
    }
    top.push_back(std::move(t));
    top.push_back(bar_line("VRAM", g.used_bytes, g.total_bytes, cols, vram_marks));
    for (const DeviceMap& m : d.maps) {
      if (m.id != "gpu" + std::to_string(g.index) || m.segments.empty()) continue;
      top.push_back(map_bar_line(m, cols));
      top.push_back(map_detail_line(m));
    }
  }
  if (!d.maps.empty() && !d.gpus.empty()) {
    top.push_back(
        plain("      W weights K KV C compute M model n non-AI ? unattributed; lower=estimate",
              Style::kDim));
  }
  if (d.profile) {
    top.push_back(plain(fmt::format("      ':' marks: RAM reserve {:.0f} GiB; VRAM compact {:.0f}%, "
                                    "offload {:.0f}%",
                                    d.profile->reserve_ram_gb, d.profile->auto_compact_threshold,
                                    d.profile->auto_offload_threshold),
                        Style::kDim));
  }
  for (const std::string& w : d.warnings) top.push_back(plain("! " + w, Style::kWarning));

  // AI workloads come first in d.workloads, the non-AI VRAM holders last
  // ("other"); each group has its own section.
  const int n_work = static_cast<int>(d.workloads.size());
  int n_ai = 0;
  while (n_ai < n_work && d.workloads[static_cast<size_t>(n_ai)].runtime != "other") ++n_ai;
  const int n_other = n_work - n_ai;
  // Rows left after the fixed parts: workloads heading + column header,
  // non-AI heading (when any), actions heading, footer.
  std::vector<ScreenLine> gw;
  if (d.gateway) gw = gateway_lines(*d.gateway, cols, std::max(1, std::min(4, rows / 6)));
  const int fixed = static_cast<int>(top.size()) + 2 + (n_other > 0 ? 1 : 0) + 1 + 1 +
                    static_cast<int>(gw.size());
  int spare = std::max(0, rows - fixed);
  const int ai_rows = std::min(std::max(n_ai, 1), spare);
  spare -= ai_rows;
  const int other_rows = std::min(n_other, std::min(spare, 3));
  spare -= other_rows;
  const int action_rows = std::min({std::max(static_cast<int>(d.actions.size()), 1), 4, spare});
  spare -= action_rows;
  // A graph needs two readings to show a trend.
  const int graph_rows = spare >= 4 && d.history.size() >= 2 ? std::min(spare - 1, 8) : 0;

  std::vector<ScreenLine> out = top;
  if (graph_rows > 0) {
    const int half = (cols - 1) / 2;
    std::vector<double> vram_f, kv_f;
    uint64_t kv_max = 0;
    for (const HistoryPoint& p : d.history) kv_max = std::max(kv_max, p.kv_used_bytes);
    for (const HistoryPoint& p : d.history) {
      vram_f.push_back(percent(p.vram_used_bytes, p.vram_total_bytes) / 100.0);
      kv_f.push_back(kv_max == 0 ? 0.0
                                 : static_cast<double>(p.kv_used_bytes) / static_cast<double>(kv_max));
    }
    std::string span_text = "no samples yet";
    if (d.history.size() >= 2) {
      span_text = "last " + format_duration(d.history.back().t_seconds - d.history.front().t_seconds);
    }
    const std::string left = fmt::format("VRAM % of all GPUs ({})", span_text);
    const std::string right = fmt::format("KV cache (top {})", format_bytes(kv_max));
    out.push_back(plain(pad_right(left, half) + " " + right, Style::kTitle));
    auto lg = graph(vram_f, half, graph_rows);
    auto rg = graph(kv_f, cols - half - 1, graph_rows);
    for (int r = 0; r < graph_rows; ++r) {
      ScreenLine l;
      l.text = lg[static_cast<size_t>(r)] + " " + rg[static_cast<size_t>(r)];
      l.spans.push_back({0, half, Style::kBarLow});
      l.spans.push_back({half + 1, cols - half - 1, Style::kBarMid});
      out.push_back(std::move(l));
    }
  }

  out.push_back(plain(fmt::format("AI workloads ({})", n_ai), Style::kTitle));
  out.push_back(plain(table_row(' ', "RUNTIME", "MODEL", "PID", "VRAM", "RAM", "GPU%", "KV used/cap",
                                "IDLE", cols),
                      Style::kDim));
  if (n_ai == 0 && ai_rows > 0) out.push_back(plain(" none detected", Style::kDim));
  const int sel = std::clamp(v.selected, 0, std::max(n_work - 1, 0));
  auto row = [&](int i) {
    const WorkloadView& w = d.workloads[static_cast<size_t>(i)];
    const std::string share =
        w.gpu_share ? fmt::format("{:.0f}%", std::clamp(*w.gpu_share, 0.0, 1.0) * 100) : "-";
    out.push_back(plain(table_row(i == sel ? '>' : ' ', w.runtime, w.model.empty() ? "-" : w.model,
                                  w.pid > 0 ? std::to_string(w.pid) : "-",
                                  short_bytes(w.vram_bytes), short_bytes(w.ram_bytes), share,
                                  kv_cell(w), format_duration(w.idle_seconds), cols),
                        i == sel ? Style::kSelected : Style::kNormal));
  };
  // Scroll so the selection stays visible (within its own section).
  const int ai_first = sel < n_ai ? std::max(0, sel - ai_rows + 1) : 0;
  for (int i = ai_first; i < n_ai && i < ai_first + ai_rows; ++i) row(i);
  if (n_other > 0) {
    out.push_back(plain(fmt::format("Non-AI GPU processes ({})", n_other), Style::kTitle));
    const int first = sel >= n_ai ? std::max(n_ai, sel - other_rows + 1) : n_ai;
    for (int i = first; i < n_work && i < first + other_rows; ++i) row(i);
  }

  out.insert(out.end(), gw.begin(), gw.end());
  out.push_back(plain("Last policy actions", Style::kTitle));
  if (d.actions.empty() && action_rows > 0) out.push_back(plain(" none", Style::kDim));
  const int n_act = static_cast<int>(d.actions.size());
  for (int i = std::max(0, n_act - action_rows); i < n_act; ++i) {
    const ActionView& a = d.actions[static_cast<size_t>(i)];
    out.push_back(plain(fmt::format(" {} {} {}: {} [{}]", a.when, a.kind, a.target, a.reason,
                                    a.outcome.empty() ? "pending" : a.outcome),
                        a.outcome.rfind("failed", 0) == 0 ? Style::kWarning : Style::kNormal));
  }

  // The footer sits on the last row.
  while (static_cast<int>(out.size()) < rows - 1) out.push_back(ScreenLine{});
  if (static_cast<int>(out.size()) > rows - 1) out.resize(static_cast<size_t>(std::max(rows - 1, 0)));
  std::string keys = "u unload  p profile  o optimize  arrows select  q quit";
  if (!v.message.empty()) keys += "  | " + v.message;
  out.push_back(plain(keys, Style::kDim));
  for (ScreenLine& l : out) clip(l, cols);
  return out;
}

}  // namespace memopt::ui
