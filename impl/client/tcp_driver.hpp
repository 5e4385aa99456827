// The I/O half of a parley-client: one Asio thread owns the connection (an impl/net channel over TCP, TLS
// or WebSocket) and the protocol's agent; command_input turns the user's lines into commands posted to it.
// The agent is a pure state machine with on_data (or on_message, one whole WebSocket message) /on_command/
// on_closed, and optionally on_open (the client speaks first) and next_wake/on_timer (it keeps timers).
// Agents with more inputs and outputs than one connection (peerchat's UDP side) get an output hook and
// drive(), on the same io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <iostream>
#include <memory>
#include <vector>

#include "impl/client/command_input.hpp"
#include "impl/client/common/event.hpp"
#include "impl/core/clock.hpp"
#include "impl/core/encoding.hpp"
#include "impl/core/payload.hpp"
#include "impl/net/channel.hpp"

namespace parley::client_main {

template <class Agent, class Output, bool Tls = false>
class tcp_driver {
public:
  using renderer = std::function<std::string(const client::event&)>;
  // TLS only: after the handshake, whether to go on with this server; "" or why not (a pin mismatch).
  using verifier = std::function<std::string(ssl_st* session)>;

  // `render` turns an event into the human form (empty: show nothing); script mode prints JSON lines.
  // `log_wire` shows each chunk on stderr, through `wire_text` (printable text, or hex for binary).
  tcp_driver(Agent& agent, bool script, bool log_wire, renderer render,
             std::function<std::string(std::string_view)> wire_text = core::printable)
      : agent_(agent),
        timer_(*io_),
        close_timer_(*io_),
        input_(io_, [this](const std::string& line) { command(line); }),
        script_(script),
        log_wire_(log_wire),
        render_(std::move(render)),
        wire_text_(std::move(wire_text)) {}

  // TLS only: set verification up here before run(); `verify` runs after the handshake.
  boost::asio::ssl::context& tls_context() { return *tls_context_; }
  void on_handshake(verifier verify) { verify_ = std::move(verify); }
  // WebSocket (securechat): the upgrade asks for `target`; a server message over `max_message` bytes ends
  // the connection. Set before run().
  void use_websocket(std::string target, std::size_t max_message) {
    ws_target_ = std::move(target);
    ws_max_message_ = max_message;
  }

  // The local address to connect from (peerchat --bind); by default the OS chooses. Set before run().
  void bind_to(std::string address) { bind_address_ = std::move(address); }
  // The connection's local IP address once connected ("" before): where peerchat binds its UDP ports.
  const std::string& local_address() const { return local_address_; }
  boost::asio::io_context& io() { return *io_; }
  // Sees every output of the agent before its events and sends are applied (peerchat: UDP requests).
  void on_output(std::function<void(Output&)> hook) { output_hook_ = std::move(hook); }
  // Runs f(agent, out) now and applies its output; for inputs the driver itself does not know. Call it
  // on the io_context's thread, never from inside the output hook (post it instead).
  template <class F>
  void drive(F&& f) {
    if (finished_) return;
    Output out;
    f(agent_, out);
    apply(out);
  }

  // Returns 1 when the connection could not be made (or the server not trusted), else 0 when it ends.
  int run(const std::string& host, unsigned short port, const std::string& script_path) {
    std::string where = (websocket() ? "ws://" : "") + host + ":" + std::to_string(port) + (websocket() ? ws_target_ : "");
    boost::system::error_code ec;
    auto socket = net::connect_socket(*io_, host, port, bind_address_, ec);
    if (ec) {
      emit({"error", {{"code", "connect"}, {"text", "cannot connect to " + where + ": " + ec.message()}}, {}});
      return 1;
    }
    auto local = socket.local_endpoint(ec);
    if (!ec) local_address_ = local.address().to_string();
    script_path_ = script_path;
    auto ready = [this, where](net::channel_ptr link, std::string why) {
      std::string refused = why;
      if (refused.empty() && verify_) refused = verify_(link->tls_session());
      if (!refused.empty()) {
        emit({"error", {{"code", Tls ? "tls" : "connect"}, {"text", (Tls ? "not connected to " : "cannot connect to ") + where + ": " + refused}}, {}});
        failed_ = true;
        link->drop();
        return finish();
      }
      channel_ = std::move(link);
      started();
    };
    if (websocket())
      handshaking_ = net::open_ws_client_channel(std::move(socket), host + ":" + std::to_string(port), ws_target_,
                                                 ws_max_message_, ready);
    else if constexpr (Tls)
      handshaking_ = net::open_tls_client_channel(std::move(socket), tls_context_, read_buffer_, host, ready);
    else
      net::open_tcp_channel(std::move(socket), read_buffer_, write_scratch_, ready);
    io_->run();
    return failed_ ? 1 : 0;
  }

private:
  bool websocket() const { return !ws_target_.empty(); }

  // The connection is up (and trusted): the agent may speak first, then input flows both ways.
  void started() {
    handshaking_.reset();
    if constexpr (requires(Output& out) { agent_.on_open(out); }) {
      Output out;
      agent_.on_open(out);
      apply(out);
    }
    read();
    input_.start(script_path_);
  }

  void emit(const client::event& e) {
    std::string text = script_ ? client::to_json_line(e) : render_(e);
    if (!text.empty()) std::cout << text << std::endl;
  }

  void apply(Output& out) {
    if (output_hook_) output_hook_(out);
    for (auto& e : out.events) emit(e);
    for (auto& chunk : out.sends) {
      if (log_wire_) std::cerr << "< " << wire_text_(chunk) << "\n";
      output_.emplace_back(std::move(chunk));
    }
    if (out.close) closing_ = true;
    flush();
    schedule();
  }

  // Agents with timers (fragments of a line, a bounded wait) are woken when they ask to be.
  void schedule() {
    if constexpr (requires { agent_.next_wake(); }) {
      auto wake = agent_.next_wake();
      if (!wake || finished_) return;
      timer_.expires_at(*wake);
      timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || finished_) return;
        Output out;
        agent_.on_timer(clock_type::now(), out);
        apply(out);
      });
    }
  }

  // Everything the agent queued goes in one write of the channel: over TLS one record per unit (sslmessager's
  // SSLM-FRAME-02), over WebSocket one message per unit.
  void flush() {
    if (writing_ || finished_ || !channel_) return;
    if (output_.empty()) {
      if (closing_) close();
      return;
    }
    writing_ = true;
    batch_.swap(output_);
    channel_->write(batch_, [this](std::string error) {
      writing_ = false;
      batch_.clear();
      if (!error.empty()) return finish();
      flush();
    });
  }

  void read() {
    channel_->read([this](std::optional<std::string_view> data, std::string) {
      if (finished_) return;
      Output out;
      if (!data) {
        if (close_sent_) return finish();  // the end of the close this side began
        agent_.on_closed(out);
        apply(out);
        return finish();
      }
      if (log_wire_) std::cerr << "> " << wire_text_(*data) << "\n";
      if constexpr (requires { agent_.on_message(std::string_view{}, out); })
        agent_.on_message(*data, out);
      else if constexpr (requires { agent_.on_data(std::string_view{}, clock_type::now(), out); })
        agent_.on_data(*data, clock_type::now(), out);
      else
        agent_.on_data(*data, out);
      apply(out);
      // A WebSocket stays read until its close is done; a stream agent that is finished reads no more.
      if (!finished_ && (websocket() || !agent_.finished())) read();
    });
  }

  void command(const std::string& line) {
    Output out;
    if constexpr (requires { agent_.on_command(line, clock_type::now(), out); })
      agent_.on_command(line, clock_type::now(), out);
    else
      agent_.on_command(line, out);
    apply(out);
  }

  // The agent is done and everything it sent has left. A WebSocket sends its close frame and waits (at most
  // 2 s) for the server's, as RFC 6455 asks; a stream just ends.
  void close() {
    if (!websocket()) return finish();
    if (close_sent_) return;
    close_sent_ = true;
    close_timer_.expires_after(std::chrono::seconds(2));
    close_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) finish();
    });
    channel_->finish();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    if (channel_) channel_->drop();
    if (handshaking_) handshaking_->drop();
    timer_.cancel();
    close_timer_.cancel();
    input_.stop();
    io_->stop();
  }

  Agent& agent_;
  std::shared_ptr<boost::asio::io_context> io_ = std::make_shared<boost::asio::io_context>();
  std::shared_ptr<boost::asio::ssl::context> tls_context_ =
      std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  verifier verify_;
  std::string ws_target_;
  std::size_t ws_max_message_ = 1 << 20;
  std::shared_ptr<net::read_buffer> read_buffer_ = std::make_shared<net::read_buffer>();
  std::shared_ptr<std::string> write_scratch_ = std::make_shared<std::string>();
  net::channel_ptr handshaking_;  // until the TLS or WebSocket handshake is done
  net::channel_ptr channel_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer close_timer_;  // bounds the wait for a WebSocket server's close frame
  command_input input_;
  std::vector<core::payload> output_, batch_;  // queued, and in the channel's hands
  std::string script_path_;
  std::string local_address_;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool finished_ = false;
  bool failed_ = false;
  bool script_;
  bool log_wire_;
  renderer render_;
  std::function<std::string(std::string_view)> wire_text_;
  std::string bind_address_;
  std::function<void(Output&)> output_hook_;
};

}  // namespace parley::client_main
