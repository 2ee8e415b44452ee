#include "serve/request_log.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "daemon/history.h"
#include "serve/config.h"
#include "util/fs_read.h"
#include "util/fs_write.h"

namespace memopt::serve {
namespace {

constexpr std::string_view kHeader = "# ruvector-memopt serve request log 1";
constexpr const char *kHistoryKey = "serve_request_log";

bool client_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == ':' || c == '@';
}

class FileStore : public RequestLogStore {
 public:
  explicit FileStore(std::string path) : path_(std::move(path)) {}
  std::string where() const override { return path_; }
  Result<std::string> load() override {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) {
      if (errno == ENOENT) return std::string();
      return make_error("request log " + path_ + ": " + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) return make_error("request log " + path_ + " is not a regular file");
    if (static_cast<uint64_t>(st.st_size) > kRequestLogMaxBytes) {
      return make_error("request log " + path_ + " is " + std::to_string(st.st_size) +
                        " bytes, more than the " + std::to_string(kRequestLogMaxBytes) +
                        " a log of " + std::to_string(kRequestLogMaxRecords) +
                        " requests can take: not a log this program wrote");
    }
    auto text = read_small_file(path_, kRequestLogMaxBytes);
    if (!text) return make_error("request log " + path_ + ": cannot read it");
    return *text;
  }
  Status save(const std::string &text) override { return write_file_atomic(path_, text); }

 private:
  std::string path_;
};

class HistoryStore : public RequestLogStore {
 public:
  explicit HistoryStore(std::string path) : path_(std::move(path)) {}
  std::string where() const override { return path_ + " (document " + kHistoryKey + ")"; }
  Result<std::string> load() override {
    if (auto st = open(); !st) return st.error();
    auto doc = history_->read_document(kHistoryKey);
    if (!doc) return make_error("request log in " + where() + ": " + doc.error().message);
    if (doc->size() > kRequestLogMaxBytes) {
      return make_error("request log in " + where() + " is larger than " +
                        std::to_string(kRequestLogMaxBytes) + " bytes");
    }
    return *doc;
  }
  Status save(const std::string &text) override {
    if (auto st = open(); !st) return st;
    if (auto st = history_->write_document(kHistoryKey, text); !st) {
      history_.reset();  // the daemon may have moved a damaged file aside: reopen next time
      return make_error("request log in " + where() + ": " + st.error().message);
    }
    return Ok{};
  }

 private:
  Status open() {
    if (history_) return Ok{};
    auto h = daemon::History::open(path_);
    if (!h) return make_error("request log: history " + path_ + ": " + h.error().message);
    history_ = std::move(*h);
    return Ok{};
  }
  std::string path_;
  std::unique_ptr<daemon::History> history_;
};

}  // namespace

std::string client_label(std::string_view raw) {
  std::string out;
  for (char c : raw) {
    if (out.size() >= 64) break;
    if (client_char(c)) out += c;
  }
  return out;
}

std::string encode_request_log(const std::deque<RequestRecord> &records) {
  std::string out(kHeader);
  out += '\n';
  const size_t from =
      records.size() > kRequestLogMaxRecords ? records.size() - kRequestLogMaxRecords : 0;
  for (size_t i = from; i < records.size(); ++i) {
    const auto &r = records[i];
    out += std::to_string(r.unix_ms);
    out += ' ';
    out += r.model;
    if (!r.client.empty()) {
      out += ' ';
      out += r.client;
    }
    out += '\n';
  }
  return out;
}

Result<std::vector<RequestRecord>> decode_request_log(std::string_view text,
                                                      const std::string &where) {
  std::vector<RequestRecord> out;
  if (text.empty()) return out;
  if (text.size() > kRequestLogMaxBytes) {
    return make_error(where + ": larger than " + std::to_string(kRequestLogMaxBytes) + " bytes");
  }
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    line_no++;
    const std::string at = where + ":" + std::to_string(line_no);
    if (line_no == 1) {
      if (line != kHeader) {
        return make_error(at + ": not a request log of this program (first line should be \"" +
                          std::string(kHeader) + "\")");
      }
      continue;
    }
    if (line.empty()) continue;
    // "<unix ms> <model> [client]"
    const size_t s1 = line.find(' ');
    if (s1 == std::string_view::npos) return make_error(at + ": expected \"<unix ms> <model>\"");
    const size_t s2 = line.find(' ', s1 + 1);
    const std::string_view ms_text = line.substr(0, s1);
    const std::string_view model =
        line.substr(s1 + 1, s2 == std::string_view::npos ? line.npos : s2 - s1 - 1);
    const std::string_view client = s2 == std::string_view::npos ? "" : line.substr(s2 + 1);
    auto ms = parse_i64(ms_text);
    // 2001-09-09 .. 2286-11-20: a time this log can hold.
    if (!ms || *ms < 1000000000000LL || *ms > 9999999999999LL) {
      return make_error(at + ": the time must be unix milliseconds (13 digits)");
    }
    if (!valid_model_name(model)) return make_error(at + ": not a valid model name");
    if (client.size() > 64 || client_label(client) != client) {
      return make_error(at + ": the client must be up to 64 letters, digits or . _ - : @");
    }
    if (!out.empty() && *ms < out.back().unix_ms) {
      return make_error(at + ": out of time order (earlier than the line before)");
    }
    if (out.size() >= kRequestLogMaxRecords) {
      return make_error(at + ": more than " + std::to_string(kRequestLogMaxRecords) + " requests");
    }
    out.push_back({*ms, std::string(model), std::string(client)});
  }
  return out;
}

std::unique_ptr<RequestLogStore> file_request_log_store(std::string path) {
  return std::make_unique<FileStore>(std::move(path));
}

std::unique_ptr<RequestLogStore> history_request_log_store(std::string history_path) {
  return std::make_unique<HistoryStore>(std::move(history_path));
}

}  // namespace memopt::serve
