#include "gpu/drm_cards.h"

#include <algorithm>
#include <cstdlib>

#include "util/fs_read.h"

namespace memopt::gpu {

std::vector<DrmCard> list_drm_cards(const std::string& sys_root) {
  std::vector<std::pair<uint64_t, DrmCard>> cards;
  std::string base = sys_root + "/class/drm";
  for (const auto& name : list_dir(base)) {
    if (!name.starts_with("card")) continue;
    auto num = parse_u64(std::string_view(name).substr(4));  // rejects card0-DP-1
    if (!num || *num > 4096) continue;
    DrmCard c;
    c.card = name;
    c.number = static_cast<uint32_t>(*num);
    c.dev_dir = base + "/" + name + "/device";
    auto uevent = read_small_file(c.dev_dir + "/uevent");
    if (!uevent) continue;  // a virtual card with no device
    std::string_view text = *uevent;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view line = trim(text.substr(0, nl));
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
      size_t eq = line.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view k = line.substr(0, eq), v = line.substr(eq + 1);
      if (k == "DRIVER")
        c.driver = v;
      else if (k == "PCI_SLOT_NAME")
        c.pci_slot = v;
      else if (k == "PCI_ID")
        c.pci_id = v;
    }
    auto numa = read_i64(c.dev_dir + "/numa_node");
    if (numa && *numa >= 0) c.numa_node = static_cast<int>(*numa);
    cards.emplace_back(*num, std::move(c));
  }
  std::sort(cards.begin(), cards.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<DrmCard> out;
  for (auto& [n, c] : cards) out.push_back(std::move(c));
  return out;
}

std::string find_hwmon(const std::string& dev_dir) {
  auto names = list_dir(dev_dir + "/hwmon");
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    if (n.starts_with("hwmon")) return dev_dir + "/hwmon/" + n;
  }
  return {};
}

std::optional<uint32_t> pcie_gen_from_speed(const std::string& speed) {
  double gts = std::strtod(speed.c_str(), nullptr);
  if (gts <= 0) return std::nullopt;
  static constexpr double kRates[] = {2.5, 5, 8, 16, 32, 64};
  for (uint32_t g = 0; g < 6; ++g) {
    if (gts > kRates[g] * 0.9 && gts < kRates[g] * 1.1) return g + 1;
  }
  return std::nullopt;
}

}  // namespace memopt::gpu
