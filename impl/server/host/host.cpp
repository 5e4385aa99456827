#include "impl/server/host/host.hpp"

#include "impl/core/encoding.hpp"
#include "impl/net/detail/asio_stream.hpp"
#include "impl/server/host/channel.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <set>

namespace parley::host {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

class asio_server final : public server {
public:
  asio_server(core::hub& hub, host_options options)
      : hub_(hub), options_(std::move(options)), acceptor_(io_), timer_(io_) {
    if (!options_.log) options_.log = [](std::string_view line) { std::clog << line << std::endl; };
  }

  std::error_code listen() {
    if (options_.transport == transport::tls) {
      std::string problem;
      tls_ = detail::make_server_tls_context(options_.tls_certificate_pem, options_.tls_key_pem, problem);
      if (!tls_) {
        log("cannot serve TLS: " + problem);
        return std::make_error_code(std::errc::invalid_argument);
      }
    }
    return net::detail::open_acceptor(acceptor_, options_.bind, options_.port);
  }

  unsigned short port() const override { return acceptor_.local_endpoint().port(); }

  void run() override {
    accept();
    io_.run();
  }

  void stop() override {
    asio::post(io_, [this] {
      stopping_ = true;
      keep_running_.reset();
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      timer_.cancel();
      for (auto& [id, c] : connections_) c->link->drop();
      for (auto& link : handshaking_) link->drop();
    });
  }

private:
  struct connection {
    detail::channel_ptr link;
    std::deque<std::string> output;
    std::size_t pending = 0;
    bool writing = false;
    bool closing = false;  // the hub asked to close: flush, then close; ignore further input
    std::unique_ptr<asio::steady_timer> write_timer;  // with options_.write_timeout
  };
  using conn_ptr = std::shared_ptr<connection>;

  void log(std::string line) { options_.log(line); }

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (stopping_ || !acceptor_.is_open()) return;  // stopped, or a planted crash closed the listener
      if (!ec) {
        if (connections_.size() + handshaking_.size() >= options_.max_connections) {
          log("refused a connection: " + std::to_string(connections_.size()) + " already open");
        } else {
          adopt(std::move(socket));
        }
      } else if (ec != asio::error::operation_aborted) {
        log("accept failed: " + ec.message());
      }
      accept();
    });
  }

  void adopt(tcp::socket socket) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    std::string peer = ec ? "unknown" : ep.address().to_string() + ":" + std::to_string(ep.port());
    auto ready = [this, peer](detail::channel_ptr link, std::string why) {
      handshaking_.erase(link);
      if (stopping_ || !why.empty()) {
        if (!why.empty()) log("conn from " + peer + " refused: " + why);
        link->drop();
        return;
      }
      open(std::move(link), peer);
    };
    if (options_.transport == transport::websocket) {
      handshaking_.insert(detail::open_ws_channel(std::move(socket), options_.max_message, ready));
    } else if (options_.transport == transport::tls) {
      handshaking_.insert(detail::open_tls_channel(std::move(socket), tls_, ready));
    } else {
      detail::open_tcp_channel(std::move(socket), ready);
    }
  }

  void open(detail::channel_ptr link, const std::string& peer) {
    core::conn_id id = ++last_id_;
    auto c = std::make_shared<connection>();
    c->link = std::move(link);
    connections_.emplace(id, c);
    log("conn " + std::to_string(id) + " open " + peer);
    core::actions out;
    hub_.on_connect(id, peer, clock_type::now(), out);
    apply(out);
    read(id, c);
  }

  void read(core::conn_id id, const conn_ptr& c) {
    c->link->read([this, id, c](std::optional<std::string_view> data, std::string why) {
      if (c->closing || !connections_.contains(id)) return;
      if (!data) {
        gone(id, why);
        return;
      }
      if (options_.log_wire)
        log("conn " + std::to_string(id) + " > " +
            (options_.redact_input ? options_.redact_input(id, *data) : core::printable(*data)));
      core::actions out;
      hub_.on_data(id, *data, clock_type::now(), out);
      apply(out);
      if (!c->closing && connections_.contains(id)) read(id, c);
    });
  }

  // The peer went away (or misbehaved at the transport level): tell the hub, drop the connection.
  void gone(core::conn_id id, const std::string& why) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    it->second->link->drop();
    connections_.erase(it);
    log("conn " + std::to_string(id) + " closed: " + why);
    core::actions out;
    hub_.on_close(id, clock_type::now(), out);
    apply(out);
  }

  void apply(core::actions& out) {
    for (auto& a : out.take()) {
      if (auto* send = std::get_if<core::send_action>(&a)) {
        queue(send->conn, std::move(send->bytes));
      } else if (auto* crash = std::get_if<core::crash_action>(&a)) {
        stop_serving(*crash);
      } else {
        auto& close = std::get<core::close_action>(a);
        auto it = connections_.find(close.conn);
        if (it == connections_.end()) continue;
        if (close.reset) {
          log("conn " + std::to_string(close.conn) + " reset: " + close.reason);
          it->second->link->abort();
          connections_.erase(it);
          continue;
        }
        log("conn " + std::to_string(close.conn) + " closing: " + close.reason);
        it->second->closing = true;
        if (!it->second->writing) finish(close.conn);
      }
    }
    schedule();
  }

  void queue(core::conn_id id, std::string bytes) {
    auto it = connections_.find(id);
    if (it == connections_.end() || it->second->closing) return;
    auto& c = it->second;
    if (options_.log_wire) log("conn " + std::to_string(id) + " < " + core::printable(bytes));
    c->pending += bytes.size();
    c->output.push_back(std::move(bytes));
    if (c->pending > options_.max_pending_output) {
      gone(id, "slow reader: more than " + std::to_string(options_.max_pending_output) + " bytes queued");
      return;
    }
    if (!c->writing) write(id, c);
  }

  void write(core::conn_id id, const conn_ptr& c) {
    c->writing = true;
    if (options_.write_timeout.count() > 0) {
      // A peer that stops reading makes the write hang; past the timeout the connection is ended.
      if (!c->write_timer) c->write_timer = std::make_unique<asio::steady_timer>(io_);
      c->write_timer->expires_after(options_.write_timeout);
      c->write_timer->async_wait([this, id, c](boost::system::error_code ec) {
        if (!ec && c->writing && connections_.contains(id)) gone(id, "write timed out");
      });
    }
    c->link->write(c->output.front(), [this, id, c](std::string error) {
      c->writing = false;
      if (c->write_timer) c->write_timer->cancel();
      if (!connections_.contains(id)) return;
      if (!error.empty()) {
        gone(id, "write failed: " + error);
        return;
      }
      c->pending -= c->output.front().size();
      c->output.pop_front();
      if (!c->output.empty()) write(id, c);
      else if (c->closing) finish(id);
    });
  }

  // A planted fault crashes the server: the process exits as an unhandled error would end it, or only
  // the listener dies and the open connections go on.
  void stop_serving(const core::crash_action& crash) {
    if (crash.whole_process) {
      if (options_.on_crash) return options_.on_crash(crash.reason);
      log("fatal: " + crash.reason);
      std::_Exit(1);
    }
    log("no longer accepting connections: " + crash.reason);
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    // The process lives on without a listener, as such a server does, also once its last connection is gone.
    keep_running_.emplace(io_.get_executor());
  }

  // Everything the hub queued has been written: end the connection in order and forget it. The hub
  // already forgot the connection when it asked for the close, so it is not told again.
  void finish(core::conn_id id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    it->second->link->finish();
    connections_.erase(it);
  }

  void schedule() {
    auto wake = hub_.next_wake();
    if (!wake || stopping_) {
      timer_.cancel();
      scheduled_.reset();
      return;
    }
    if (scheduled_ && *scheduled_ == *wake) return;
    scheduled_ = *wake;
    timer_.expires_at(*wake);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      scheduled_.reset();
      core::actions out;
      hub_.on_timer(clock_type::now(), out);
      apply(out);
    });
  }

  core::hub& hub_;
  host_options options_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer timer_;
  std::optional<time_point> scheduled_;
  std::map<core::conn_id, conn_ptr> connections_;
  // WebSocket connections still in their handshake: they count against the limit, and stop() drops them.
  std::set<detail::channel_ptr> handshaking_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // transport::tls only
  core::conn_id last_id_ = 0;
  bool stopping_ = false;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_running_;
};

}  // namespace

result<std::unique_ptr<server>> server::start(core::hub& hub, host_options options) {
  auto s = std::make_unique<asio_server>(hub, std::move(options));
  if (auto ec = s->listen()) return ec;
  return std::unique_ptr<server>(std::move(s));
}

}  // namespace parley::host
