// What the Windows scanner reports (process_scanner_win.cc: '/'-separated
// paths, program names with .exe, DLL names without "lib") classified by the
// same table as on Linux: the rows added for Windows match, and only them.
#include <gtest/gtest.h>

#include <algorithm>

#include "detect/detector.h"

namespace memopt::detect {
namespace {

proc::ProcessInfo win_process(int pid, std::string exe, std::vector<std::string> argv,
                              std::vector<std::string> modules) {
  proc::ProcessInfo p;
  p.pid = pid;
  p.ppid = 1;
  p.exe = std::move(exe);
  p.argv = std::move(argv);
  p.libraries = {"C:/Windows/SYSTEM32/ntdll.dll", "C:/Windows/System32/KERNEL32.DLL"};
  for (auto& m : modules) p.libraries.push_back(std::move(m));
  return p;
}

const Workload* by_pid(const std::vector<Workload>& ws, int pid) {
  for (const auto& w : ws)
    if (w.pid == pid) return &w;
  return nullptr;
}

TEST(WindowsNames, ProgramsAreMatchedWithoutTheirExeSuffix) {
  proc::ProcessInfo p = win_process(
      40, "C:/Users/me/AppData/Local/Programs/Ollama/ollama.exe",
      {"C:/Users/me/AppData/Local/Programs/Ollama/ollama.exe", "serve"}, {});
  CommandView v = command_view(p);
  EXPECT_NE(std::find(v.programs.begin(), v.programs.end(), "ollama"), v.programs.end());
  EXPECT_EQ(std::find(v.programs.begin(), v.programs.end(), "ollama.exe"), v.programs.end());
  proc::ScanResult scan;
  scan.processes = {p};
  auto ws = detect_workloads(scan, {}, {});
  ASSERT_NE(by_pid(ws, 40), nullptr);
  EXPECT_EQ(by_pid(ws, 40)->runtime, "ollama");
}

TEST(WindowsNames, DirectMlAndLlamaDllsAreWorkloads) {
  proc::ScanResult scan;
  scan.processes = {
      win_process(50, "C:/apps/sd/app.exe", {"C:/apps/sd/app.exe"},
                  {"C:/Windows/System32/DirectML.dll", "C:/Windows/System32/d3d12.dll"}),
      win_process(60, "C:/apps/chat/chat.exe", {"C:/apps/chat/chat.exe"},
                  {"C:/apps/chat/llama.dll", "C:/apps/chat/ggml.dll",
                   "C:/apps/chat/ggml-cuda.dll"}),
      win_process(70, "C:/Windows/notepad.exe", {"notepad.exe"}, {"C:/Windows/System32/dxgi.dll"}),
  };
  auto ws = detect_workloads(scan, {}, {});
  const Workload* dml = by_pid(ws, 50);
  ASSERT_NE(dml, nullptr);
  EXPECT_EQ(dml->runtime, "directml");
  const Workload* llama = by_pid(ws, 60);
  ASSERT_NE(llama, nullptr);
  EXPECT_EQ(llama->runtime, "llama.cpp");
  EXPECT_NE(std::find(llama->accelerators.begin(), llama->accelerators.end(), "CUDA"),
            llama->accelerators.end());
  EXPECT_EQ(by_pid(ws, 70), nullptr);  // a DirectX program is not an AI workload
}

}  // namespace
}  // namespace memopt::detect
