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

// IPv6, for transparent mode only (IPv6 connections are passed through as TCP): a listening
// socket (IPv6 only, sharing the port across workers), a non-blocking connect, the original
// destination (IP6T_SO_ORIGINAL_DST), "[::1]:80".
int listen_tcp6(const std::string& ip, uint16_t port, std::string& error);
int connect_tcp6(const sockaddr_in6& addr, std::string& error);
bool original_destination6(int fd, sockaddr_in6& out);
std::string to_string(const sockaddr_in6& addr);

// Where an accepted connection was going before iptables redirected it (SO_ORIGINAL_DST; a
// connection nobody redirected gives its own local address). False when the kernel does not
// know (no connection tracking).
bool original_destination(int fd, sockaddr_in& out);

}  // namespace am::net
