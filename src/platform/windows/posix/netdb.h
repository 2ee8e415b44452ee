#pragma once
// getaddrinfo/freeaddrinfo/gai_strerror live in Winsock (ws2_32).
#include <winsock2.h>
#include <ws2tcpip.h>
