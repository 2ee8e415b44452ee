#pragma once
// Sockets: the few calls whose names or error reporting differ between POSIX
// and Winsock, behind one interface (socket_ops_linux.cc, socket_ops_win.cc).
// Everything else (getaddrinfo, bind, listen, getsockname, setsockopt,
// inet_ntop, struct pollfd and POLLIN/POLLOUT) has the same name on both and
// is called directly. A Socket is what struct pollfd holds: an int on Linux,
// a SOCKET handle on Windows.
#include <poll.h>
#include <sys/socket.h>

#include <cstddef>
#include <string>

namespace memopt::net {

using Socket = decltype(pollfd{}.fd);
inline constexpr Socket kNoSocket = static_cast<Socket>(-1);

// What the calling thread's last failed socket call means to a caller.
enum class SocketError { kWouldBlock, kInterrupted, kNoResources, kRefused, kInProgress, kOther };
SocketError last_socket_error();
std::string last_socket_error_text();

// Once per process before the first socket (Winsock's WSAStartup); true when
// sockets can be used.
bool sockets_ready();

// A non-blocking stream socket that child processes do not inherit.
Socket open_stream_socket(int family);
// For a listener: restart on a port whose old connections linger (Linux
// SO_REUSEADDR), and never share the port with another program (Windows
// SO_EXCLUSIVEADDRUSE: there SO_REUSEADDR would let one take it over).
void reuse_address(Socket listener);
// The next pending connection as a non-blocking, not inherited socket, or
// kNoSocket (see last_socket_error()).
Socket accept_connection(Socket listener, sockaddr_storage* peer);
// Sends what the socket takes now (never raises SIGPIPE); -1 on error.
long send_some(Socket s, const char* data, size_t size);
// Receives what is there; 0 when the peer closed, -1 on error.
long recv_some(Socket s, char* data, size_t size);
// poll() over sockets (WSAPoll on Windows); -1 on error.
int poll_sockets(pollfd* fds, size_t count, int timeout_ms);
void shutdown_socket(Socket s);
void close_socket(Socket s);

// A way to wake a thread blocked in poll_sockets(): `read_end` becomes
// readable after wake(); drain() empties it. A pipe on Linux, a connected
// loopback pair on Windows (WSAPoll takes sockets only).
struct WakePair {
  Socket read_end = kNoSocket;
  Socket write_end = kNoSocket;
};
bool open_wake_pair(WakePair* out);
void wake(const WakePair& w);
void drain(const WakePair& w);
void close_wake_pair(WakePair* w);

}  // namespace memopt::net
