// Sockets on Windows (util/socket_ops.h): Winsock, WSAGetLastError. Sockets
// are not inherited by child processes unless asked (HANDLE_FLAG_INHERIT is
// cleared on each), and sending never raises a signal there.
#include <winsock2.h>
#include <ws2tcpip.h>
// After winsock2.h:
#include <windows.h>

#include <string>

#include "util/socket_ops.h"
#include "util/utf16_win.h"

namespace memopt::net {

SocketError last_socket_error() {
  switch (WSAGetLastError()) {
    case WSAEWOULDBLOCK:
      return SocketError::kWouldBlock;
    case WSAEINTR:
      return SocketError::kInterrupted;
    case WSAEMFILE:
    case WSAENOBUFS:
      return SocketError::kNoResources;
    case WSAECONNREFUSED:
      return SocketError::kRefused;
    case WSAEINPROGRESS:
    case WSAEALREADY:
      return SocketError::kInProgress;
    default:
      return SocketError::kOther;
  }
}

std::string last_socket_error_text() {
  const int code = WSAGetLastError();
  wchar_t* text = nullptr;
  const DWORD n = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, static_cast<DWORD>(code), 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  std::string out = n > 0 ? to_utf8(text) : std::string();
  LocalFree(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == '.'))
    out.pop_back();
  return (out.empty() ? std::string("Winsock error") : out) + " (" + std::to_string(code) + ")";
}

bool sockets_ready() {
  static const bool ready = [] {
    WSADATA data{};
    return WSAStartup(MAKEWORD(2, 2), &data) == 0;
  }();
  return ready;
}

namespace {

bool make_nonblocking_private(SOCKET s) {
  u_long on = 1;
  return ioctlsocket(s, FIONBIO, &on) == 0 &&
         SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
}

}  // namespace

Socket open_stream_socket(int family) {
  if (!sockets_ready()) return kNoSocket;
  SOCKET s = ::socket(family, SOCK_STREAM, IPPROTO_TCP);
  if (s == INVALID_SOCKET) return kNoSocket;
  if (!make_nonblocking_private(s)) {
    ::closesocket(s);
    return kNoSocket;
  }
  return s;
}

void reuse_address(Socket listener) {
  const BOOL one = TRUE;
  ::setsockopt(listener, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&one),
               sizeof one);
}

Socket accept_connection(Socket listener, sockaddr_storage* peer) {
  int len = sizeof *peer;
  SOCKET s = ::accept(listener, reinterpret_cast<sockaddr*>(peer), &len);
  if (s == INVALID_SOCKET) return kNoSocket;
  if (!make_nonblocking_private(s)) {
    ::closesocket(s);
    WSASetLastError(WSAENOBUFS);
    return kNoSocket;
  }
  return s;
}

long send_some(Socket s, const char* data, size_t size) {
  const int n = size > 0x40000000u ? 0x40000000 : static_cast<int>(size);
  const int r = ::send(s, data, n, 0);
  return r == SOCKET_ERROR ? -1 : r;
}

long recv_some(Socket s, char* data, size_t size) {
  const int n = size > 0x40000000u ? 0x40000000 : static_cast<int>(size);
  const int r = ::recv(s, data, n, 0);
  return r == SOCKET_ERROR ? -1 : r;
}

int poll_sockets(pollfd* fds, size_t count, int timeout_ms) {
  return WSAPoll(fds, static_cast<ULONG>(count), timeout_ms);
}

void shutdown_socket(Socket s) { ::shutdown(s, SD_BOTH); }

void close_socket(Socket s) {
  if (s != kNoSocket) ::closesocket(s);
}

bool open_wake_pair(WakePair* out) {
  if (!sockets_ready()) return false;
  // A listener on an ephemeral loopback port, connected to once.
  SOCKET l = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (l == INVALID_SOCKET) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof a;
  SOCKET w = INVALID_SOCKET, r = INVALID_SOCKET;
  const bool ok = ::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(l, 1) == 0 &&
                  ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) == 0 &&
                  (w = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)) != INVALID_SOCKET &&
                  ::connect(w, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  (r = ::accept(l, nullptr, nullptr)) != INVALID_SOCKET &&
                  make_nonblocking_private(r) && make_nonblocking_private(w);
  ::closesocket(l);
  if (!ok) {
    if (w != INVALID_SOCKET) ::closesocket(w);
    if (r != INVALID_SOCKET) ::closesocket(r);
    return false;
  }
  out->read_end = r;
  out->write_end = w;
  return true;
}

void wake(const WakePair& w) {
  if (w.write_end != kNoSocket) ::send(w.write_end, "x", 1, 0);
}

void drain(const WakePair& w) {
  char b[64];
  while (w.read_end != kNoSocket && ::recv(w.read_end, b, sizeof b, 0) > 0) {
  }
}

void close_wake_pair(WakePair* w) {
  close_socket(w->read_end);
  close_socket(w->write_end);
  *w = WakePair{};
}

}  // namespace memopt::net
