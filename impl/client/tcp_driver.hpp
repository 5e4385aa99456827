// The I/O half of a parley-client over TCP, plain or TLS (itp, multiparty, sslmessager): one Asio thread
// owns the connection and the protocol's agent; command_input turns the user's lines into commands posted
// to it. The agent is a pure state machine with on_data/on_command/on_closed, and optionally on_open (the
// client speaks first) and next_wake/on_timer (it keeps timers). Agents with more inputs and outputs than a
// TCP stream (peerchat's UDP side) get an output hook and drive(), on the same io_context.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <deque>
#include <functional>
#include <iostream>
#include <optional>
#include <type_traits>

#include "impl/client/command_input.hpp"
#include "impl/client/common/event.hpp"
#include "impl/core/clock.hpp"
#include "impl/core/encoding.hpp"

namespace parley::client_main {

template <class Agent, class Output, bool Tls = false>
class tcp_driver {
public:
  using renderer = std::function<std::string(const client::event&)>;
  using socket_type = std::conditional_t<Tls, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>,
                                         boost::asio::ip::tcp::socket>;
  // TLS only: after the handshake, whether to go on with this server; "" or why not (a pin mismatch).
  using verifier = std::function<std::string(socket_type&)>;

  // `render` turns an event into the human form (empty: show nothing); script mode prints JSON lines.
  // `log_wire` shows each chunk on stderr, through `wire_text` (printable text, or hex for binary).
  tcp_driver(Agent& agent, bool script, bool log_wire, renderer render,
             std::function<std::string(std::string_view)> wire_text = core::printable)
      : agent_(agent),
        timer_(*io_),
        input_(io_, [this](const std::string& line) { command(line); }),
        script_(script),
        log_wire_(log_wire),
        render_(std::move(render)),
        wire_text_(std::move(wire_text)) {}

  // TLS only: set verification up here before run(); `verify` runs after the handshake.
  boost::asio::ssl::context& tls_context() { return tls_context_; }
  void on_handshake(verifier verify) { verify_ = std::move(verify); }

  // The local address to connect from (peerchat --bind); by default the OS chooses. Set before run().
  void bind_to(std::string address) { bind_address_ = std::move(address); }
  // The connection's local IP address once connected ("" before): where peerchat binds its UDP ports.
  std::string local_address() {
    boost::system::error_code ec;
    if (!socket_) return {};
    auto endpoint = lowest().local_endpoint(ec);
    return ec ? std::string{} : endpoint.address().to_string();
  }
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
    namespace asio = boost::asio;
    // Made here, not in the constructor: OpenSSL copies the context's verification settings into each
    // connection when it is created, so the caller's tls_context() changes must come first.
    if constexpr (Tls) socket_.emplace(*io_, tls_context_);
    else socket_.emplace(*io_);
    boost::system::error_code ec;
    asio::ip::tcp::resolver resolver(*io_);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    auto& tcp = lowest();
    if (!ec && bind_address_.empty()) asio::connect(tcp, endpoints, ec);
    else if (!ec) connect_from(tcp, endpoints, ec);
    if (ec) {
      emit({"error", {{"code", "connect"}, {"text", "cannot connect to " + host + ":" + std::to_string(port) + ": " + ec.message()}}, {}});
      return 1;
    }
    tcp.set_option(asio::ip::tcp::no_delay(true), ec);
    if constexpr (Tls) {
      SSL_set_tlsext_host_name(socket_->native_handle(), host.c_str());
      socket_->handshake(asio::ssl::stream_base::client, ec);
      std::string refused = ec ? "TLS handshake failed: " + ec.message() : verify_ ? verify_(*socket_) : "";
      if (!refused.empty()) {
        emit({"error", {{"code", "tls"}, {"text", "not connected to " + host + ":" + std::to_string(port) + ": " + refused}}, {}});
        return 1;
      }
    }
    if constexpr (requires(Output& out) { agent_.on_open(out); }) {
      Output out;
      agent_.on_open(out);
      apply(out);
    }
    read();
    input_.start(script_path);
    io_->run();
    return 0;
  }

private:
  // asio::connect reopens the socket for each endpoint, which would lose a bind: try them one by one.
  void connect_from(boost::asio::ip::tcp::socket& tcp, const boost::asio::ip::tcp::resolver::results_type& endpoints,
                    boost::system::error_code& ec) {
    namespace asio = boost::asio;
    auto local = asio::ip::make_address(bind_address_, ec);
    if (ec) return;
    ec = asio::error::address_family_not_supported;  // when no endpoint has the local address's family
    for (const auto& entry : endpoints) {
      boost::system::error_code ignored;
      tcp.close(ignored);
      if (entry.endpoint().protocol() != (local.is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6())) continue;
      tcp.open(entry.endpoint().protocol(), ec);
      if (!ec) tcp.bind({local, 0}, ec);
      if (!ec) tcp.connect(entry.endpoint(), ec);
      if (!ec) return;
    }
  }

  boost::asio::ip::tcp::socket& lowest() {
    if constexpr (Tls) return socket_->next_layer();
    else return *socket_;
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
      output_.push_back(std::move(chunk));
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

  void flush() {
    if (writing_) return;
    if (output_.empty()) {
      if (closing_) finish();
      return;
    }
    writing_ = true;
    // One async_write per unit: over TLS, one record per message (sslmessager's SSLM-FRAME-02).
    boost::asio::async_write(*socket_, boost::asio::buffer(output_.front()),
                             [this](boost::system::error_code ec, std::size_t) {
                               writing_ = false;
                               if (ec) return finish();
                               output_.pop_front();
                               flush();
                             });
  }

  void read() {
    socket_->async_read_some(boost::asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t n) {
      Output out;
      if (ec) {
        agent_.on_closed(out);
        apply(out);
        return finish();
      }
      if (log_wire_) std::cerr << "> " << wire_text_({buffer_.data(), n}) << "\n";
      if constexpr (requires { agent_.on_data(std::string_view{}, clock_type::now(), out); })
        agent_.on_data({buffer_.data(), n}, clock_type::now(), out);
      else
        agent_.on_data({buffer_.data(), n}, out);
      apply(out);
      if (!agent_.finished()) read();
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

  void finish() {
    if (finished_) return;
    finished_ = true;
    boost::system::error_code ignored;
    lowest().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    lowest().close(ignored);
    timer_.cancel();
    input_.stop();
    io_->stop();
  }

  Agent& agent_;
  std::shared_ptr<boost::asio::io_context> io_ = std::make_shared<boost::asio::io_context>();
  boost::asio::ssl::context tls_context_{boost::asio::ssl::context::tls_client};
  std::optional<socket_type> socket_;
  verifier verify_;
  boost::asio::steady_timer timer_;
  command_input input_;
  std::array<char, 4096> buffer_{};
  std::deque<std::string> output_;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool script_;
  bool log_wire_;
  renderer render_;
  std::function<std::string(std::string_view)> wire_text_;
  std::string bind_address_;
  std::function<void(Output&)> output_hook_;
};

}  // namespace parley::client_main
