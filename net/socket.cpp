#include "net/socket.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace am::net {

namespace {

std::string describe(const char* call) {
  return std::string{call} + ": " + std::strerror(errno);
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

bool make_address(const std::string& ip, uint16_t port, sockaddr_in& out) {
  out = {};
  out.sin_family = AF_INET;
  out.sin_port = htons(port);
  return inet_pton(AF_INET, ip.c_str(), &out.sin_addr) == 1;
}

std::vector<sockaddr_in> bound_addresses(const std::string& address, uint16_t port) {
  std::vector<sockaddr_in> out;
  sockaddr_in a{};
  if (port == 0 || !make_address(address, port, a)) {
    return out;
  }
  if (a.sin_addr.s_addr != htonl(INADDR_ANY)) {
    out.push_back(a);
    return out;
  }
  out.push_back(a);  // stands for all of 127.0.0.0/8, which answers on it too
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (auto* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr != nullptr && i->ifa_addr->sa_family == AF_INET) {
        a.sin_addr = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr;
        out.push_back(a);
      }
    }
    freeifaddrs(list);
  }
  return out;
}

std::string to_string(const sockaddr_in& addr) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr.sin_addr, buf, sizeof buf);
  return std::string{buf} + ":" + std::to_string(ntohs(addr.sin_port));
}

namespace {

int listen_on(const sockaddr* addr, socklen_t len, bool reuse_port, const std::string& name,
              std::string& error) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = describe("socket");
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  if (addr->sa_family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (bind(fd, addr, len) != 0) {
    error = describe("bind") + " (" + name + ")";
    ::close(fd);
    return -1;
  }
  if (listen(fd, 1024) != 0) {
    error = describe("listen");
    ::close(fd);
    return -1;
  }
  return fd;
}

int connect_to(const sockaddr* addr, socklen_t len, std::string& error) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = describe("socket");
    return -1;
  }
  set_nodelay(fd);
  if (connect(fd, addr, len) != 0 && errno != EINPROGRESS) {
    error = describe("connect");
    ::close(fd);
    return -1;
  }
  return fd;
}

// IP6T_SO_ORIGINAL_DST (linux/netfilter_ipv6/ip6_tables.h, whose other declarations clash
// with the libc headers).
constexpr int ip6t_so_original_dst = 80;

}  // namespace

int listen_tcp(const sockaddr_in& addr, bool reuse_port, std::string& error) {
  return listen_on(reinterpret_cast<const sockaddr*>(&addr), sizeof addr, reuse_port,
                   to_string(addr), error);
}

int connect_tcp(const sockaddr_in& addr, std::string& error) {
  return connect_to(reinterpret_cast<const sockaddr*>(&addr), sizeof addr, error);
}

int listen_tcp6(const std::string& ip, uint16_t port, std::string& error) {
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(port);
  if (inet_pton(AF_INET6, ip.c_str(), &addr.sin6_addr) != 1) {
    error = "'" + ip + "' is no IPv6 address";
    return -1;
  }
  return listen_on(reinterpret_cast<const sockaddr*>(&addr), sizeof addr, true, to_string(addr),
                   error);
}

int connect_tcp6(const sockaddr_in6& addr, std::string& error) {
  return connect_to(reinterpret_cast<const sockaddr*>(&addr), sizeof addr, error);
}

bool original_destination6(int fd, sockaddr_in6& out) {
  out = {};
  socklen_t len = sizeof out;
  return getsockopt(fd, SOL_IPV6, ip6t_so_original_dst, &out, &len) == 0 &&
         out.sin6_family == AF_INET6;
}

std::string to_string(const sockaddr_in6& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &addr.sin6_addr, buf, sizeof buf);
  return "[" + std::string{buf} + "]:" + std::to_string(ntohs(addr.sin6_port));
}

int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    return errno;
  }
  return err;
}

std::string peer_ip(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      addr.sin_family != AF_INET) {
    return {};
  }
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr.sin_addr, buf, sizeof buf);
  return buf;
}

bool original_destination(int fd, sockaddr_in& out) {
  out = {};
  socklen_t len = sizeof out;
  return getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &out, &len) == 0 && out.sin_family == AF_INET;
}

}  // namespace am::net
