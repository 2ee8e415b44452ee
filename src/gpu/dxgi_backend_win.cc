// The DXGI backend (Windows): adapters from IDXGIFactory1::EnumAdapters1
// with their dedicated and shared memory and, on WDDM 2.0+, the budget from
// IDXGIAdapter3::QueryVideoMemoryInfo; per-process GPU memory from the
// "GPU Process Memory" performance counters (PDH), the figures Task Manager
// shows, matched to adapters by LUID in dxgi_gpus.cc. Every vendor's GPU is
// seen here; NVIDIA's are left to NVML when it listed them.
#include <windows.h>
// After windows.h:
#include <dxgi1_4.h>
#include <fmt/format.h>
#include <pdh.h>
#include <pdhmsg.h>

#include <string>
#include <vector>

#include "gpu/dxgi_gpus.h"
#include "gpu/gpu_backend.h"
#include "util/utf16_win.h"

namespace memopt::gpu {
namespace {

constexpr UINT kMaxAdapters = 64;
constexpr DWORD kMaxCounterBytes = 16u << 20;  // bounds PDH's answer

template <typename T>
struct ComPtr {
  T* p = nullptr;
  ~ComPtr() {
    if (p != nullptr) p->Release();
  }
};

Result<std::vector<DxgiAdapterReading>> read_adapters() {
  ComPtr<IDXGIFactory1> factory;
  HRESULT hr = CreateDXGIFactory1(__uuidof(IDXGIFactory1), reinterpret_cast<void**>(&factory.p));
  if (FAILED(hr))
    return make_error(fmt::format("CreateDXGIFactory1 failed (HRESULT 0x{:08x})", unsigned(hr)));
  std::vector<DxgiAdapterReading> out;
  for (UINT i = 0; i < kMaxAdapters; ++i) {
    ComPtr<IDXGIAdapter1> adapter;
    hr = factory.p->EnumAdapters1(i, &adapter.p);
    if (hr == DXGI_ERROR_NOT_FOUND) break;
    if (FAILED(hr)) continue;  // an adapter that went away mid-walk
    DXGI_ADAPTER_DESC1 desc{};
    if (FAILED(adapter.p->GetDesc1(&desc))) continue;
    DxgiAdapterReading r;
    r.luid = (static_cast<uint64_t>(static_cast<uint32_t>(desc.AdapterLuid.HighPart)) << 32) |
             desc.AdapterLuid.LowPart;
    r.name = to_utf8(desc.Description);
    r.vendor_id = desc.VendorId;
    r.device_id = desc.DeviceId;
    r.software = (desc.Flags & DXGI_ADAPTER_FLAG_SOFTWARE) != 0;
    r.dedicated_video_bytes = desc.DedicatedVideoMemory;
    r.shared_system_bytes = desc.SharedSystemMemory;
    ComPtr<IDXGIAdapter3> a3;
    if (SUCCEEDED(
            adapter.p->QueryInterface(__uuidof(IDXGIAdapter3), reinterpret_cast<void**>(&a3.p)))) {
      DXGI_QUERY_VIDEO_MEMORY_INFO info{};
      if (SUCCEEDED(a3.p->QueryVideoMemoryInfo(0, DXGI_MEMORY_SEGMENT_GROUP_LOCAL, &info))) {
        r.budget_bytes = info.Budget;
        r.usage_bytes = info.CurrentUsage;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

// One counter of every "GPU Process Memory" instance: instance name → bytes.
Result<std::vector<std::pair<std::string, uint64_t>>> read_counter(PDH_HQUERY query,
                                                                   PDH_HCOUNTER counter) {
  DWORD bytes = 0, items = 0;
  PDH_STATUS st = PdhGetFormattedCounterArrayW(counter, PDH_FMT_LARGE, &bytes, &items, nullptr);
  std::vector<std::pair<std::string, uint64_t>> out;
  if (st == static_cast<PDH_STATUS>(PDH_CSTATUS_NO_INSTANCE) ||
      (st == static_cast<PDH_STATUS>(ERROR_SUCCESS) && items == 0))
    return out;
  if (st != static_cast<PDH_STATUS>(PDH_MORE_DATA) || bytes > kMaxCounterBytes)
    return make_error(fmt::format("PdhGetFormattedCounterArray failed (0x{:08x})", unsigned(st)));
  std::vector<unsigned char> buf(bytes);
  auto* rows = reinterpret_cast<PDH_FMT_COUNTERVALUE_ITEM_W*>(buf.data());
  st = PdhGetFormattedCounterArrayW(counter, PDH_FMT_LARGE, &bytes, &items, rows);
  if (st != ERROR_SUCCESS)
    return make_error(fmt::format("PdhGetFormattedCounterArray failed (0x{:08x})", unsigned(st)));
  (void)query;
  for (DWORD i = 0; i < items; ++i) {
    // A process that exited between collect and format has no valid value.
    if (rows[i].FmtValue.CStatus != PDH_CSTATUS_VALID_DATA &&
        rows[i].FmtValue.CStatus != PDH_CSTATUS_NEW_DATA)
      continue;
    if (rows[i].FmtValue.largeValue < 0) continue;
    out.emplace_back(to_utf8(rows[i].szName), static_cast<uint64_t>(rows[i].FmtValue.largeValue));
  }
  return out;
}

Result<std::vector<GpuProcessCounter>> read_process_counters() {
  PDH_HQUERY query = nullptr;
  PDH_STATUS st = PdhOpenQueryW(nullptr, 0, &query);
  if (st != ERROR_SUCCESS)
    return make_error(fmt::format("PdhOpenQuery failed (0x{:08x})", unsigned(st)));
  struct Close {
    PDH_HQUERY q;
    ~Close() { PdhCloseQuery(q); }
  } close{query};
  PDH_HCOUNTER dedicated = nullptr, shared = nullptr;
  for (auto [path, out] : {std::pair{L"\\GPU Process Memory(*)\\Dedicated Usage", &dedicated},
                           std::pair{L"\\GPU Process Memory(*)\\Shared Usage", &shared}}) {
    st = PdhAddEnglishCounterW(query, path, 0, out);
    if (st != ERROR_SUCCESS) {
      return make_error(fmt::format(
          "the \"GPU Process Memory\" counters are missing (PdhAddEnglishCounter 0x{:08x}; "
          "they need Windows 10 1709 and a WDDM 2.x driver)",
          unsigned(st)));
    }
  }
  st = PdhCollectQueryData(query);
  if (st != ERROR_SUCCESS)
    return make_error(fmt::format("PdhCollectQueryData failed (0x{:08x})", unsigned(st)));
  auto d = read_counter(query, dedicated);
  if (!d) return make_error(d.error().message);
  auto s = read_counter(query, shared);
  if (!s) return make_error(s.error().message);
  std::vector<GpuProcessCounter> out;
  for (const auto& [name, value] : *d) {
    if (auto c = parse_gpu_process_instance(name)) {
      c->dedicated_bytes = value;
      out.push_back(*c);
    }
  }
  for (const auto& [name, value] : *s) {
    auto c = parse_gpu_process_instance(name);
    if (!c) continue;
    bool found = false;
    for (auto& o : out) {
      if (o.pid == c->pid && o.luid == c->luid && o.phys == c->phys) {
        o.shared_bytes = value;
        found = true;
        break;
      }
    }
    if (!found) {  // its dedicated instance vanished between the two reads
      c->shared_bytes = value;
      out.push_back(*c);
    }
  }
  return out;
}

class DxgiBackend : public GpuBackend {
 public:
  std::string_view name() const override { return "dxgi"; }

  void sample(GpuSnapshot& snapshot, DrmClientSweep&) override {
    auto adapters = read_adapters();
    if (!adapters) {
      snapshot.notes.push_back({"dxgi", "no DXGI adapters: " + adapters.error().message, false});
      return;
    }
    bool nvidia_listed = false;
    for (const auto& g : snapshot.gpus) nvidia_listed |= g.vendor == Vendor::kNvidia;
    size_t before = snapshot.gpus.size();
    append_dxgi_gpus(*adapters, read_process_counters(), nvidia_listed, snapshot);
    if (snapshot.gpus.size() == before) {
      snapshot.notes.push_back(
          {"dxgi",
           fmt::format("DXGI lists no hardware GPU ({} adapters, all software or NVIDIA ones "
                       "NVML has)",
                       adapters->size()),
           false});
    }
  }
};

}  // namespace

std::unique_ptr<GpuBackend> make_dxgi_backend(const GpuRoots&) {
  return std::make_unique<DxgiBackend>();
}

}  // namespace memopt::gpu
