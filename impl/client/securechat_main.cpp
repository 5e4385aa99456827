// parley-client securechat: drives the securechat agent over WebSocket (Beast). One Asio thread owns the
// connection and the agent; a reader thread turns standard input into commands posted to it.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <fstream>
#include <iostream>

#include "impl/client/command_input.hpp"
#include "impl/client/programs.hpp"
#include "impl/client/securechat/agent.hpp"
#include "impl/core/encoding.hpp"
#include "impl/core/key_store.hpp"
#include "impl/proto/securechat/message.hpp"

namespace parley::client_main {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;

namespace {

std::string render_human(const client::event& e) {
  auto f = [&](const char* name) { return core::printable(e.field(name)); };
  if (e.type == "users") {
    std::string list;
    for (const auto& n : e.list) list += (list.empty() ? "" : ", ") + core::printable(n);
    return (e.field("reason") == "welcome" ? "* welcome, " + f("name") + "; online: " : "* online: ") + list;
  }
  if (e.type == "joined") return "* " + f("name") + " joined (key " + f("fingerprint").substr(0, 16) + ")";
  if (e.type == "key_changed") return "! WARNING: the key of " + f("name") + " changed to " + f("fingerprint");
  if (e.type == "left") return "* " + f("name") + " left";
  if (e.type == "public") return "<" + f("from") + (e.field("known") == "true" ? "" : " (unknown!)") + "> " + f("text");
  if (e.type == "private") return "[private from " + f("from") + "] " + f("text");
  if (e.type == "key") return "* " + f("name") + ": " + f("fingerprint");
  if (e.type == "error") return "! " + f("text");
  if (e.type == "disconnected") return "* disconnected: " + f("reason");
  if (e.type == "goodbye") return "* goodbye";
  if (e.type == "help") return f("text");
  if (e.type == "unknown") return "? " + f("problem") + ": " + f("message");
  return {};  // private_sent: the user already knows
}

class ws_driver {
public:
  ws_driver(securechat::agent& agent, bool script, bool log_wire)
      : agent_(agent),
        ws_(*io_),
        close_timer_(*io_),
        input_(io_, [this](const std::string& line) { command(line); }),
        script_(script),
        log_wire_(log_wire) {}

  int run(const std::string& host, unsigned short port, const std::string& script_path) {
    boost::system::error_code ec;
    tcp::resolver resolver(*io_);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (!ec) asio::connect(ws_.next_layer(), endpoints, ec);
    if (!ec) ws_.handshake(host + ":" + std::to_string(port), "/", ec);
    if (ec) {
      emit({"error", {{"code", "connect"}, {"text", "cannot connect to ws://" + host + ":" + std::to_string(port) + "/: " + ec.message()}}, {}});
      return 1;
    }
    ws_.text(true);
    ws_.read_message_max(4 * securechat::max_message_bytes);  // a Welcome of many users is large
    securechat::agent_output out;
    agent_.on_open(out);
    apply(out);
    read();
    input_.start(script_path);
    io_->run();
    return 0;
  }

private:
  void emit(const client::event& e) {
    std::string text = script_ ? client::to_json_line(e) : render_human(e);
    if (!text.empty()) std::cout << text << std::endl;
  }

  void apply(securechat::agent_output& out) {
    for (auto& e : out.events) emit(e);
    for (auto& message : out.sends) {
      if (log_wire_) std::cerr << "< " << core::printable(message) << "\n";
      output_.push_back(std::move(message));
    }
    if (out.close) closing_ = true;
    flush();
  }

  void flush() {
    if (writing_ || finished_) return;
    if (output_.empty()) {
      if (closing_) close();
      return;
    }
    writing_ = true;
    ws_.async_write(asio::buffer(output_.front()), [this](boost::system::error_code ec, std::size_t) {
      writing_ = false;
      if (ec) return finish();
      output_.pop_front();
      flush();
    });
  }

  void read() {
    buffer_.clear();
    ws_.async_read(buffer_, [this](boost::system::error_code ec, std::size_t) {
      securechat::agent_output out;
      if (ec) {
        agent_.on_closed(out);
        apply(out);
        return finish();
      }
      auto data = buffer_.cdata();
      std::string_view text(static_cast<const char*>(data.data()), data.size());
      if (log_wire_) std::cerr << "> " << core::printable(text) << "\n";
      agent_.on_message(text, out);
      apply(out);
      if (!finished_) read();
    });
  }

  void command(const std::string& line) {
    securechat::agent_output out;
    agent_.on_command(line, out);
    apply(out);
  }

  // After LeaveMessage: a close frame, then wait (bounded) for the server's, as RFC 6455 asks.
  void close() {
    if (finished_ || close_sent_) return;
    close_sent_ = true;
    close_timer_.expires_after(std::chrono::seconds(2));
    close_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) finish();
    });
    ws_.async_close(websocket::close_code::normal, [this](boost::system::error_code) { finish(); });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
    close_timer_.cancel();
    input_.stop();
    io_->stop();
  }

  securechat::agent& agent_;
  std::shared_ptr<asio::io_context> io_ = std::make_shared<asio::io_context>();
  websocket::stream<tcp::socket> ws_;
  asio::steady_timer close_timer_;  // bounds the wait for the server's close frame
  command_input input_;
  beast::flat_buffer buffer_;
  std::deque<std::string> output_;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool finished_ = false;
  bool script_;
  bool log_wire_;
};

}  // namespace

int run_securechat(const cli::args& args) {
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(securechat::all_client_faults());
    return 0;
  }
  auto name = args.get("--name");
  if (!name) throw cli::usage_error("--name is required");
  auto path = args.get("--key");
  if (!path) throw cli::usage_error("securechat needs --key PEM, the user's private RSA key (make one with parley-conform keys)");
  auto pem = core::read_file(*path);
  if (!pem) throw cli::usage_error("cannot read --key " + *path);
  auto key = core::pkey::from_private_pem(*pem);
  if (!key || key->type() != core::key_type::rsa) throw cli::usage_error("--key must be a private RSA key in PEM");
  securechat::agent_options options{.name = *name, .key = std::move(*key)};
  if (auto fault = args.get("--fault")) {
    auto found = securechat::client_fault_from_name(*fault);
    if (!found) throw cli::usage_error("unknown --fault '" + *fault + "' (--list-faults shows them)");
    options.fault = *found;
  }
  securechat::agent agent(std::move(options));
  std::string script = args.get_or("--script", "");
  if (!script.empty() && script != "-" && !std::ifstream(script))
    throw cli::usage_error("cannot read --script " + script);
  ws_driver d(agent, !script.empty(), args.has("--log-wire"));
  auto port = static_cast<unsigned short>(args.number("--port", securechat::default_port, 1, 65535));
  int code = d.run(args.get_or("--host", "127.0.0.1"), port, script);
  std::cout.flush();
  // A refused join or a lost connection is a failure for scripts; a /quit after the Welcome is not.
  return code != 0 ? code : (agent.welcomed() ? 0 : 1);
}

}  // namespace parley::client_main
