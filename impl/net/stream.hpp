// Blocking-with-deadline byte streams for the programs that script a peer step by step: the conformance
// engine and the scripted tests. Every call takes an absolute deadline and never blocks past it. Asio stays
// inside the .cpp files so that including this header costs nothing.
#pragma once

#include <memory>
#include <string>
#include <system_error>

#include "impl/core/clock.hpp"
#include "impl/core/result.hpp"

namespace parley::net {

// How a read ended. The conformance verdicts tell these apart (ITP disconnect kinds: FIN, RST, timeout).
enum class read_status { data, closed, reset, timeout, error };

struct read_result {
  read_status status = read_status::error;
  std::string data;         // with status == data
  std::error_code error;    // with status == error
};

class stream {
public:
  virtual ~stream() = default;
  // errc::timed_out when the deadline passes before everything is written.
  virtual std::error_code write(std::string_view bytes, time_point deadline) = 0;
  virtual read_result read_some(time_point deadline) = 0;
  virtual void shutdown_send() = 0;  // FIN: the peer sees end of stream, reads still work
  virtual void close() = 0;          // orderly close
  virtual void reset() = 0;          // abortive close: the peer sees RST
  virtual std::string peer() const = 0;
};

// Connects to host:port over TCP with TCP_NODELAY (replies must not wait for Nagle, ITP-CMD-04).
result<std::unique_ptr<stream>> connect_tcp(const std::string& host, unsigned short port, time_point deadline);

// A listening TCP socket, for client-role cases where the engine plays the server.
class listener {
public:
  virtual ~listener() = default;
  virtual unsigned short port() const = 0;
  virtual result<std::unique_ptr<stream>> accept(time_point deadline) = 0;
};
result<std::unique_ptr<listener>> listen_tcp(const std::string& host, unsigned short port);

// "host:port" -> parts; nullopt-like error when malformed. IPv6 literals go in brackets: [::1]:1337.
bool split_host_port(std::string_view text, std::string& host, unsigned short& port);

}  // namespace parley::net
