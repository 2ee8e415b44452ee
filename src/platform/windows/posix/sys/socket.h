#pragma once
// inet_pton/inet_ntop/ntohl live in Winsock (ws2_32, linked by the build).
#include <winsock2.h>
#include <ws2tcpip.h>
