#include "gpu/drm_fdinfo.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <set>
#include <utility>

#include "util/fs_read.h"

namespace memopt::gpu {
namespace {

bool mul_overflows(uint64_t a, uint64_t b) {
  return b != 0 && a > std::numeric_limits<uint64_t>::max() / b;
}

// The rank of a key for one region: resident beats its legacy alias, both
// beat total (see DrmFdinfo::region_bytes).
int region_rank(std::string_view kind) {
  if (kind == "resident") return 3;
  if (kind == "memory") return 2;
  return 1;  // total
}

}  // namespace

std::optional<uint64_t> parse_drm_size(std::string_view value) {
  value = trim(value);
  size_t digits = 0;
  while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  auto n = parse_u64(value.substr(0, digits));
  if (!n) return std::nullopt;
  std::string_view unit = trim(value.substr(digits));
  uint64_t mult = 0;
  if (unit.empty())
    mult = 1;
  else if (unit == "KiB" || unit == "kB")
    mult = 1024;
  else if (unit == "MiB")
    mult = 1024 * 1024;
  else
    return std::nullopt;
  if (mul_overflows(*n, mult)) return std::nullopt;
  return *n * mult;
}

std::optional<DrmFdinfo> parse_drm_fdinfo(std::string_view text) {
  DrmFdinfo info;
  bool has_driver = false;
  std::map<std::string, int> rank;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (key == "drm-driver") {
      info.driver = std::string(value);
      has_driver = !value.empty();
    } else if (key == "drm-pdev") {
      info.pdev = std::string(value);
    } else if (key == "drm-client-id") {
      info.client_id = parse_u64(value);
    } else if (key.starts_with("drm-engine-capacity-")) {
      if (auto n = parse_u64(value); n && *n > 0)
        info.engine_capacity[std::string(key.substr(20))] = *n;
    } else if (key.starts_with("drm-engine-")) {
      // "123456 ns": the unit is always ns (drm-usage-stats.rst).
      std::string_view v = value;
      if (v.ends_with("ns")) v = trim(v.substr(0, v.size() - 2));
      if (auto n = parse_u64(v)) info.engine_ns[std::string(key.substr(11))] = *n;
    } else if (key.starts_with("drm-total-cycles-")) {
      if (auto n = parse_u64(value)) info.engine_total_cycles[std::string(key.substr(17))] = *n;
    } else if (key.starts_with("drm-cycles-")) {
      if (auto n = parse_u64(value)) info.engine_cycles[std::string(key.substr(11))] = *n;
    } else if (key.starts_with("drm-")) {
      // drm-<kind>-<region>, kind in {resident, memory, total}.
      std::string_view rest = key.substr(4);
      size_t dash = rest.find('-');
      if (dash == std::string_view::npos) continue;
      std::string_view kind = rest.substr(0, dash);
      std::string_view region = rest.substr(dash + 1);
      if (region.empty() || (kind != "resident" && kind != "memory" && kind != "total")) continue;
      auto bytes = parse_drm_size(value);
      if (!bytes) continue;
      std::string r(region);
      int k = region_rank(kind);
      if (k > rank[r]) {
        rank[r] = k;
        info.region_bytes[r] = *bytes;
      }
    }
  }
  if (!has_driver) return std::nullopt;
  return info;
}

void DrmClientSweep::add_client(uint32_t pid, const std::string& fd,
                                std::set<std::pair<std::string, uint64_t>>& seen) {
  auto text = read_small_file(proc_root_ + "/" + std::to_string(pid) + "/fdinfo/" + fd);
  if (!text) return;  // the process or the fd went away
  auto info = parse_drm_fdinfo(*text);
  if (!info) return;  // a reused fd number that is no DRM file any more
  if (info->client_id && !seen.emplace(info->pdev, *info->client_id).second) return;
  clients_.push_back({pid, std::move(*info)});
}

const std::vector<DrmClient>& DrmClientSweep::clients() {
  if (swept_) return clients_;
  swept_ = true;
  std::set<std::pair<std::string, uint64_t>> seen;
  if (index_ && index_->built && !rebuild_) {
    for (const auto& [pid, fd] : index_->fds) add_client(pid, fd, seen);
    unreadable_ = index_->unreadable;
    return clients_;
  }
  std::vector<uint32_t> pids;
  for (const auto& name : list_dir(proc_root_)) {
    if (auto pid = parse_pid(name)) pids.push_back(*pid);
  }
  // Lowest pid first, so a client shared by a parent and its children is
  // attributed to the same process on every sample.
  std::sort(pids.begin(), pids.end());
  DrmFdIndex fresh;
  for (uint32_t pid : pids) {
    std::string base = proc_root_ + "/" + std::to_string(pid);
    // A process that exits mid-sweep, or one we may not inspect, has no
    // readable fd/ directory: skip it, it holds nothing we can attribute.
    std::string fd_dir = base + "/fd";
    if (::access(fd_dir.c_str(), R_OK | X_OK) != 0) {
      if (errno == EACCES) ++unreadable_;  // another user's process, without root
      continue;
    }
    auto fds = list_dir(fd_dir);
    // Numeric fd order, so the index (and dedup order) is stable.
    std::sort(fds.begin(), fds.end(), [](const std::string& a, const std::string& b) {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
    for (const auto& fd : fds) {
      auto target = read_link(base + "/fd/" + fd);
      if (!target || !(target->starts_with("/dev/dri/") || target->starts_with("/dev/accel/"))) {
        continue;
      }
      fresh.fds.emplace_back(pid, fd);
      add_client(pid, fd, seen);
    }
  }
  if (index_) {
    fresh.unreadable = unreadable_;
    fresh.built = true;
    *index_ = std::move(fresh);
  }
  return clients_;
}

namespace {
bool client_matches(const DrmFdinfo& c, std::string_view pdev, std::string_view driver) {
  return c.pdev.empty() ? c.driver == driver : c.pdev == pdev;
}
}  // namespace

std::vector<DrmFdinfo> DrmClientSweep::clients_for(std::string_view pdev, std::string_view driver) {
  std::vector<DrmFdinfo> out;
  for (const auto& c : clients()) {
    if (client_matches(c.info, pdev, driver)) out.push_back(c.info);
  }
  return out;
}

std::optional<double> drm_busy_percent(const std::vector<DrmFdinfo>& before,
                                       const std::vector<DrmFdinfo>& after, uint64_t wall_ns) {
  if (after.empty()) return 0.0;  // no client: nothing can be running
  std::map<uint64_t, const DrmFdinfo*> prev;
  for (const auto& c : before) {
    if (c.client_id) prev[*c.client_id] = &c;
  }
  std::map<std::string, double> busy;  // engine class → fraction of one engine
  bool measured = false;
  for (const auto& c : after) {
    if (!c.client_id) continue;
    auto it = prev.find(*c.client_id);
    if (it == prev.end()) continue;
    const DrmFdinfo& b = *it->second;
    measured = true;
    for (const auto& [e, cyc] : c.engine_cycles) {
      auto bc = b.engine_cycles.find(e);
      auto tc = c.engine_total_cycles.find(e);
      auto btc = b.engine_total_cycles.find(e);
      if (bc == b.engine_cycles.end() || tc == c.engine_total_cycles.end() ||
          btc == b.engine_total_cycles.end())
        continue;
      if (cyc < bc->second || tc->second <= btc->second) continue;
      busy[e] +=
          static_cast<double>(cyc - bc->second) / static_cast<double>(tc->second - btc->second);
    }
    if (wall_ns == 0) continue;
    for (const auto& [e, ns] : c.engine_ns) {
      auto bn = b.engine_ns.find(e);
      if (bn == b.engine_ns.end() || ns < bn->second) continue;
      auto cap = c.engine_capacity.find(e);
      double engines = cap != c.engine_capacity.end() ? static_cast<double>(cap->second) : 1.0;
      busy[e] += static_cast<double>(ns - bn->second) / (static_cast<double>(wall_ns) * engines);
    }
  }
  if (!measured) return std::nullopt;
  double top = 0;
  for (const auto& [e, f] : busy) top = std::max(top, f);
  return std::clamp(top * 100.0, 0.0, 100.0);
}

DrmUsageByPid DrmClientSweep::usage_for(std::string_view pdev, std::string_view driver) {
  DrmUsageByPid out;
  for (const auto& c : clients()) {
    if (!client_matches(c.info, pdev, driver)) continue;
    auto& regions = out[c.pid];
    for (const auto& [r, b] : c.info.region_bytes) regions[r] += b;
  }
  return out;
}

}  // namespace memopt::gpu
