#include "daemon/api_auth.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "daemon/private_files.h"
#include "policy/profile.h"

namespace memopt::daemon {

bool is_loopback_ip(const std::string& text) {
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

bool ListenAddress::loopback() const {
  in6_addr any{};
  if (::inet_pton(AF_INET, host.c_str(), &any) == 1 ||
      ::inet_pton(AF_INET6, host.c_str(), &any) == 1) {
    return is_loopback_ip(host);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return false;
  bool all = res != nullptr;
  char buf[INET6_ADDRSTRLEN];
  for (addrinfo* a = res; a; a = a->ai_next) {
    const void* addr =
        a->ai_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
    if (!::inet_ntop(a->ai_family, addr, buf, sizeof buf) || !is_loopback_ip(buf)) all = false;
  }
  ::freeaddrinfo(res);
  return all;
}

Result<ListenAddress> parse_listen(const std::string& text) {
  ListenAddress a;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error("--listen '" + text + "': expected [IPv6]:PORT, e.g. [::1]:7878");
    }
    a.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      return make_error("--listen '" + text + "': expected HOST:PORT, e.g. 127.0.0.1:7878");
    }
    a.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (a.host.empty() || port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return make_error("--listen '" + text + "': expected HOST:PORT with a port 0-65535");
  }
  a.port = std::stoi(port);
  if (a.port > 65535) return make_error("--listen '" + text + "': port must be 0-65535");
  for (char c : a.host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-')) {
      return make_error("--listen '" + text + "': '" + a.host + "' is not a host name or address");
    }
  }
  return a;
}

std::string token_path(const std::string& state_dir) { return state_dir + "/api_token"; }
std::string read_token_path(const std::string& state_dir) { return state_dir + "/api_token_read"; }

namespace {

Result<std::string> load_or_create_token_at(const std::string& state_dir, const std::string& path) {
  if (auto st = policy::make_private_dir(state_dir); !st) return st.error();
  unsigned char raw[32];
  if (auto st = random_bytes(raw, sizeof raw); !st) return st.error();
  static const char* hex = "0123456789abcdef";
  std::string fresh;
  for (unsigned char b : raw) {
    fresh += hex[b >> 4];
    fresh += hex[b & 15];
  }
  auto text = read_or_create_token_file(path, fresh + "\n", 256);
  if (!text) return text.error();
  std::string token = std::move(*text);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.size() < 32 || token.size() > 128) {
    return make_error(
        path + " does not hold a token (32-128 characters); remove it and restart the daemon");
  }
  return token;
}

}  // namespace

Result<std::string> load_or_create_token(const std::string& state_dir) {
  return load_or_create_token_at(state_dir, token_path(state_dir));
}

Result<std::string> load_or_create_read_token(const std::string& state_dir) {
  return load_or_create_token_at(state_dir, read_token_path(state_dir));
}

bool bearer_matches(const std::string& authorization, const std::string& token) {
  const std::string prefix = "Bearer ";
  if (token.empty() || authorization.size() != prefix.size() + token.size() ||
      authorization.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  // Constant time over the token, so timing does not reveal a prefix.
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(authorization[prefix.size() + i] ^ token[i]);
  }
  return diff == 0;
}

std::vector<std::string> allowed_hosts(const ListenAddress& listen, int bound_port,
                                       const std::vector<std::string>& extra) {
  const std::string p = std::to_string(bound_port);
  std::vector<std::string> out = {"127.0.0.1:" + p, "localhost:" + p, "[::1]:" + p};
  if (!listen.loopback() && listen.host != "0.0.0.0" && listen.host != "::") {
    out.push_back(
        (listen.host.find(':') != std::string::npos ? "[" + listen.host + "]" : listen.host) + ":" +
        p);
  }
  for (const auto& e : extra) out.push_back(e.find(':') == std::string::npos ? e + ":" + p : e);
  return out;
}

std::vector<std::string> allowed_hosts_for(const ListenAddress& listen, const std::string& local_ip,
                                           int bound_port, const std::vector<std::string>& extra) {
  if (is_loopback_ip(local_ip)) {
    auto out = allowed_hosts(ListenAddress{"127.0.0.1", bound_port}, bound_port);
    for (const auto& e : extra)
      out.push_back(e.find(':') == std::string::npos ? e + ":" + std::to_string(bound_port) : e);
    return out;
  }
  const std::string p = std::to_string(bound_port);
  std::string ip = local_ip;
  // A v4 client of a dual-stack socket arrives as ::ffff:a.b.c.d.
  if (ip.rfind("::ffff:", 0) == 0 && ip.find('.') != std::string::npos) ip = ip.substr(7);
  std::vector<std::string> out = {(ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" +
                                  p};
  in6_addr any{};
  const bool literal = ::inet_pton(AF_INET, listen.host.c_str(), &any) == 1 ||
                       ::inet_pton(AF_INET6, listen.host.c_str(), &any) == 1;
  if (!literal) out.push_back(listen.host + ":" + p);
  for (const auto& e : extra) out.push_back(e.find(':') == std::string::npos ? e + ":" + p : e);
  return out;
}

bool host_allowed(const std::string& host_header, const std::vector<std::string>& allowed) {
  std::string h = host_header;
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(allowed.begin(), allowed.end(), h) != allowed.end();
}

bool origin_allowed(const std::string& origin_header, const std::vector<std::string>& allowed,
                    const std::string& scheme) {
  if (origin_header.empty()) return true;
  const std::string prefix = scheme + "://";
  if (origin_header.rfind(prefix, 0) != 0) return false;
  return host_allowed(origin_header.substr(prefix.size()), allowed);
}

}  // namespace memopt::daemon
