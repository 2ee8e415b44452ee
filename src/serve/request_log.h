#pragma once
// The gateway's request log: which model was asked for, when, and by which
// client (when the request says: OpenAI's "user" field), kept bounded and
// persisted across restarts so the preload predictor
// (policy/preload_predictor.h) does not start from nothing. Stored as text,
// one request a line, either in a file under the state directory (standalone
// `serve`, atomic replace) or as a document in the daemon's history database
// (`daemon --serve`). A damaged log is an error naming where and which line;
// the caller starts with an empty log, never crashes.
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace memopt::serve {

struct RequestRecord {
  int64_t unix_ms = 0;
  std::string model;
  std::string client;  // "" when unknown
};

inline constexpr size_t kRequestLogMaxRecords = 20000;
// Larger stored logs are refused before they are parsed (a record is at most
// ~220 bytes).
inline constexpr size_t kRequestLogMaxBytes = 8u << 20;

// Letters, digits and . _ - : @ of `raw`, at most 64 of them ("" when none):
// what the log keeps of a client-supplied identity.
std::string client_label(std::string_view raw);

// The newest kRequestLogMaxRecords records as text.
std::string encode_request_log(const std::deque<RequestRecord> &records);
// Parses what encode_request_log wrote; `where` names the source in errors
// ("serve-requests.log:12: ..."). Records out of time order are an error too.
Result<std::vector<RequestRecord>> decode_request_log(std::string_view text,
                                                      const std::string &where);

// Where the log is kept.
class RequestLogStore {
 public:
  virtual ~RequestLogStore() = default;
  virtual std::string where() const = 0;
  // The stored text ("" when nothing was stored yet).
  virtual Result<std::string> load() = 0;
  virtual Status save(const std::string &text) = 0;
};

// A file (mode 0600, replaced atomically; larger than kRequestLogMaxBytes is
// refused).
std::unique_ptr<RequestLogStore> file_request_log_store(std::string path);
// A document of the daemon's history database at `history_path` (its own
// connection; SQLite's WAL lets it share the file with the daemon's).
std::unique_ptr<RequestLogStore> history_request_log_store(std::string history_path);

}  // namespace memopt::serve
