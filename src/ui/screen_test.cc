#include "ui/screen.h"

#include <gtest/gtest.h>

#include <cmath>

#include "util/bytes.h"

namespace memopt::ui {
namespace {

Dashboard sample() {
  Dashboard d;
  d.source = "standalone";
  d.ram_total_bytes = 32 * kGiB;
  d.ram_available_bytes = 20 * kGiB;
  GpuView g;
  g.index = 0;
  g.name = "NVIDIA GeForce RTX 4090";
  g.used_bytes = 18 * kGiB;
  g.total_bytes = 24 * kGiB;
  g.temperature_c = 71;
  g.power_watts = 212;
  g.power_limit_watts = 450;
  g.utilization_percent = 87;
  d.gpus.push_back(g);
  d.profile = ProfileView{"local_llm", 80, 95, 8};
  WorkloadView a;
  a.runtime = "ollama";
  a.model = "llama3.2:3b";
  a.pid = 4242;
  a.vram_bytes = 2 * kGiB + 512 * kMiB;
  a.ram_bytes = 300 * kMiB;
  a.gpu_share = 1.0;
  a.kv_used_bytes = 112 * kMiB;
  a.kv_capacity_bytes = 448 * kMiB;
  a.idle_seconds = 192;
  WorkloadView b;
  b.runtime = "llamacpp";
  b.model = "qwen2-7b-instruct-q4_k_m.gguf";
  b.pid = 777;
  b.vram_bytes = 5 * kGiB;
  b.gpu_share = 0.7;
  d.workloads = {a, b};
  d.actions.push_back({"10:05:01", "unload", "ollama/qwen2:7b", "idle 312s > 300s", "dry-run"});
  for (int i = 0; i < 10; ++i) {
    HistoryPoint p;
    p.t_seconds = i;
    p.vram_used_bytes = static_cast<uint64_t>(i + 1) * 2 * kGiB;
    p.vram_total_bytes = 24 * kGiB;
    p.kv_used_bytes = static_cast<uint64_t>(i) * 10 * kMiB;
    d.history.push_back(p);
  }
  return d;
}

std::string joined(const std::vector<ScreenLine>& lines) {
  std::string s;
  for (const auto& l : lines) s += l.text + "\n";
  return s;
}

TEST(ThresholdBar, FillsAndMarksByPercent) {
  // 22 cells wide: 20 inside. 50% used -> 10 filled; marks at 80% (cell 16), 95% (cell 19).
  ScreenLine b = threshold_bar(12, 24, 22, {80, 95});
  EXPECT_EQ(b.text, "[||||||||||      :  :]");
  ASSERT_EQ(b.spans.size(), 3u);
  EXPECT_EQ(b.spans[0].col, 1);
  EXPECT_EQ(b.spans[0].len, 10);
  EXPECT_EQ(b.spans[0].style, Style::kBarLow);
  EXPECT_EQ(b.spans[1].style, Style::kMarker);
  EXPECT_EQ(b.spans[1].col, 17);
}

TEST(ThresholdBar, FillPastThresholdsChangesColour) {
  ScreenLine b = threshold_bar(24, 24, 12, {50});  // full, one mark at cell 5
  EXPECT_EQ(b.text, "[|||||:||||]");
  ASSERT_GE(b.spans.size(), 2u);
  EXPECT_EQ(b.spans[0].style, Style::kBarLow);
  EXPECT_EQ(b.spans[0].len, 5);
  EXPECT_EQ(b.spans[1].style, Style::kBarHigh);
  EXPECT_EQ(b.spans[1].col, 6);
}

TEST(ThresholdBar, UnknownTotalAndHostileMarksDrawEmpty) {
  ScreenLine b = threshold_bar(5, 0, 8, {-3, 0, 100, 250, std::nan("")});
  EXPECT_EQ(b.text, "[      ]");
  EXPECT_TRUE(b.spans.empty());
}

TEST(PlainFrame, DropsTheBlankRowsAboveTheFooter) {
  std::vector<ScreenLine> lines = {{"title", {}}, {"", {}}, {"body", {}}, {"", {}}, {"", {}},
                                   {"footer", {}}};
  EXPECT_EQ(plain_frame(lines), "title\n\nbody\nfooter\n");
  EXPECT_EQ(plain_frame({{"only", {}}}), "only\n");
  EXPECT_EQ(plain_frame({}), "");
}

TEST(RenderDashboard, ShowsTheNumbersIn80x24) {
  const auto lines = render_dashboard(sample(), ViewState{0, "", "10:07:13"}, 80, 24);
  ASSERT_EQ(lines.size(), 24u);
  for (const auto& l : lines) EXPECT_LE(l.text.size(), 80u) << l.text;
  const std::string s = joined(lines);
  EXPECT_NE(s.find("profile local_llm | 10:07:13"), std::string::npos) << s;
  EXPECT_NE(s.find("12.0 GiB / 32.0 GiB   38%"), std::string::npos) << s;  // RAM
  EXPECT_NE(s.find("18.0 GiB / 24.0 GiB   75%"), std::string::npos) << s;  // VRAM
  EXPECT_NE(s.find("GPU0 NVIDIA GeForce RTX 4090  71C  212/450 W  util 87%"), std::string::npos);
  EXPECT_NE(s.find(">ollama    llama3.2:3b"), std::string::npos) << s;
  EXPECT_NE(s.find("  4242   2.5G   300M 100%     112M/448M  3m12s"), std::string::npos) << s;
  EXPECT_NE(s.find(" llamacpp  ~"), std::string::npos) << s;  // long name cut from the left
  EXPECT_NE(s.find("5.0G      -  70%             -      -"), std::string::npos) << s;
  EXPECT_NE(s.find("10:05:01 unload ollama/qwen2:7b: idle 312s > 300s [dry-run]"), std::string::npos);
  EXPECT_NE(s.find("KV cache (top 90.0 MiB)"), std::string::npos) << s;
  EXPECT_EQ(lines.back().text.rfind("u unload", 0), 0u);
}

TEST(RenderDashboard, GraphNewestSampleIsRightmostAndFull) {
  Dashboard d = sample();
  d.history.back().vram_used_bytes = 24 * kGiB;  // 100% at the end
  const auto lines = render_dashboard(d, ViewState{}, 80, 40);
  size_t head = 0;
  while (head < lines.size() && lines[head].text.find("VRAM % of all GPUs") == std::string::npos) ++head;
  ASSERT_LT(head, lines.size());
  // The graph rows follow; the last VRAM column (39) is filled on every row.
  const int half = (80 - 1) / 2;
  int rows = 0;
  for (size_t r = head + 1; r < lines.size() && lines[r].text.size() == 80; ++r, ++rows) {
    EXPECT_EQ(lines[r].text[static_cast<size_t>(half - 1)], '|') << r;
    EXPECT_EQ(lines[r].text[0], ' ');  // only 10 samples: the left is empty
  }
  EXPECT_EQ(rows, 8);
}

TEST(RenderDashboard, ShortTerminalDropsTheGraphFirstAndKeepsTheFooter) {
  const auto lines = render_dashboard(sample(), ViewState{1, "unloaded", ""}, 80, 14);
  ASSERT_EQ(lines.size(), 14u);
  const std::string s = joined(lines);
  EXPECT_EQ(s.find("VRAM % of all GPUs"), std::string::npos);
  EXPECT_NE(s.find(">llamacpp"), std::string::npos) << s;
  EXPECT_NE(lines.back().text.find("| unloaded"), std::string::npos);
}

TEST(RenderDashboard, SelectionScrollsIntoView) {
  Dashboard d = sample();
  for (int i = 0; i < 30; ++i) {
    WorkloadView w;
    w.runtime = "pytorch";
    w.model = "m" + std::to_string(i);
    w.pid = 1000 + i;
    d.workloads.push_back(w);
  }
  const auto lines = render_dashboard(d, ViewState{31, "", ""}, 80, 24);
  const std::string s = joined(lines);
  EXPECT_NE(s.find(">pytorch   m29"), std::string::npos) << s;
}

TEST(RenderDashboard, NoGpuNoProfileNarrowTerminal) {
  Dashboard d;
  d.source = "http://127.0.0.1:7878";
  d.ram_total_bytes = 8 * kGiB;
  d.ram_available_bytes = 8 * kGiB;
  const auto lines = render_dashboard(d, ViewState{5, "", ""}, 20, 3);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    EXPECT_LE(l.text.size(), 20u);
    for (const Span& sp : l.spans) EXPECT_LE(sp.col + sp.len, 20);
  }
  const std::string all = joined(render_dashboard(d, ViewState{}, 80, 24));
  EXPECT_NE(all.find("No GPU found"), std::string::npos);
  EXPECT_NE(all.find("none detected"), std::string::npos);
}

TEST(HistoryRing, KeepsTheNewest) {
  HistoryRing ring(3);
  for (int i = 0; i < 5; ++i) ring.push(HistoryPoint{static_cast<double>(i)});
  const auto pts = ring.points();
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_EQ(pts.front().t_seconds, 2);
  EXPECT_EQ(pts.back().t_seconds, 4);
}

TEST(HistoryPointOf, SumsGpusAndKv) {
  const HistoryPoint p = history_point(sample(), 7);
  EXPECT_EQ(p.vram_used_bytes, 18 * kGiB);
  EXPECT_EQ(p.vram_total_bytes, 24 * kGiB);
  EXPECT_EQ(p.kv_used_bytes, 112 * kMiB);
  EXPECT_EQ(p.ram_used_bytes, 12 * kGiB);
}

// The memory map under each GPU's bar (letters per part, lower case when
// estimated) and the non-AI VRAM holders in their own section, not counted
// as AI workloads.
TEST(RenderDashboard, MemoryMapAndNonAiSection) {
  Dashboard d = sample();
  DeviceMap m;
  m.id = "gpu0";
  m.total_bytes = 24 * kGiB;
  m.used_bytes = 18 * kGiB;
  m.segments = {{SegmentKind::kWeights, "llama3.2:3b", 6 * kGiB, false, "file"},
                {SegmentKind::kKvCache, "llama3.2:3b", 3 * kGiB, true, "estimator"},
                {SegmentKind::kNonAi, "non-AI processes", 6 * kGiB, false, "nvml"},
                {SegmentKind::kUnattributed, "not attributed", 3 * kGiB, false, "nvml"}};
  d.maps = {m};
  WorkloadView xorg;
  xorg.runtime = "other";
  xorg.model = "Xorg";
  xorg.pid = 1200;
  xorg.vram_bytes = 6 * kGiB;
  d.workloads.push_back(xorg);
  const auto lines = render_dashboard(d, ViewState{}, 80, 40);
  const std::string s = joined(lines);
  // 80 columns: the bar is 80 - 6 - 27 = 47 cells, 45 inside; 6/24 of 45 = 11 W.
  const ScreenLine* map = nullptr;
  for (const auto& l : lines) {
    if (l.text.rfind("  map [", 0) == 0) map = &l;
  }
  ASSERT_NE(map, nullptr) << s;
  EXPECT_EQ(map->text, "  map [" + std::string(11, 'W') + std::string(6, 'k') +
                           std::string(11, 'n') + std::string(6, '?') + std::string(11, ' ') + "]");
  EXPECT_NE(s.find("llama3.2:3b W6.0G k~3.0G | non-AI 6.0G | ? 3.0G"), std::string::npos) << s;
  EXPECT_NE(s.find("unattributed; lower=estimate"), std::string::npos) << s;
  const size_t ai = s.find("AI workloads (2)"), other = s.find("Non-AI GPU processes (1)");
  ASSERT_NE(ai, std::string::npos) << s;
  ASSERT_NE(other, std::string::npos) << s;
  const size_t xorg_row = s.find(" other     Xorg");
  EXPECT_GT(xorg_row, other) << s;
  EXPECT_LT(s.find(" llamacpp "), other) << s;
}

}  // namespace
}  // namespace memopt::ui

namespace memopt::ui {
namespace {

TEST(RenderDashboard, GatewaySectionListsModelsWithStateQueueAndWaits) {
  Dashboard d = sample();
  snapshot::GatewayStatus g;
  g.listen = "127.0.0.1:8080";
  g.reachable = true;
  snapshot::GatewayModel a;
  a.name = "tiny-a";
  a.state = "busy";
  a.pid = 41523;
  a.in_flight = 1;
  a.mean_wait_seconds = 0.4;
  snapshot::GatewayModel b;
  b.name = "tiny-b\x1b[31m";
  b.state = "stopped";
  b.queued = 2;
  b.oldest_wait_seconds = 75;
  g.models = {a, b};
  d.gateway = g;
  const auto lines = render_dashboard(d, {}, 80, 40);
  std::string all;
  for (const auto& l : lines) {
    EXPECT_LE(l.text.size(), 80u) << l.text;
    all += l.text + "\n";
  }
  EXPECT_NE(all.find("Gateway 127.0.0.1:8080 (2 models)"), std::string::npos) << all;
  EXPECT_NE(all.find(" tiny-a               busy       41523     0      -     0s"),
            std::string::npos)
      << all;
  // Escaped, queue 2, oldest wait 1m15s, no mean yet.
  EXPECT_NE(all.find("tiny-b\\x1b[31m"), std::string::npos) << all;
  EXPECT_NE(all.find("stopped        -     2  1m15s      -"), std::string::npos) << all;
  EXPECT_EQ(all.find('\x1b'), std::string::npos);
  // The footer is still the last row.
  EXPECT_NE(lines.back().text.find("q quit"), std::string::npos);

  // A render on an image server: the handoff's line, cut to the width.
  snapshot::GatewayHandoff h;
  h.phase = "rendering";
  h.mode = "queue";
  h.rendering_on = "comfyui at http://127.0.0.1:8188";
  h.requests_held = 1;
  d.gateway->handoff = h;
  std::string rendering;
  for (const auto& l : render_dashboard(d, {}, 80, 40)) {
    EXPECT_LE(l.text.size(), 80u) << l.text;
    rendering += l.text + "\n";
  }
  EXPECT_NE(rendering.find("\n Image renders: rendering on comfyui at http://127.0.0.1:8188: "
                           "models yield, re~\n"),
            std::string::npos)
      << rendering;
  d.gateway->handoff->phase = "idle";
  d.gateway->handoff->handoffs = 2;
  std::string idle;
  for (const auto& l : render_dashboard(d, {}, 100, 40)) idle += l.text + "\n";
  EXPECT_NE(idle.find("\n Image renders: idle; on a render models yield, requests wait (2 so far)\n"),
            std::string::npos)
      << idle;
  d.gateway->handoff.reset();

  d.gateway->reachable = false;
  d.gateway->error = "GET http://127.0.0.1:8080/serve/state: connection refused";
  std::string down;
  for (const auto& l : render_dashboard(d, {}, 80, 40)) down += l.text + "\n";
  EXPECT_NE(down.find("Gateway 127.0.0.1:8080: not reachable"), std::string::npos) << down;
  EXPECT_NE(down.find("connection refused"), std::string::npos) << down;
  d.gateway.reset();
  std::string none;
  for (const auto& l : render_dashboard(d, {}, 80, 40)) none += l.text + "\n";
  EXPECT_EQ(none.find("Gateway"), std::string::npos);
}

}  // namespace
}  // namespace memopt::ui
