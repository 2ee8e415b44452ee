#include "ui/dashboard.h"

namespace memopt::ui {

HistoryPoint history_point(const Dashboard& d, double t_seconds) {
  HistoryPoint p;
  p.t_seconds = t_seconds;
  for (const GpuView& g : d.gpus) {
    p.vram_used_bytes += g.used_bytes;
    p.vram_total_bytes += g.total_bytes;
  }
  for (const WorkloadView& w : d.workloads) p.kv_used_bytes += w.kv_used_bytes.value_or(0);
  p.ram_total_bytes = d.ram_total_bytes;
  p.ram_used_bytes =
      d.ram_total_bytes > d.ram_available_bytes ? d.ram_total_bytes - d.ram_available_bytes : 0;
  return p;
}

void HistoryRing::push(const HistoryPoint& p) {
  points_.push_back(p);
  while (points_.size() > capacity_) points_.pop_front();
}

}  // namespace memopt::ui
