#include "daemon/history.h"

#include <sqlite3.h>
#include <unistd.h>  // access

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "daemon/private_files.h"

namespace memopt::daemon {
namespace {

// A statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return s_; }
  void bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind(int i, double v) { sqlite3_bind_double(s_, i, v); }
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  int step() { return sqlite3_step(s_); }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  UNIQUE(name, labels));
CREATE TABLE IF NOT EXISTS points(
  series INTEGER NOT NULL,
  res INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY(series, res, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS actions(
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  runtime TEXT NOT NULL,
  model TEXT NOT NULL,
  gpu INTEGER NOT NULL,
  expected_bytes INTEGER NOT NULL,
  predictive INTEGER NOT NULL,
  applied INTEGER NOT NULL,
  reason TEXT NOT NULL,
  outcome TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS actions_ts ON actions(ts_ms);
CREATE TABLE IF NOT EXISTS action_delays(
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  runtime TEXT NOT NULL,
  kind TEXT NOT NULL,
  model TEXT NOT NULL,
  model_bytes INTEGER NOT NULL,
  call_seconds REAL NOT NULL,
  freed_seconds REAL NOT NULL);
CREATE INDEX IF NOT EXISTS action_delays_ts ON action_delays(ts_ms);
INSERT OR IGNORE INTO meta(key, value) VALUES('format', 'ruvector-memopt.history/1');
)sql";

policy::ActionKind kind_from_name(const std::string& s) {
  using policy::ActionKind;
  for (ActionKind k :
       {ActionKind::kUnload, ActionKind::kReloadFewerLayers, ActionKind::kResizeContext,
        ActionKind::kRestoreLayers, ActionKind::kFreeImageCache}) {
    if (s == policy::action_kind_name(k)) return k;
  }
  return ActionKind::kUnload;
}

}  // namespace

History::History(sqlite3* db, std::string path, HistoryOptions options)
    : db_(db), path_(std::move(path)), options_(options) {}

History::~History() { sqlite3_close(db_); }

Error History::sql_error(const std::string& what) const {
  return make_error("history " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Status History::exec(const char* sql) const {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return make_error("history " + path_ + ": " + m);
  }
  return Ok{};
}

namespace {

constexpr const char* kFormat = "ruvector-memopt.history/1";

// Why a history file could not be opened: a file to move aside (damaged,
// not ours) or a place we cannot write (full disk, permissions).
enum class OpenFailure { kNone, kDamaged, kForeign, kUnavailable };

bool damaged_code(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
}


Result<std::unique_ptr<History>> open_classified(
    const std::string& path, HistoryOptions options, OpenFailure* why,
    Result<std::unique_ptr<History>> (*make)(sqlite3*, const std::string&, HistoryOptions)) {
  *why = OpenFailure::kUnavailable;
  if (auto st = prepare_history_file(path); !st) return st.error();
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                      nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return make_error("cannot open history " + path + ": " + m);
  }
  sqlite3_busy_timeout(db, 2000);
  auto fail = [&](const std::string& what, OpenFailure f) -> Error {
    std::string m = what + ": " + sqlite3_errmsg(db);
    if (f == OpenFailure::kUnavailable && damaged_code(sqlite3_extended_errcode(db)))
      f = OpenFailure::kDamaged;
    *why = f;
    sqlite3_close(db);
    return make_error("history " + path + ": " + m);
  };
  // Another program's database (or ours from elsewhere): look before
  // writing anything, so a foreign file is never modified.
  {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(
            db, "SELECT count(*), sum(name = 'meta') FROM sqlite_master WHERE type = 'table'", -1,
            &q, nullptr) != SQLITE_OK) {
      sqlite3_finalize(q);
      return fail("read the schema", OpenFailure::kUnavailable);
    }
    int rc = sqlite3_step(q);
    const int64_t tables = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    const int64_t meta = rc == SQLITE_ROW ? sqlite3_column_int64(q, 1) : 0;
    sqlite3_finalize(q);
    q = nullptr;
    if (rc != SQLITE_ROW) return fail("read the schema", OpenFailure::kUnavailable);
    if (tables > 0) {
      std::string format;
      if (meta > 0 && sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'format'", -1, &q,
                                         nullptr) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)) {
          format = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
        }
      }
      sqlite3_finalize(q);
      if (format != kFormat) {
        *why = OpenFailure::kForeign;
        sqlite3_close(db);
        return make_error("history " + path + " is another program's database (" +
                          (format.empty() ? std::string("no ruvector-memopt format mark")
                                          : "format '" + format.substr(0, 60) + "'") +
                          "), or from another version of ruvector-memopt");
      }
    }
  }
  {
    sqlite3_stmt* q = nullptr;
    std::string verdict = "unreadable";
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, nullptr);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(q);
      if (rc == SQLITE_ROW && sqlite3_column_text(q, 0))
        verdict = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
    if (verdict != "ok") {
      if (rc == SQLITE_ROW || damaged_code(sqlite3_extended_errcode(db))) {
        *why = OpenFailure::kDamaged;
        sqlite3_close(db);
        return make_error("history " + path + " is damaged (" + verdict.substr(0, 200) + ")");
      }
      return fail("check", OpenFailure::kUnavailable);
    }
  }
  auto h = make(db, path, options);
  if (!h) {
    // make() closed the database; a damaged file shows itself here too.
    const std::string& m = h.error().message;
    *why =
        (m.find("not a database") != std::string::npos || m.find("malformed") != std::string::npos)
            ? OpenFailure::kDamaged
            : OpenFailure::kUnavailable;
    return h.error();
  }
  *why = OpenFailure::kNone;
  return h;
}

}  // namespace

Result<std::unique_ptr<History>> History::open(const std::string& path, HistoryOptions options) {
  OpenFailure why;
  return open_classified(path, options, &why, &History::create);
}

Result<std::unique_ptr<History>> History::create(sqlite3* db, const std::string& path,
                                                 HistoryOptions options) {
  std::unique_ptr<History> h(new History(db, path, options));
  // WAL: writers append to the log and a crash leaves the main file intact;
  // synchronous=NORMAL fsyncs at checkpoints only (a crash may lose the
  // last samples, never the database; sqlite.org/wal.html).
  if (auto st = h->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !st)
    return st.error();
  if (auto st = h->exec(kSchema); !st) return st.error();
  return h;
}

HistoryOpen History::open_or_recover(const std::string& path, HistoryOptions options,
                                     int64_t unix_now) {
  HistoryOpen out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    OpenFailure why = OpenFailure::kNone;
    auto h = open_classified(path, options, &why, &History::create);
    if (h) {
      out.history = std::move(*h);
      return out;
    }
    out.error = h.error().message;
    if (attempt > 0 || (why != OpenFailure::kDamaged && why != OpenFailure::kForeign)) return out;
    // Keep the file for a post-mortem (or its owner), out of the way.
    char stamp[32];
    const time_t t = static_cast<time_t>(unix_now);
    struct tm tm {};
    ::gmtime_r(&t, &tm);
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    std::string aside = path + ".damaged-" + stamp;
    for (int n = 1; ::access(aside.c_str(), F_OK) == 0 && n < 100; ++n) {
      aside = path + ".damaged-" + stamp + "." + std::to_string(n);
    }
    if (::rename(path.c_str(), aside.c_str()) != 0) {
      out.error += "; cannot move it aside to " + aside + ": " + std::strerror(errno);
      return out;
    }
    for (const char* suffix : {"-wal", "-shm"}) {
      const std::string from = path + suffix;
      if (::access(from.c_str(), F_OK) == 0) ::rename(from.c_str(), (aside + suffix).c_str());
    }
    out.moved_aside = aside;
    out.moved_reason = out.error;
  }
  return out;
}

std::string history_metrics_text(bool available, uint64_t moved_aside_total) {
  return "# HELP ruvector_history_available 1 while history is recorded; 0 when it is off (full "
         "disk, "
         "unwritable file): the policy runs either way.\n"
         "# TYPE ruvector_history_available gauge\n"
         "ruvector_history_available " +
         std::string(available ? "1" : "0") +
         "\n"
         "# HELP ruvector_history_moved_aside_total Damaged or foreign history files moved aside.\n"
         "# TYPE ruvector_history_moved_aside_total counter\n"
         "ruvector_history_moved_aside_total " +
         std::to_string(moved_aside_total) + "\n";
}

Result<int64_t> History::series_id(const std::string& name, const std::string& labels) {
  auto key = std::make_pair(name, labels);
  if (auto it = ids_.find(key); it != ids_.end()) return it->second;
  Stmt ins(db_, "INSERT OR IGNORE INTO series(name, labels) VALUES(?, ?)");
  ins.bind(1, name);
  ins.bind(2, labels);
  if (!ins.ok() || ins.step() != SQLITE_DONE) return sql_error("add series " + name);
  Stmt sel(db_, "SELECT id FROM series WHERE name=? AND labels=?");
  sel.bind(1, name);
  sel.bind(2, labels);
  if (!sel.ok() || sel.step() != SQLITE_ROW) return sql_error("find series " + name);
  const int64_t id = sqlite3_column_int64(sel.get(), 0);
  ids_[key] = id;
  return id;
}

void History::rollback() const {
  // Best effort: after a failed statement SQLite may have rolled back itself.
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status History::write_sample(int64_t ts, const std::vector<SeriesValue>& values) {
  if (auto st = exec("BEGIN"); !st) return st;
  Stmt ins(db_, "INSERT OR REPLACE INTO points(series, res, ts, value) VALUES(?, 1, ?, ?)");
  if (!ins.ok()) {
    rollback();
    return sql_error("prepare");
  }
  for (const auto& v : values) {
    auto id = series_id(v.name, v.labels);
    if (!id) {
      rollback();
      return id.error();
    }
    ins.bind(1, *id);
    ins.bind(2, ts);
    ins.bind(3, v.value);
    if (ins.step() != SQLITE_DONE) {
      Error e = sql_error("write sample");
      rollback();
      return e;
    }
    ins.reset();
  }
  if (auto st = exec("COMMIT"); !st) {
    rollback();
    return st;
  }
  return roll_up(ts);
}

Status History::roll_up(int64_t ts) {
  const int64_t minute = ts / 60;
  if (last_minute_ < 0) last_minute_ = minute;
  if (minute == last_minute_) return Ok{};
  // Average every finished minute not yet rolled up (after a restart, the
  // minutes written before it too).
  Stmt avg(db_,
           "INSERT OR REPLACE INTO points(series, res, ts, value) "
           "SELECT series, 60, (ts / 60) * 60, avg(value) FROM points "
           "WHERE res = 1 AND ts >= ? AND ts < ? GROUP BY series, ts / 60");
  avg.bind(1, (last_minute_ - 1) * 60);
  avg.bind(2, minute * 60);
  if (!avg.ok() || avg.step() != SQLITE_DONE) return sql_error("downsample");
  Stmt prune(db_, "DELETE FROM points WHERE (res = 1 AND ts < ?) OR (res = 60 AND ts < ?)");
  prune.bind(1, ts - options_.raw_retention_seconds);
  prune.bind(2, ts - options_.retention_days * 86400);
  if (!prune.ok() || prune.step() != SQLITE_DONE) return sql_error("prune");
  Stmt prune_actions(db_, "DELETE FROM actions WHERE ts_ms < ?");
  prune_actions.bind(1, (ts - options_.retention_days * 86400) * 1000);
  if (!prune_actions.ok() || prune_actions.step() != SQLITE_DONE) return sql_error("prune actions");
  Stmt prune_delays(db_, "DELETE FROM action_delays WHERE ts_ms < ?");
  prune_delays.bind(1, (ts - options_.retention_days * 86400) * 1000);
  if (!prune_delays.ok() || prune_delays.step() != SQLITE_DONE) return sql_error("prune delays");
  last_minute_ = minute;
  return Ok{};
}

Status History::write_action(const ActionRecord& r) {
  Stmt ins(db_,
           "INSERT INTO actions(ts_ms, kind, target, runtime, model, gpu, expected_bytes, "
           "predictive, applied, "
           "reason, outcome) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  ins.bind(1, r.ts_ms);
  ins.bind(2, std::string(policy::action_kind_name(r.action.kind)));
  ins.bind(3, r.action.target);
  ins.bind(4, r.action.runtime);
  ins.bind(5, r.action.model);
  ins.bind(6, static_cast<int64_t>(r.action.gpu));
  ins.bind(7, static_cast<int64_t>(std::min<uint64_t>(r.action.expected_bytes, INT64_MAX)));
  ins.bind(8, static_cast<int64_t>(r.action.predictive));
  ins.bind(9, static_cast<int64_t>(r.applied));
  ins.bind(10, r.action.reason);
  ins.bind(11, r.action.outcome);
  if (!ins.ok() || ins.step() != SQLITE_DONE) return sql_error("write action");
  return Ok{};
}

Status History::write_delay(const DelayRecord& r) {
  Stmt ins(db_,
           "INSERT INTO action_delays(ts_ms, runtime, kind, model, model_bytes, call_seconds, "
           "freed_seconds) VALUES(?,?,?,?,?,?,?)");
  ins.bind(1, r.ts_ms);
  ins.bind(2, r.runtime);
  ins.bind(3, r.kind);
  ins.bind(4, r.model);
  ins.bind(5, static_cast<int64_t>(std::min<uint64_t>(r.model_bytes, INT64_MAX)));
  ins.bind(6, r.call_seconds);
  ins.bind(7, r.freed_seconds);
  if (!ins.ok() || ins.step() != SQLITE_DONE) return sql_error("write action delay");
  return Ok{};
}

Status History::write_document(const std::string& key, const std::string& value) {
  Stmt ins(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)");
  ins.bind(1, "doc:" + key);
  ins.bind(2, value);
  if (!ins.ok() || ins.step() != SQLITE_DONE) return sql_error("write " + key);
  return Ok{};
}

Result<std::string> History::read_document(const std::string& key) const {
  Stmt q(db_, "SELECT value FROM meta WHERE key = ?");
  if (!q.ok()) return sql_error("read " + key);
  q.bind(1, "doc:" + key);
  const int rc = q.step();
  if (rc == SQLITE_ROW) return q.text(0);
  if (rc != SQLITE_DONE) return sql_error("read " + key);
  return std::string();
}

Result<std::vector<DelayRecord>> History::recent_delays(size_t limit) const {
  Stmt q(db_,
         "SELECT ts_ms, runtime, kind, model, model_bytes, call_seconds, freed_seconds "
         "FROM action_delays ORDER BY id DESC LIMIT ?");
  if (!q.ok()) return sql_error("read action delays");
  q.bind(1, static_cast<int64_t>(limit));
  std::vector<DelayRecord> out;
  while (q.step() == SQLITE_ROW) {
    DelayRecord r;
    r.ts_ms = sqlite3_column_int64(q.get(), 0);
    r.runtime = q.text(1);
    r.kind = q.text(2);
    r.model = q.text(3);
    r.model_bytes = static_cast<uint64_t>(std::max<int64_t>(0, sqlite3_column_int64(q.get(), 4)));
    r.call_seconds = sqlite3_column_double(q.get(), 5);
    r.freed_seconds = sqlite3_column_double(q.get(), 6);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<HistorySeries>> History::query(const std::string& name,
                                                  const std::string& labels, int64_t from,
                                                  int64_t to, size_t max_points) const {
  auto last = last_timestamp();
  if (!last) return last.error();
  const int res = (*last - from > options_.raw_retention_seconds) ? 60 : 1;
  std::string sql =
      "SELECT s.labels, p.ts, p.value FROM points p JOIN series s ON s.id = p.series "
      "WHERE s.name = ? AND p.res = ? AND p.ts >= ? AND p.ts <= ?";
  if (!labels.empty()) sql += " AND s.labels = ?";
  sql += " ORDER BY s.labels, p.ts";
  Stmt q(db_, sql.c_str());
  if (!q.ok()) return sql_error("query");
  q.bind(1, name);
  q.bind(2, static_cast<int64_t>(res));
  q.bind(3, from);
  q.bind(4, to);
  if (!labels.empty()) q.bind(5, labels);
  std::vector<HistorySeries> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    std::string l = q.text(0);
    if (out.empty() || out.back().labels != l) {
      out.push_back({name, l, res, {}});
    }
    out.back().points.push_back(
        {sqlite3_column_int64(q.get(), 1), sqlite3_column_double(q.get(), 2)});
  }
  if (rc != SQLITE_DONE) return sql_error("query");
  for (auto& s : out) {
    if (s.points.size() > max_points)
      s.points.erase(s.points.begin(), s.points.end() - static_cast<long>(max_points));
  }
  return out;
}

Result<std::vector<std::string>> History::series_names() const {
  Stmt q(db_, "SELECT DISTINCT name FROM series ORDER BY name");
  if (!q.ok()) return sql_error("list series");
  std::vector<std::string> out;
  while (q.step() == SQLITE_ROW) out.push_back(q.text(0));
  return out;
}

Result<std::vector<ActionRecord>> History::recent_actions(size_t limit) const {
  Stmt q(db_,
         "SELECT ts_ms, kind, target, runtime, model, gpu, expected_bytes, predictive, applied, "
         "reason, outcome "
         "FROM actions ORDER BY id DESC LIMIT ?");
  if (!q.ok()) return sql_error("read actions");
  q.bind(1, static_cast<int64_t>(limit));
  std::vector<ActionRecord> out;
  while (q.step() == SQLITE_ROW) {
    ActionRecord r;
    r.ts_ms = sqlite3_column_int64(q.get(), 0);
    r.action.kind = kind_from_name(q.text(1));
    r.action.target = q.text(2);
    r.action.runtime = q.text(3);
    r.action.model = q.text(4);
    r.action.gpu = static_cast<int>(sqlite3_column_int64(q.get(), 5));
    r.action.expected_bytes = static_cast<uint64_t>(sqlite3_column_int64(q.get(), 6));
    r.action.predictive = sqlite3_column_int64(q.get(), 7) != 0;
    r.applied = sqlite3_column_int64(q.get(), 8) != 0;
    r.action.reason = q.text(9);
    r.action.outcome = q.text(10);
    out.push_back(std::move(r));
  }
  return out;
}

Result<int64_t> History::last_timestamp() const {
  Stmt q(db_, "SELECT max(ts) FROM points WHERE res = 1");
  if (!q.ok() || q.step() != SQLITE_ROW) return sql_error("read last timestamp");
  return static_cast<int64_t>(sqlite3_column_int64(q.get(), 0));
}

Result<int64_t> history_range_seconds(const std::string& range) {
  if (range == "5m") return int64_t{300};
  if (range == "1h") return int64_t{3600};
  if (range == "24h") return int64_t{86400};
  if (range == "7d") return int64_t{7 * 86400};
  return make_error("range '" + range.substr(0, 32) + "' is not one of 5m, 1h, 24h, 7d");
}

std::vector<HistoryPoint> downsample(const std::vector<HistoryPoint>& points, int64_t from,
                                     int64_t to, size_t buckets) {
  std::vector<HistoryPoint> out;
  if (buckets == 0 || to < from) return out;
  const long double span = static_cast<long double>(to - from + 1) / static_cast<long double>(buckets);
  size_t current = SIZE_MAX;
  long double total = 0;
  size_t n = 0;
  auto flush = [&] {
    if (n == 0) return;
    const int64_t mid = from + static_cast<int64_t>((current + 0.5L) * span);
    out.push_back({mid, static_cast<double>(total / n)});
  };
  for (const HistoryPoint& p : points) {
    if (p.ts < from || p.ts > to) continue;
    const size_t b = std::min(buckets - 1, static_cast<size_t>((p.ts - from) / span));
    if (b != current) {
      flush();
      current = b;
      total = 0;
      n = 0;
    }
    total += p.value;
    n++;
  }
  flush();
  return out;
}

}  // namespace memopt::daemon
