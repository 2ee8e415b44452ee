#pragma once
// The gateway's side of a backend: a bounded pool of keep-alive connections
// to one backend (host:port), and one HTTP/1.1 exchange over a pooled
// connection whose body is read piece by piece on the caller's own thread,
// so a stream goes from the backend's socket to the client's without a
// thread hop or a copy of its own. A connection goes back to the pool only
// when its response was read to the end and the backend keeps it open; an
// idle one the backend closed is noticed before reuse, and a request that
// fails on a reused connection before any answer is sent again once, on a
// fresh connection. Loopback backends; POSIX sockets (the gateway is Linux
// only for now).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace memopt::serve {

struct UpstreamConnection;

class UpstreamPool {
 public:
  // `bearer`: the key the backend asks for (llama-server's --api-key),
  // sent with every request as "Authorization: Bearer <bearer>"; "" none.
  UpstreamPool(std::string host, int port, std::string bearer = {}, size_t max_idle = 16);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool &) = delete;
  UpstreamPool &operator=(const UpstreamPool &) = delete;

  const std::string &host() const { return host_; }
  const std::string &bearer() const { return bearer_; }
  int port() const { return port_; }
  std::string url(std::string_view path) const;

  // An idle connection still open, else (or when `fresh`) a new one
  // (TCP_NODELAY, close-on-exec).
  Result<std::unique_ptr<UpstreamConnection>> acquire(std::chrono::milliseconds connect_timeout,
                                                      bool fresh = false);
  // Keeps `c` for the next request (closed when the pool is retired or full).
  void give_back(std::unique_ptr<UpstreamConnection> c);
  // The backend is gone (evicted, crashed, restarted): idle connections are
  // closed and connections in use are closed when they come back.
  void retire();

  size_t idle() const;
  uint64_t connects() const;  // connections opened so far

 private:
  std::string host_;
  int port_;
  size_t max_idle_;
  std::string bearer_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;
  bool retired_ = false;
  uint64_t connects_ = 0;
};

struct UpstreamTimeouts {
  std::chrono::milliseconds connect{2000};
  // Longest silence while waiting for the answer or the next body bytes
  // (prompt processing of a long prompt on a slow CPU gives none for minutes).
  std::chrono::milliseconds read{600000};
  std::chrono::milliseconds write{30000};
  uint64_t max_body_bytes = 256ull << 20;  // a whole (non-streamed) answer
};

class UpstreamExchange {
 public:
  // Sends `method path` with `body` (JSON) and reads the answer's status line
  // and headers. `keep_waiting` is asked every `poll` while the answer has
  // not come: false gives up (the gateway is stopping).
  static Result<std::unique_ptr<UpstreamExchange>> start(
      std::shared_ptr<UpstreamPool> pool, std::string_view method, std::string_view path,
      std::string_view body, const UpstreamTimeouts &timeouts,
      const std::function<bool()> &keep_waiting = {},
      std::chrono::milliseconds poll = std::chrono::milliseconds(250));
  ~UpstreamExchange();
  UpstreamExchange(const UpstreamExchange &) = delete;
  UpstreamExchange &operator=(const UpstreamExchange &) = delete;

  int status() const { return status_; }
  const std::string &content_type() const { return content_type_; }
  bool reused_connection() const { return reused_; }

  enum class Read { kData, kEnd, kWait, kError };
  // The next piece of the body (chunked encoding removed), valid until the
  // next call: kData with `out` set; kEnd once the body is whole; kWait when
  // nothing came within `wait` (ask the client whether it is still there);
  // kError with error() when the backend broke off or sent garbage.
  Read read(std::string_view &out, std::chrono::milliseconds wait);
  // True when a piece of the body is already received and decoded enough
  // that read() returns it without waiting.
  bool buffered() const;
  // The whole body (bounded by max_body_bytes).
  Result<std::string> read_all();
  const std::string &error() const { return error_; }

  // Stop here: the connection is closed, not pooled (the backend sees its
  // client go away and stops the request).
  void abandon();

 private:
  UpstreamExchange() = default;
  Status read_head(const std::function<bool()> &keep_waiting, std::chrono::milliseconds poll);
  bool fill(std::chrono::milliseconds wait);  // reads more bytes; false on timeout/error
  Read fail(std::string message);

  std::shared_ptr<UpstreamPool> pool_;
  std::unique_ptr<UpstreamConnection> conn_;
  UpstreamTimeouts timeouts_;
  std::string where_;  // "POST http://127.0.0.1:8081/v1/chat/completions"
  bool reused_ = false;
  int status_ = 0;
  std::string content_type_;
  bool keep_alive_ = false;
  bool chunked_ = false;
  bool until_close_ = false;
  uint64_t remaining_ = 0;  // content-length left, or bytes left of the current chunk
  enum class ChunkAt { kSize, kData, kDataEnd, kTrailer, kDone } chunk_at_ = ChunkAt::kSize;
  bool done_ = false;
  bool timed_out_ = false;
  std::string error_;
};

}  // namespace memopt::serve
