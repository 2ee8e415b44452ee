// History database size for 7 days at the default retention: writes a week
// of 1 s samples in simulated time (a machine with one GPU and two loaded
// models: 10 series, what the daemon records there) and prints the file size.
// Also times one sample write.
// Run: build/history_size_bench [--days=7]
#include <benchmark/benchmark.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "daemon/history.h"

namespace {

using memopt::daemon::History;
using memopt::daemon::SeriesValue;

std::vector<SeriesValue> sample_at(int64_t t) {
  // Values that move like real ones (so pages do not compress to nothing).
  const double wave = std::sin(static_cast<double>(t) / 300.0);
  const double gib = 1024.0 * 1024 * 1024;
  return {{"ruvector_host_memory_available_bytes", "", 30 * gib + wave * gib + static_cast<double>(t % 977)},
          {"ruvector_host_memory_total_bytes", "", 64 * gib},
          {"ruvector_gpu_memory_used_bytes", "gpu=\"0\"", 14 * gib + wave * 2 * gib},
          {"ruvector_gpu_memory_total_bytes", "gpu=\"0\"", 24 * gib},
          {"ruvector_model_vram_bytes", "runtime=\"ollama\",model=\"llama3.2:3b\"", 3.2 * gib},
          {"ruvector_model_size_bytes", "runtime=\"ollama\",model=\"llama3.2:3b\"", 3.4 * gib},
          {"ruvector_model_kv_cache_used_bytes", "runtime=\"ollama\",model=\"llama3.2:3b\"", (wave + 1) * 0.4 * gib},
          {"ruvector_model_vram_bytes", "runtime=\"llama.cpp\",model=\"qwen2.5-7b\"", 6.1 * gib},
          {"ruvector_model_size_bytes", "runtime=\"llama.cpp\",model=\"qwen2.5-7b\"", 7.9 * gib},
          {"ruvector_model_kv_cache_used_bytes", "runtime=\"llama.cpp\",model=\"qwen2.5-7b\"",
           static_cast<double>(t % 3600) * 1e5}};
}

std::string temp_db() {
  char tmpl[] = "/tmp/memopt_histsize_XXXXXX";
  if (!::mkdtemp(tmpl)) return "";
  return std::string(tmpl) + "/history.db";
}

void BM_WriteSample(benchmark::State& state) {
  const std::string path = temp_db();
  auto h = History::open(path);
  int64_t t = 1'800'000'000;
  for (auto _ : state) {
    auto st = (*h)->write_sample(t++, sample_at(t));
    benchmark::DoNotOptimize(st);
  }
  h->reset();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
BENCHMARK(BM_WriteSample)->Unit(benchmark::kMicrosecond);

uint64_t file_size(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  int days = 7;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--days=", 7) == 0) days = std::atoi(argv[i] + 7);
  }
  const std::string path = temp_db();
  {
    auto h = History::open(path);
    if (!h) {
      std::cerr << h.error().message << "\n";
      return 1;
    }
    const int64_t start = 1'800'000'000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t t = start; t < start + int64_t{days} * 86400; ++t) {
      if (auto st = (*h)->write_sample(t, sample_at(t)); !st) {
        std::cerr << st.error().message << "\n";
        return 1;
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "history: " << days << " days of 1 s samples, 10 series, default retention (raw 6 h, "
              << "1-minute averages 7 days), written in " << secs << " s\n";
  }
  const uint64_t db = file_size(path), wal = file_size(path + "-wal");
  std::cout << "  database " << db / 1048576.0 << " MiB + WAL " << wal / 1048576.0 << " MiB\n";
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
