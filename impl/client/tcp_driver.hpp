// The I/O half of a parley-client over plain TCP (itp, multiparty): one Asio thread owns the socket and
// the protocol's agent; command_input turns the user's lines into commands posted to it. The agent is a
// pure state machine with on_data/on_command/on_closed (and, when the client speaks first, on_open).
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <deque>
#include <functional>
#include <iostream>

#include "impl/client/command_input.hpp"
#include "impl/client/common/event.hpp"
#include "impl/core/encoding.hpp"

namespace parley::client_main {

template <class Agent, class Output>
class tcp_driver {
public:
  using renderer = std::function<std::string(const client::event&)>;

  // `render` turns an event into the human form (empty: show nothing); script mode prints JSON lines.
  // `log_wire` shows each chunk on stderr, through `wire_text` (printable text, or hex for binary).
  tcp_driver(Agent& agent, bool script, bool log_wire, renderer render,
             std::function<std::string(std::string_view)> wire_text = core::printable)
      : agent_(agent),
        socket_(*io_),
        input_(io_, [this](const std::string& line) { command(line); }),
        script_(script),
        log_wire_(log_wire),
        render_(std::move(render)),
        wire_text_(std::move(wire_text)) {}

  // Returns 1 when the connection could not be made, else 0 when the session ends.
  int run(const std::string& host, unsigned short port, const std::string& script_path) {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    asio::ip::tcp::resolver resolver(*io_);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (!ec) asio::connect(socket_, endpoints, ec);
    if (ec) {
      emit({"error", {{"code", "connect"}, {"text", "cannot connect to " + host + ":" + std::to_string(port) + ": " + ec.message()}}, {}});
      return 1;
    }
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
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
  void emit(const client::event& e) {
    std::string text = script_ ? client::to_json_line(e) : render_(e);
    if (!text.empty()) std::cout << text << std::endl;
  }

  void apply(Output& out) {
    for (auto& e : out.events) emit(e);
    for (auto& chunk : out.sends) {
      if (log_wire_) std::cerr << "< " << wire_text_(chunk) << "\n";
      output_.push_back(std::move(chunk));
    }
    if (out.close) closing_ = true;
    flush();
  }

  void flush() {
    if (writing_) return;
    if (output_.empty()) {
      if (closing_) finish();
      return;
    }
    writing_ = true;
    boost::asio::async_write(socket_, boost::asio::buffer(output_.front()),
                             [this](boost::system::error_code ec, std::size_t) {
                               writing_ = false;
                               if (ec) return finish();
                               output_.pop_front();
                               flush();
                             });
  }

  void read() {
    socket_.async_read_some(boost::asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t n) {
      Output out;
      if (ec) {
        agent_.on_closed(out);
        apply(out);
        return finish();
      }
      if (log_wire_) std::cerr << "> " << wire_text_({buffer_.data(), n}) << "\n";
      agent_.on_data({buffer_.data(), n}, out);
      apply(out);
      if (!agent_.finished()) read();
    });
  }

  void command(const std::string& line) {
    Output out;
    agent_.on_command(line, out);
    apply(out);
  }

  void finish() {
    boost::system::error_code ignored;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    input_.stop();
    io_->stop();
  }

  Agent& agent_;
  std::shared_ptr<boost::asio::io_context> io_ = std::make_shared<boost::asio::io_context>();
  boost::asio::ip::tcp::socket socket_;
  command_input input_;
  std::array<char, 4096> buffer_{};
  std::deque<std::string> output_;
  bool writing_ = false;
  bool closing_ = false;
  bool script_;
  bool log_wire_;
  renderer render_;
  std::function<std::string(std::string_view)> wire_text_;
};

}  // namespace parley::client_main
