#pragma once
// Which of a sample's collector errors began with it and which ended: the
// daemon logs a failure when it starts and when it clears, not once a
// sample while it lasts (a runtime it was told to poll that is down, at
// 1 Hz, would otherwise write a line a second). /metrics still counts
// every sample's (ruvector_collector_errors_total).
#include <set>
#include <string>
#include <vector>

#include "snapshot/snapshot.h"

namespace memopt::daemon {

struct ErrorChanges {
  std::vector<snapshot::CollectorError> began;  // not in the previous sample
  std::vector<std::string> ended;               // "collector: message" no longer there
};

class ErrorChangeTracker {
 public:
  ErrorChanges update(const std::vector<snapshot::CollectorError>& errors);

 private:
  std::set<std::string> last_;  // "collector: message" of the previous sample
};

}  // namespace memopt::daemon
