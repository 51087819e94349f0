// Thin, error-returning wrappers over the BSD socket calls the data plane uses.
#pragma once

#include <netinet/in.h>

#include <string>
#include <vector>

namespace am::net {

// Parses a numeric IPv4 address; false when `ip` is no such address.
bool make_address(const std::string& ip, uint16_t port, sockaddr_in& out);

// "1.2.3.4:80".
std::string to_string(const sockaddr_in& addr);

// A non-blocking listening socket; with `reuse_port` several workers share one port and the
// kernel spreads connections across them. Returns -1 and sets `error` on failure.
int listen_tcp(const sockaddr_in& addr, bool reuse_port, std::string& error);

// Starts a non-blocking connect; the socket becomes writable when it completes.
int connect_tcp(const sockaddr_in& addr, std::string& error);

// The pending error of a socket (after a non-blocking connect), 0 when none.
int socket_error(int fd);

// The addresses a socket bound to `address`:`port` answers on: that one, or for 0.0.0.0
// itself (standing for all of 127.0.0.0/8) and every IPv4 address of this host's interfaces.
// Unparsable or port 0: none.
std::vector<sockaddr_in> bound_addresses(const std::string& address, uint16_t port);

// The peer's IPv4 address as text, empty when unknown.
std::string peer_ip(int fd);

}  // namespace am::net
