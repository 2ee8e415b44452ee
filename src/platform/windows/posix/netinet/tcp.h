#pragma once
// TCP_NODELAY is in Winsock's header.
#include <winsock2.h>
#include <ws2tcpip.h>
