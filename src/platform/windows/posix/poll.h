#pragma once
// struct pollfd and POLLIN/POLLOUT come with Winsock (WSAPoll); poll() itself
// is not mapped: sockets go through net::poll_sockets (util/socket_ops.h).
#include <winsock2.h>
