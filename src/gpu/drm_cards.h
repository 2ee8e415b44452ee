#pragma once
// DRM devices as sysfs lists them (/sys/class/drm/cardN), shared by the
// amdgpu and Intel backends: driver, PCI slot and ids from device/uevent,
// which works on real sysfs and on fixture trees alike.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace memopt::gpu {

struct DrmCard {
  std::string card;      // "card0"
  uint32_t number = 0;   // the N of cardN
  std::string dev_dir;   // <sys>/class/drm/card0/device
  std::string driver;    // "amdgpu", "i915", "xe", "nvidia", ...
  std::string pci_slot;  // "0000:03:00.0"
  std::string pci_id;    // "1002:744C"
  std::optional<int> numa_node;
};

// Cards sorted by number; connectors (card0-DP-1) and render nodes skipped.
std::vector<DrmCard> list_drm_cards(const std::string& sys_root);

// First hwmon directory of a device ("<dev>/hwmon/hwmon3"), or empty.
std::string find_hwmon(const std::string& dev_dir);

// current_link_speed "16.0 GT/s PCIe" → PCIe generation 4 (PCI SIG per-lane
// rates: 2.5, 5, 8, 16, 32, 64 GT/s for gen 1..6).
std::optional<uint32_t> pcie_gen_from_speed(const std::string& speed);

}  // namespace memopt::gpu
