#pragma once
// The daemon's history: numeric series (VRAM, RAM, KV cache per GPU and
// model) and the policy's actions, in SQLite. WAL journal so a kill -9 never
// corrupts it (the last transaction is lost at worst), raw 1 s points kept
// `raw_retention_seconds`, then one-minute averages kept `retention_days`.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "policy/engine.h"
#include "util/result.h"

struct sqlite3;

namespace memopt::daemon {

struct SeriesValue {
  std::string name;    // Prometheus-style metric name
  std::string labels;  // canonical label text: gpu="0",model="x"
  double value = 0;
};

struct HistoryOptions {
  int64_t raw_retention_seconds = 6 * 3600;
  int64_t retention_days = 7;
};

struct HistoryPoint {
  int64_t ts = 0;  // unix seconds
  double value = 0;
};

struct HistorySeries {
  std::string name;
  std::string labels;
  int resolution_seconds = 1;
  std::vector<HistoryPoint> points;
};

struct ActionRecord {
  int64_t ts_ms = 0;
  policy::Action action;
  bool applied = false;
};

class History {
 public:
  // Opens (creating) the database at `path`; checks it is a history file
  // this program wrote and that SQLite finds it intact.
  static Result<std::unique_ptr<History>> open(const std::string& path, HistoryOptions options = {});
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // One sample at `ts` (unix seconds): one transaction. Downsamples and
  // prunes when `ts` enters a new minute.
  Status write_sample(int64_t ts, const std::vector<SeriesValue>& values);
  Status write_action(const ActionRecord& record);

  // Points of series `name` (all label sets, or one when `labels` is set) in
  // [from, to]; minute averages when the range reaches past the raw
  // retention. At most `max_points` per series (the newest).
  Result<std::vector<HistorySeries>> query(const std::string& name, const std::string& labels, int64_t from,
                                           int64_t to, size_t max_points = 5000) const;
  // Names of the stored series.
  Result<std::vector<std::string>> series_names() const;
  Result<std::vector<ActionRecord>> recent_actions(size_t limit) const;
  // Newest raw timestamp (0 when empty).
  Result<int64_t> last_timestamp() const;

  const std::string& path() const { return path_; }

 private:
  History(sqlite3* db, std::string path, HistoryOptions options);
  Status exec(const char* sql) const;
  void rollback() const;
  Result<int64_t> series_id(const std::string& name, const std::string& labels);
  Status roll_up(int64_t ts);
  Error sql_error(const std::string& what) const;

  sqlite3* db_;
  std::string path_;
  HistoryOptions options_;
  std::map<std::pair<std::string, std::string>, int64_t> ids_;
  int64_t last_minute_ = -1;
};

}  // namespace memopt::daemon
