#pragma once
// Who may talk to the daemon's API: a bearer token kept in a 0600 file in the
// state directory (for state-changing calls), and Host/Origin checks so a web
// page cannot reach the loopback API through DNS rebinding.
#include <string>
#include <vector>

#include "util/result.h"

namespace memopt::daemon {

struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1", "0.0.0.0", "localhost"
  int port = 0;
  bool loopback() const;
};

// "127.0.0.1:7878", "[::1]:7878", "localhost:7878", "0.0.0.0:7878".
Result<ListenAddress> parse_listen(const std::string& text);

// The token file: created (32 random bytes, hex) when missing; refused when
// another user owns it or group/others may read it.
std::string token_path(const std::string& state_dir);
Result<std::string> load_or_create_token(const std::string& state_dir);

// `authorization` is the Authorization header; constant-time comparison.
bool bearer_matches(const std::string& authorization, const std::string& token);

// Host header values a request may carry: loopback names on the port, plus
// the listen address itself and `extra` names when listening elsewhere.
std::vector<std::string> allowed_hosts(const ListenAddress& listen, int bound_port,
                                       const std::vector<std::string>& extra = {});
bool host_allowed(const std::string& host_header, const std::vector<std::string>& allowed);
// An absent Origin (curl, Prometheus) is fine; a present one must be
// http://<allowed host>.
bool origin_allowed(const std::string& origin_header, const std::vector<std::string>& allowed);

}  // namespace memopt::daemon
