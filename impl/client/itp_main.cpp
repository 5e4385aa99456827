// parley-client itp: drives the itp agent over TCP. One Asio thread owns the socket and the agent; a
// reader thread turns standard input into commands posted to it.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <nlohmann/json.hpp>

#include <deque>
#include <fstream>
#include <iostream>

#include "impl/client/command_input.hpp"
#include "impl/client/itp/agent.hpp"
#include "impl/client/programs.hpp"
#include "impl/core/key_store.hpp"
#include "impl/core/encoding.hpp"

namespace parley::client_main {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Control characters from the network must not reach the user's terminal as escape sequences.
std::string printable(std::string_view text) { return core::printable(text); }

std::string render_human(const itp::event& e) {
  auto f = [&](const char* name) { return printable(e.field(name)); };
  if (e.type == "connected") return "* connected: " + f("text");
  if (e.type == "logged_in") return "* logged in as " + f("name") + " (key " + f("fingerprint").substr(0, 16) + ")";
  if (e.type == "joined") return "* " + f("name") + " joined";
  if (e.type == "left") return "* " + f("name") + " left";
  if (e.type == "broadcast") return "<" + f("from") + "> " + f("text");
  if (e.type == "pm")
    return "[pm from " + f("from") + (e.field("authenticated") == "true" ? "" : ", UNAUTHENTICATED legacy") + "] " +
           f("text");
  if (e.type == "pubkey") return "* key of " + f("name") + ": " + f("fingerprint");
  if (e.type == "key_changed") return "! WARNING: the key of " + f("name") + " changed to " + f("fingerprint");
  if (e.type == "users") {
    std::string list;
    for (const auto& n : e.list) list += (list.empty() ? "" : ", ") + printable(n);
    return "* online: " + list;
  }
  if (e.type == "error") return "! " + f("code") + " " + f("text");
  if (e.type == "disconnected") return "* disconnected: " + f("reason");
  if (e.type == "goodbye") return "* goodbye";
  if (e.type == "help") return f("text");
  if (e.type == "unknown") return "? " + f("line");
  return {};  // broadcast_sent, pm_sent, ping: the user already knows
}

class driver {
public:
  driver(itp::agent& agent, bool script, bool log_wire)
      : agent_(agent),
        socket_(*io_),
        input_(io_, [this](const std::string& line) { command(line); }),
        script_(script),
        log_wire_(log_wire) {}

  int run(const std::string& host, unsigned short port, const std::string& script_path) {
    boost::system::error_code ec;
    tcp::resolver resolver(*io_);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (!ec) asio::connect(socket_, endpoints, ec);
    if (ec) {
      emit({"error", {{"code", "connect"}, {"text", "cannot connect to " + host + ":" + std::to_string(port) + ": " + ec.message()}}, {}});
      return 1;
    }
    socket_.set_option(tcp::no_delay(true), ec);
    read();
    input_.start(script_path);
    io_->run();
    return exit_code_;
  }

private:
  void emit(const itp::event& e) {
    std::string text = script_ ? client::to_json_line(e) : render_human(e);
    if (!text.empty()) std::cout << text << std::endl;
  }

  void apply(itp::agent_output& out) {
    for (auto& e : out.events) emit(e);
    for (auto& line : out.sends) {
      if (log_wire_) std::cerr << "< " << printable(line) << "\n";
      output_.push_back(std::move(line));
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
    asio::async_write(socket_, asio::buffer(output_.front()), [this](boost::system::error_code ec, std::size_t) {
      writing_ = false;
      if (ec) return finish();
      output_.pop_front();
      flush();
    });
  }

  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t n) {
      itp::agent_output out;
      if (ec) {
        agent_.on_closed(out);
        apply(out);
        return finish();
      }
      if (log_wire_) std::cerr << "> " << printable({buffer_.data(), n}) << "\n";
      agent_.on_data({buffer_.data(), n}, out);
      apply(out);
      if (!agent_.finished()) read();
    });
  }

  void command(const std::string& line) {
    itp::agent_output out;
    agent_.on_command(line, out);
    apply(out);
  }

  void finish() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    input_.stop();
    io_->stop();
  }

  itp::agent& agent_;
  std::shared_ptr<asio::io_context> io_ = std::make_shared<asio::io_context>();
  tcp::socket socket_;
  command_input input_;
  std::array<char, 4096> buffer_{};
  std::deque<std::string> output_;
  bool writing_ = false;
  bool closing_ = false;
  bool script_;
  bool log_wire_;
  int exit_code_ = 0;
};

}  // namespace

int run_itp(const cli::args& args) {
  auto name = args.get("--name");
  if (!name) throw cli::usage_error("--name is required");
  core::pkey key;
  if (auto path = args.get("--key")) {
    auto pem = core::read_file(*path);
    if (!pem) throw cli::usage_error("cannot read --key " + *path);
    auto loaded = core::pkey::from_private_pem(*pem);
    if (!loaded || loaded->type() != core::key_type::rsa) throw cli::usage_error("--key must be a private RSA key in PEM");
    key = std::move(*loaded);
  } else {
    key = *core::pkey::generate_rsa(2048);
  }
  itp::agent agent({.name = *name, .key = std::move(key)});
  std::string script = args.get_or("--script", "");
  if (!script.empty() && script != "-" && !std::ifstream(script))
    throw cli::usage_error("cannot read --script " + script);
  driver d(agent, !script.empty(), args.has("--log-wire"));
  auto port = static_cast<unsigned short>(args.number("--port", 1337, 1, 65535));
  int code = d.run(args.get_or("--host", "127.0.0.1"), port, script);
  std::cout.flush();
  // A refused login or a lost connection is a failure for scripts; a QUIT answered by the server is not.
  return code != 0 ? code : (agent.logged_in() ? 0 : 1);
}

}  // namespace parley::client_main
