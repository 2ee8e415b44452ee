#include "gpu/drm_fdinfo.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "gpu/fs_read.h"

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

const std::vector<DrmClient>& DrmClientSweep::clients() {
  if (swept_) return clients_;
  swept_ = true;
  std::vector<uint32_t> pids;
  for (const auto& name : list_dir(proc_root_)) {
    if (auto pid = parse_pid(name)) pids.push_back(*pid);
  }
  // Lowest pid first, so a client shared by a parent and its children is
  // attributed to the same process on every sample.
  std::sort(pids.begin(), pids.end());
  std::set<std::pair<std::string, uint64_t>> seen;
  for (uint32_t pid : pids) {
    std::string base = proc_root_ + "/" + std::to_string(pid);
    // A process that exits mid-sweep, or one we may not inspect, has no
    // readable fd/ directory: skip it, it holds nothing we can attribute.
    for (const auto& fd : list_dir(base + "/fd")) {
      auto target = read_link(base + "/fd/" + fd);
      if (!target || !(target->starts_with("/dev/dri/") || target->starts_with("/dev/accel/"))) {
        continue;
      }
      auto text = read_small_file(base + "/fdinfo/" + fd);
      if (!text) continue;
      auto info = parse_drm_fdinfo(*text);
      if (!info) continue;
      if (info->client_id) {
        if (!seen.emplace(info->pdev, *info->client_id).second) continue;
      }
      clients_.push_back({pid, std::move(*info)});
    }
  }
  return clients_;
}

DrmUsageByPid DrmClientSweep::usage_for(std::string_view pdev, std::string_view driver) {
  DrmUsageByPid out;
  for (const auto& c : clients()) {
    bool match = c.info.pdev.empty() ? c.info.driver == driver : c.info.pdev == pdev;
    if (!match) continue;
    auto& regions = out[c.pid];
    for (const auto& [r, b] : c.info.region_bytes) regions[r] += b;
  }
  return out;
}

}  // namespace memopt::gpu
