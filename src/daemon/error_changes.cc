#include "daemon/error_changes.h"

namespace memopt::daemon {

ErrorChanges ErrorChangeTracker::update(const std::vector<snapshot::CollectorError>& errors) {
  ErrorChanges out;
  std::set<std::string> now;
  for (const auto& e : errors) {
    std::string key = e.collector + ": " + e.message;
    if (!last_.count(key) && !now.count(key)) out.began.push_back(e);
    now.insert(std::move(key));
  }
  for (const auto& k : last_) {
    if (!now.count(k)) out.ended.push_back(k);
  }
  last_ = std::move(now);
  return out;
}

}  // namespace memopt::daemon
