#include "impl/server/host/host.hpp"

#include "impl/core/encoding.hpp"
#include "impl/net/detail/asio_stream.hpp"
#include "impl/net/channel.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <set>
#include <vector>

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
      tls_ = net::make_server_tls_context(options_.tls_certificate_pem, options_.tls_key_pem, problem);
      if (!tls_) {
        log("cannot serve TLS: " + problem);
        return std::make_error_code(std::errc::invalid_argument);
      }
      if (options_.tls_fault) options_.tls_fault(tls_->native_handle());
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
      for (auto& [link, h] : handshaking_) link->drop();
    });
  }

private:
  struct connection {
    net::channel_ptr link;
    std::deque<core::payload> output;  // queued, not yet handed to the channel
    std::vector<core::payload> in_flight;  // the batch the channel is writing
    std::size_t in_flight_bytes = 0;
    std::size_t pending = 0;  // bytes queued and in flight
    bool writing = false;
    bool batch_due = false;  // in start_writing_: a batch starts when the hub's actions are all queued
    bool closing = false;  // the hub asked to close: flush, then close; ignore further input
    std::unique_ptr<asio::steady_timer> write_timer;  // with options_.write_timeout
    std::string address;  // the peer's, for the per-address limit
  };
  struct handshake {
    std::string address;
    std::uint64_t order = 0;  // handshakes begun before this one, for "the oldest"
  };
  using conn_ptr = std::shared_ptr<connection>;

  void log(std::string line) { options_.log(line); }

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (stopping_ || !acceptor_.is_open()) return;  // stopped, or a planted crash closed the listener
      if (!ec) {
        boost::system::error_code unknown;
        auto ep = socket.remote_endpoint(unknown);
        std::string address = unknown ? "unknown" : ep.address().to_string();
        if (auto refusal = make_room(address); !refusal.empty()) log("refused a connection from " + address + ": " + refusal);
        else adopt(std::move(socket), address);
      } else if (ec != asio::error::operation_aborted) {
        log("accept failed: " + ec.message());
      }
      accept();
    });
  }

  // Empty when a newcomer from `address` may be adopted, after closing the oldest connection that has not
  // logged in if a limit is reached; otherwise why it is refused.
  std::string make_room(const std::string& address) {
    std::size_t from_address = 0;
    for (const auto& [id, c] : connections_) from_address += c->address == address;
    for (const auto& [link, h] : handshaking_) from_address += h.address == address;
    if (from_address >= options_.max_per_address) {
      if (close_oldest_anonymous(&address, std::to_string(from_address) + " connections from " + address)) return {};
      return std::to_string(from_address) + " connections from this address, all logged in";
    }
    std::size_t open = connections_.size() + handshaking_.size();
    if (open >= options_.max_connections) {
      if (close_oldest_anonymous(nullptr, std::to_string(open) + " connections open")) return {};
      return std::to_string(open) + " connections open, all logged in";
    }
    return {};
  }

  // Closes the oldest connection (from `address`, when given) that the hub does not count as logged in,
  // or else the oldest handshake still under way; false when there is none.
  bool close_oldest_anonymous(const std::string* address, const std::string& why) {
    for (const auto& [id, c] : connections_) {  // ids grow, so the first found is the oldest
      if (c->closing || hub_.signed_in(id) || (address && c->address != *address)) continue;
      gone(id, "closed to make room for a newcomer (" + why + "): the oldest connection not logged in");
      return true;
    }
    auto oldest = handshaking_.end();
    for (auto it = handshaking_.begin(); it != handshaking_.end(); ++it)
      if ((!address || it->second.address == *address) &&
          (oldest == handshaking_.end() || it->second.order < oldest->second.order))
        oldest = it;
    if (oldest == handshaking_.end()) return false;
    log("a handshake from " + oldest->second.address + " ended to make room for a newcomer (" + why + ")");
    oldest->first->drop();
    handshaking_.erase(oldest);
    return true;
  }

  void adopt(tcp::socket socket, const std::string& address) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    std::string peer = ec ? "unknown" : address + ":" + std::to_string(ep.port());
    auto ready = [this, peer, address](net::channel_ptr link, std::string why) {
      bool was_handshaking = handshaking_.erase(link) > 0;
      if (stopping_ || !why.empty() || (needs_handshake() && !was_handshaking)) {
        if (!why.empty()) log("conn from " + peer + " refused: " + why);
        link->drop();  // (or it was ended to make room while its handshake ran)
        return;
      }
      open(std::move(link), peer, address);
    };
    if (options_.transport == transport::websocket) {
      handshaking_.emplace(net::open_ws_channel(std::move(socket), options_.max_message, ready),
                           handshake{address, ++handshakes_});
    } else if (options_.transport == transport::tls) {
      handshaking_.emplace(net::open_tls_channel(std::move(socket), tls_, read_buffer_, ready), handshake{address, ++handshakes_});
    } else {
      net::open_tcp_channel(std::move(socket), read_buffer_, write_scratch_, ready);
    }
  }

  bool needs_handshake() const { return options_.transport != transport::tcp; }

  void open(net::channel_ptr link, const std::string& peer, const std::string& address) {
    core::conn_id id = ++last_id_;
    auto c = std::make_shared<connection>();
    c->link = std::move(link);
    c->address = address;
    connections_.emplace(id, c);
    log("conn " + std::to_string(id) + " open " + peer);
    hub_.on_connect(id, peer, clock_type::now(), out_);
    apply();
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
      ++reads_since_batches_;
      hub_.on_data(id, *data, clock_type::now(), out_);
      apply();
      if (!c->closing && connections_.contains(id)) read(id, c);
    });
  }

  // The peer went away (or misbehaved at the transport level): tell the hub, drop the connection.
  void gone(core::conn_id id, const std::string& why) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    it->second->link->drop();
    discard(it);
    log("conn " + std::to_string(id) + " closed: " + why);
    hub_.on_close(id, clock_type::now(), out_);
    apply();
  }

  // Carries out what the hub asked for in out_. The list is taken first: an action may call the hub again
  // (a slow reader closed, and the hub told), which fills out_ afresh and applies that before going on.
  void apply() {
    auto list = out_.take();
    for (auto& a : list) {
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
          discard(it);
          continue;
        }
        log("conn " + std::to_string(close.conn) + " closing: " + close.reason);
        it->second->closing = true;
        if (!it->second->writing && it->second->output.empty()) finish(close.conn);
        else batch_later(close.conn, *it->second);
      }
    }
    out_.reuse(std::move(list));
    schedule();
  }

  // The connection's queue goes out as a batch from start_batches (once, however much is queued before).
  // The batches start once every handler already due has run: the reads that arrived together (one epoll
  // round) each add to the same receivers' batches, so a broadcast storm costs one write per receiver per
  // round instead of one per sender. (A queue that fills a whole batch before then goes at once, see queue.)
  void batch_later(core::conn_id id, connection& c) {
    if (c.batch_due) return;
    c.batch_due = true;
    start_writing_.push_back(id);
    post_batches();
  }

  void post_batches() {
    if (batches_posted_) return;
    batches_posted_ = true;
    asio::post(io_, [this] {
      batches_posted_ = false;
      start_batches();
    });
  }

  void start_batches() {
    // A WebSocket channel hands over one message per read, and the next one already received completes in
    // a posted handler behind this one: while input keeps coming in turn after turn, the batches wait (a
    // few turns at most), so that a receiver gets a burst's messages in one write, not one write each. (A
    // TCP or TLS read hands over everything that arrived, and waiting would only delay a lone reply: one
    // more reactor round took the itp round trip's p99 from 80 to 123 us.)
    bool one_message_per_read = options_.transport == transport::websocket;
    if (std::exchange(reads_since_batches_, 0) > 0 && one_message_per_read &&
        ++deferred_batches_ < max_deferred_batches) {
      post_batches();
      return;
    }
    deferred_batches_ = 0;
    for (auto id : std::exchange(start_writing_, {})) {
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;
      it->second->batch_due = false;
      if (!it->second->writing) write(id, it->second);
    }
  }

  void queue(core::conn_id id, core::payload bytes) {
    auto it = connections_.find(id);
    if (it == connections_.end() || it->second->closing) return;
    auto& c = it->second;
    if (options_.log_wire) log("conn " + std::to_string(id) + " < " + core::printable(bytes));
    c->pending += bytes.size();
    total_pending_ += bytes.size();
    c->output.push_back(std::move(bytes));
    if (c->pending > options_.max_pending_output) {
      gone(id, "slow reader: more than " + std::to_string(options_.max_pending_output) + " bytes queued");
      return;
    }
    if (total_pending_ > options_.max_total_output) shed_slowest_readers();
    if (!c->writing && connections_.contains(id)) write_full_or_later(id, c);
  }

  // A full batch leaves now; less waits for the next round of batches. (A burst, every sender's window read
  // in one round, would otherwise hold all output until the round's last read is handled; and a completion
  // that wrote at once would send a message or two each time.)
  void write_full_or_later(core::conn_id id, const conn_ptr& c) {
    if (c->pending >= max_batch_bytes) write(id, c);
    else batch_later(id, *c);
  }

  // The output queued for all connections is over its bound: close the connections with the most queued
  // until it is under again (the newest output may well be for a fast reader). The slowest reader is the one
  // with the most output waiting behind its write: a fast reader's batch in flight is usually in the kernel
  // already, its completion not yet run.
  void shed_slowest_readers() {
    auto waiting = [](const conn_ptr& c) { return std::pair(c->pending - c->in_flight_bytes, c->pending); };
    while (total_pending_ > options_.max_total_output) {
      auto slowest = std::max_element(connections_.begin(), connections_.end(), [&](const auto& a, const auto& b) {
        return waiting(a.second) < waiting(b.second);
      });
      if (slowest == connections_.end() || slowest->second->pending == 0) return;
      gone(slowest->first, "slowest reader (" + std::to_string(slowest->second->pending) +
                               " bytes queued) while the server's queued output was over " +
                               std::to_string(options_.max_total_output) + " bytes");
    }
  }

  // Forgets a connection and its queued output.
  void discard(std::map<core::conn_id, conn_ptr>::iterator it) {
    total_pending_ -= it->second->pending;
    it->second->pending = 0;
    connections_.erase(it);
  }

  // Hands everything queued (up to a bound) to the channel as one batch.
  void write(core::conn_id id, const conn_ptr& c) {
    if (c->output.empty()) {
      if (c->closing) finish(id);
      return;
    }
    c->writing = true;
    if (options_.write_timeout.count() > 0) {
      // A peer that stops reading makes the write hang; past the timeout the connection is ended.
      if (!c->write_timer) c->write_timer = std::make_unique<asio::steady_timer>(io_);
      c->write_timer->expires_after(options_.write_timeout);
      c->write_timer->async_wait([this, id, c](boost::system::error_code ec) {
        if (!ec && c->writing && connections_.contains(id)) gone(id, "write timed out");
      });
    }
    while (!c->output.empty() && c->in_flight.size() < max_batch_units && c->in_flight_bytes < max_batch_bytes) {
      c->in_flight_bytes += c->output.front().size();
      c->in_flight.push_back(std::move(c->output.front()));
      c->output.pop_front();
    }
    c->link->write(c->in_flight, [this, id, c](std::string error) {
      c->writing = false;
      if (c->write_timer) c->write_timer->cancel();
      if (!connections_.contains(id)) return;
      if (!error.empty()) {
        gone(id, "write failed: " + error);
        return;
      }
      c->pending -= c->in_flight_bytes;
      total_pending_ -= c->in_flight_bytes;
      c->in_flight_bytes = 0;
      c->in_flight.clear();
      if (c->output.empty()) write(id, c);  // nothing more: a closing connection is finished there
      else write_full_or_later(id, c);
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
    discard(it);
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
      settle_then_wake();
    });
  }

  // The hub judges timeouts (a fragment held too long, SSLM-FRAME-05) by what it has been given, so input
  // that reached the socket while a long loop turn kept the host busy must be read first, or the host's own
  // delay is blamed on the peer. An already-due timer completes in the next reactor round, and Asio's
  // reactor queues the sockets that round finds readable ahead of the timers it finds due.
  void settle_then_wake() {
    timer_.expires_at(clock_type::now());
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      scheduled_.reset();
      hub_.on_timer(clock_type::now(), out_);
      apply();
    });
  }

  // One batch: enough units that a burst goes out in one write, few enough that a connection's batch
  // never holds much beyond what the 4 MiB slow-reader bound lets it queue anyway.
  static constexpr std::size_t max_batch_units = 4096;
  static constexpr std::size_t max_batch_bytes = 64 * 1024;
  // Turns of the loop that start_batches waits at most while input keeps arriving.
  static constexpr std::size_t max_deferred_batches = 16;

  core::hub& hub_;
  core::actions out_;  // what the hub asks for, one list reused by every call (see apply)
  host_options options_;
  // Declared before io_ so that it outlives every handler io_ destroys.
  std::shared_ptr<net::read_buffer> read_buffer_ = std::make_shared<net::read_buffer>();
  std::shared_ptr<std::string> write_scratch_ = std::make_shared<std::string>();
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer timer_;
  std::optional<time_point> scheduled_;
  std::map<core::conn_id, conn_ptr> connections_;
  // WebSocket and TLS connections still in their handshake: they count against the limits, and stop() drops them.
  std::map<net::channel_ptr, handshake> handshaking_;
  std::uint64_t handshakes_ = 0;
  std::size_t total_pending_ = 0;  // queued output of every connection
  std::vector<core::conn_id> start_writing_;  // connections the hub queued output for since the last batch
  bool batches_posted_ = false;               // start_batches is due
  std::size_t reads_since_batches_ = 0;       // input handed to the hub since start_batches last looked
  std::size_t deferred_batches_ = 0;          // turns it has waited for input to stop
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
