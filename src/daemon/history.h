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

#include "daemon/action_delays.h"
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

struct HistoryOpen;

class History {
 public:
  // Opens (creating) the database at `path`; checks it is a history file
  // this program wrote and that SQLite finds it intact. Never follows a
  // symbolic link at `path`; the file is made 0600.
  static Result<std::unique_ptr<History>> open(const std::string& path,
                                               HistoryOptions options = {});
  // As open(), but the guard must run whatever is at `path`: a damaged file
  // or another program's database is renamed to
  // <path>.damaged-<UTC time> (with its -wal/-shm) and a new history is
  // started; a file that cannot be written (full disk, permissions) leaves
  // history off, with the reason. `unix_now` stamps the moved file.
  static HistoryOpen open_or_recover(const std::string& path, HistoryOptions options,
                                     int64_t unix_now);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // One sample at `ts` (unix seconds): one transaction. Downsamples and
  // prunes when `ts` enters a new minute.
  Status write_sample(int64_t ts, const std::vector<SeriesValue>& values);
  Status write_action(const ActionRecord& record);
  // How long an action took to give memory back (action_delays.h).
  Status write_delay(const DelayRecord& record);
  // The newest `limit` delay records, newest first.
  Result<std::vector<DelayRecord>> recent_delays(size_t limit) const;
  // A named document the daemon keeps across restarts (the learned workload
  // profiles): one row of the meta table. read_document gives "" when none.
  Status write_document(const std::string& key, const std::string& value);
  Result<std::string> read_document(const std::string& key) const;

  // Points of series `name` (all label sets, or one when `labels` is set) in
  // [from, to]; minute averages when the range reaches past the raw
  // retention. At most `max_points` per series (the newest).
  Result<std::vector<HistorySeries>> query(const std::string& name, const std::string& labels,
                                           int64_t from, int64_t to,
                                           size_t max_points = 5000) const;
  // Names of the stored series.
  Result<std::vector<std::string>> series_names() const;
  Result<std::vector<ActionRecord>> recent_actions(size_t limit) const;
  // Newest raw timestamp (0 when empty).
  Result<int64_t> last_timestamp() const;

  const std::string& path() const { return path_; }

 private:
  History(sqlite3* db, std::string path, HistoryOptions options);
  // WAL mode and the schema on an opened, checked database (closed on error
  // by the destructor).
  static Result<std::unique_ptr<History>> create(sqlite3* db, const std::string& path,
                                                 HistoryOptions options);
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

// What open_or_recover found and did.
struct HistoryOpen {
  std::unique_ptr<History> history;  // null: history is off (see `error`)
  std::string moved_aside;           // where a damaged/foreign file went
  std::string moved_reason;          // why it was moved
  std::string error;                 // why history is off
};

// The views' timeline ranges: "5m", "1h", "24h", "7d" in seconds; anything
// else is an error naming the value and the ranges there are.
Result<int64_t> history_range_seconds(const std::string& range);

// `points` (ascending ts) averaged over `buckets` equal spans of [from, to];
// each average stamped at its span's middle, empty spans left out. Pure.
std::vector<HistoryPoint> downsample(const std::vector<HistoryPoint>& points, int64_t from,
                                     int64_t to, size_t buckets);

// /metrics lines for the history's health: ruvector_history_available and
// ruvector_history_moved_aside_total.
std::string history_metrics_text(bool available, uint64_t moved_aside_total);

}  // namespace memopt::daemon
