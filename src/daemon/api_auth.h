#pragma once
// Who may talk to the daemon's API: bearer tokens kept in 0600 files in the
// state directory (one that acts, one that only reads, for dashboards and
// Prometheus), and Host/Origin checks so a web page cannot reach the loopback
// API through DNS rebinding. The Host check is made against the address the
// connection arrived on, so a forged "Host: 127.0.0.1" sent to a public
// address does not pass.
#include <string>
#include <vector>

#include "util/result.h"

namespace memopt::daemon {

struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1", "0.0.0.0", "localhost"
  int port = 0;
  // An IP literal in 127.0.0.0/8 or ::1, or a name that resolves only to
  // such addresses ("127.0.0.1.example" is a name, and resolves elsewhere).
  // The server checks again at bind time, on the addresses it binds.
  bool loopback() const;
};

// True for an IP literal in 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104; false
// for anything else, names included.
bool is_loopback_ip(const std::string& text);

// "127.0.0.1:7878", "[::1]:7878", "localhost:7878", "0.0.0.0:7878".
Result<ListenAddress> parse_listen(const std::string& text);

// The token file: created (32 random bytes, hex) when missing; refused when
// another user owns it or group/others may read it.
std::string token_path(const std::string& state_dir);
Result<std::string> load_or_create_token(const std::string& state_dir);
// The read-only token (GETs only): api_token_read beside the other.
std::string read_token_path(const std::string& state_dir);
Result<std::string> load_or_create_read_token(const std::string& state_dir);

// `authorization` is the Authorization header; constant-time comparison.
bool bearer_matches(const std::string& authorization, const std::string& token);

// Host header values a request may carry: loopback names on the port, plus
// the listen address itself and `extra` names when listening elsewhere.
std::vector<std::string> allowed_hosts(const ListenAddress& listen, int bound_port,
                                       const std::vector<std::string>& extra = {});
// The same for one connection, from the address it arrived on
// (`local_ip`): loopback names only when that address is loopback, else only
// that address (and `extra` names, and the listen name when it is one).
std::vector<std::string> allowed_hosts_for(const ListenAddress& listen, const std::string& local_ip,
                                           int bound_port,
                                           const std::vector<std::string>& extra = {});
bool host_allowed(const std::string& host_header, const std::vector<std::string>& allowed);
// An absent Origin (curl, Prometheus) is fine; a present one must be
// <scheme>://<allowed host>.
bool origin_allowed(const std::string& origin_header, const std::vector<std::string>& allowed,
                    const std::string& scheme = "http");

}  // namespace memopt::daemon
