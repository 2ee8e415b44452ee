// Load test of the daemon's API (issue 13): 200 slow clients (a header line
// every 3 s, reconnecting whenever the server cuts them) and 50 fast ones
// (a status request every 50 ms each) against a real Daemon on loopback,
// while a scraper asks /metrics every 50 ms and the policy loop samples
// every 100 ms. Prints the /metrics latency percentiles and the samples the
// loop missed; --check exits 1 unless p99 < 50 ms, no scrape failed and no
// sample was missed (the CTest `daemon_api_load`, label `load`).
//   api_load_bench [--seconds 20] [--slow 200] [--fast 50] [--check] [--json]
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon/daemon.h"
#include "util/bytes.h"

namespace {

using namespace memopt;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A machine with one GPU and one model; records when it was sampled.
class TimedSampler : public daemon::Sampler {
 public:
  daemon::Sample sample(double now, const policy::DaemonKnowledge&) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      times.push_back(now);
    }
    daemon::Sample s;
    s.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    s.input.now_seconds = now;
    s.input.host = {64 * kGiB, 40 * kGiB};
    policy::GpuState g;
    g.total_bytes = 24 * kGiB;
    g.used_bytes = 10 * kGiB;
    s.input.gpus = {g};
    return s;
  }
  std::mutex mu;
  std::vector<double> times;
};

class NullActuator : public actuator::Actuator {
 public:
  Status apply(const policy::Action&) override { return Ok{}; }
  Status preload(const std::string&, const std::string&, const std::string&,
                 const std::string&) override {
    return Ok{};
  }
};

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 20;
  int n_slow = 200, n_fast = 50;
  bool check = false, json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (a == "--slow" && i + 1 < argc)
      n_slow = std::atoi(argv[++i]);
    else if (a == "--fast" && i + 1 < argc)
      n_fast = std::atoi(argv[++i]);
    else if (a == "--check")
      check = true;
    else if (a == "--json")
      json = true;
    else {
      std::fprintf(
          stderr, "usage: api_load_bench [--seconds S] [--slow N] [--fast N] [--check] [--json]\n");
      return 2;
    }
  }
  if (!(seconds > 0 && seconds <= 3600) || n_slow < 0 || n_slow > 5000 || n_fast < 0 ||
      n_fast > 500) {
    std::fprintf(stderr, "api_load_bench: --seconds 0-3600, --slow 0-5000, --fast 0-500\n");
    return 2;
  }
  char tmpl[] = "/tmp/memopt_api_load_XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 2;
  const std::string dir = tmpl;
  const double interval = 0.1;
  daemon::DaemonOptions o;
  o.state_dir = dir + "/state";
  o.config_path = dir + "/config.toml";
  o.listen = "127.0.0.1:0";
  o.interval_seconds = interval;
  auto sampler = std::make_unique<TimedSampler>();
  TimedSampler* times = sampler.get();
  auto d =
      std::make_unique<daemon::Daemon>(o, std::move(sampler), std::make_unique<NullActuator>());
  if (auto st = d->start(); !st) {
    std::fprintf(stderr, "api_load_bench: %s\n", st.error().message.c_str());
    return 2;
  }
  const int port = d->api_port();
  std::atomic<bool> stop{false};
  std::thread loop([&] { d->run(stop); });
  const auto t0 = Clock::now();

  // Slow clients: one thread drips a header line to each every 3 s and
  // reconnects the ones the server has cut.
  std::atomic<uint64_t> slow_cut{0};
  std::thread slow([&] {
    std::vector<int> fds(static_cast<size_t>(n_slow), -1);
    for (auto& fd : fds) {
      fd = connect_to(port);
      const char* line = "GET /api/v1/status HTTP/1.1\r\n";
      if (fd >= 0) ::send(fd, line, std::strlen(line), MSG_NOSIGNAL);
    }
    int k = 0;
    while (since(t0) < seconds) {
      std::this_thread::sleep_for(std::chrono::milliseconds(3000 / std::max(1, n_slow / 20)));
      for (size_t i = static_cast<size_t>(k) % 20; i < fds.size(); i += 20) {
        char b[256];
        const ssize_t got = fds[i] < 0 ? 0 : ::recv(fds[i], b, sizeof b, MSG_DONTWAIT);
        const std::string line = "X-Drip: " + std::to_string(k) + "\r\n";
        if (got >= 0 || ::send(fds[i], line.data(), line.size(), MSG_NOSIGNAL) < 0) {
          // Answered (408/503) or closed: come back, as an attacker would.
          slow_cut++;
          if (fds[i] >= 0) ::close(fds[i]);
          fds[i] = connect_to(port);
          const char* first = "GET /api/v1/status HTTP/1.1\r\n";
          if (fds[i] >= 0) ::send(fds[i], first, std::strlen(first), MSG_NOSIGNAL);
        }
      }
      ++k;
    }
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  });

  std::atomic<uint64_t> fast_ok{0}, fast_failed{0};
  std::vector<std::thread> fast;
  for (int i = 0; i < n_fast; ++i) {
    fast.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_connection_timeout(2, 0);
      c.set_read_timeout(2, 0);
      while (since(t0) < seconds) {
        auto r = c.Get("/api/v1/status");
        (r && r->status == 200 ? fast_ok : fast_failed)++;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }

  std::vector<double> scrape_ms;
  uint64_t scrape_failed = 0;
  std::string last_metrics;
  {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(2, 0);
    c.set_read_timeout(2, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the slow ones are in
    while (since(t0) < seconds) {
      const auto s0 = Clock::now();
      auto r = c.Get("/metrics");
      const double ms = since(s0) * 1000;
      if (r && r->status == 200) {
        scrape_ms.push_back(ms);
        last_metrics = r->body;
      } else {
        scrape_failed++;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  slow.join();
  for (auto& t : fast) t.join();
  stop = true;
  loop.join();
  std::vector<double> sampled;
  {
    std::lock_guard<std::mutex> lock(times->mu);
    sampled = times->times;
  }
  d.reset();  // owns the sampler
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  // Samples missed: every gap of k intervals (rounded) stands for k - 1
  // samples the loop should have taken.
  uint64_t missed = 0;
  double max_gap = 0;
  for (size_t i = 1; i < sampled.size(); ++i) {
    const double gap = sampled[i] - sampled[i - 1];
    max_gap = std::max(max_gap, gap);
    const auto k = static_cast<uint64_t>(gap / interval + 0.5);
    if (k > 1) missed += k - 1;
  }
  uint64_t evicted = 0, timed_out = 0;
  for (const auto& [name, v] :
       {std::pair<const char*, uint64_t*>{"evicted", &evicted}, {"timed_out", &timed_out}}) {
    const std::string key =
        std::string("ruvector_api_connections_total{outcome=\"") + name + "\"} ";
    if (auto p = last_metrics.find(key); p != std::string::npos)
      *v = std::stoull(last_metrics.substr(p + key.size()));
  }
  const double p50 = percentile(scrape_ms, 0.50), p99 = percentile(scrape_ms, 0.99);
  const double pmax = scrape_ms.empty() ? 0 : *std::max_element(scrape_ms.begin(), scrape_ms.end());
  const bool pass = !scrape_ms.empty() && p99 < 50 && scrape_failed == 0 && missed == 0;
  if (json) {
    nlohmann::json j = {{"schema", "ruvector-memopt.api-load/1"},
                        {"seconds", seconds},
                        {"slow_clients", n_slow},
                        {"fast_clients", n_fast},
                        {"metrics_scrapes", scrape_ms.size()},
                        {"metrics_failed", scrape_failed},
                        {"metrics_p50_ms", p50},
                        {"metrics_p99_ms", p99},
                        {"metrics_max_ms", pmax},
                        {"fast_ok", fast_ok.load()},
                        {"fast_failed", fast_failed.load()},
                        {"slow_cut", slow_cut.load()},
                        {"server_evicted", evicted},
                        {"server_timed_out", timed_out},
                        {"samples", sampled.size()},
                        {"samples_missed", missed},
                        {"max_sample_gap_s", max_gap},
                        {"pass", pass}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("API load, %.0f s on loopback: %d slow + %d fast clients, /metrics every 50 ms\n",
                seconds, n_slow, n_fast);
    std::printf("  /metrics: %zu answered, %llu failed; p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                scrape_ms.size(), static_cast<unsigned long long>(scrape_failed), p50, p99, pmax);
    std::printf(
        "  fast clients: %llu ok, %llu failed; slow clients cut %llu times (%llu evicted, %llu "
        "timed out)\n",
        static_cast<unsigned long long>(fast_ok.load()),
        static_cast<unsigned long long>(fast_failed.load()),
        static_cast<unsigned long long>(slow_cut.load()), static_cast<unsigned long long>(evicted),
        static_cast<unsigned long long>(timed_out));
    std::printf("  policy loop: %zu samples at %.1f s, %llu missed, longest gap %.3f s\n",
                sampled.size(), interval, static_cast<unsigned long long>(missed), max_gap);
    std::printf("  %s\n", pass ? "PASS (p99 < 50 ms, no scrape failed, no sample missed)" : "FAIL");
  }
  return check && !pass ? 1 : 0;
}
