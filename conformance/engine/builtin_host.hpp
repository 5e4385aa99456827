// A built-in reference server as the adapters start it: a hub on the generic host, served on a thread of
// its own from construction until destruction (adapter::start_builtin).
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "conformance/engine/adapter.hpp"
#include "impl/server/host/host.hpp"

namespace parley::conform {

template <class Hub>
class builtin_host final : public builtin_server {
public:
  // `host` says how (transport, limits); its bind and port are set to 127.0.0.1 and a free port, and its
  // log is silenced: the engine keeps its own wire log.
  template <class HubOptions>
  builtin_host(const std::string& protocol, HubOptions hub_options, host::host_options host)
      : hub_(std::move(hub_options)) {
    host.bind = "127.0.0.1";
    host.port = 0;
    host.log = [](std::string_view) {};
    auto s = host::server::start(hub_, std::move(host));
    if (!s) throw case_error("cannot start the built-in " + protocol + " server: " + s.error().message());
    server_ = std::move(*s);
    thread_ = std::thread([this] { server_->run(); });
  }
  ~builtin_host() override {
    server_->stop();
    thread_.join();
  }
  unsigned short port() const override { return server_->port(); }

private:
  Hub hub_;
  std::unique_ptr<host::server> server_;
  std::thread thread_;
};

}  // namespace parley::conform
