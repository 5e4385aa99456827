#include "impl/client/command_input.hpp"

#include <boost/asio/post.hpp>

#include <fstream>
#include <iostream>
#include <thread>

namespace parley::client_main {

command_input::command_input(std::shared_ptr<boost::asio::io_context> io, std::function<void(const std::string&)> run)
    : io_(std::move(io)), run_(std::move(run)), timer_(*io_) {}

void command_input::start(const std::string& script_path) {
  std::thread reader([this, io = io_, script_path] {
    std::ifstream file;
    if (!script_path.empty() && script_path != "-") file.open(script_path);
    std::istream& input = file.is_open() ? static_cast<std::istream&>(file) : std::cin;
    std::string line;
    while (std::getline(input, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      boost::asio::post(*io, [this, line] { enqueue(line); });
    }
    boost::asio::post(*io, [this] { enqueue("/quit"); });  // end of input: leave politely
  });
  reader.detach();  // the process exits without waiting for it
}

void command_input::enqueue(std::string line) {
  commands_.push_back(std::move(line));
  if (!sleeping_) drain();
}

void command_input::drain() {
  while (!commands_.empty() && !sleeping_) {
    std::string line = std::move(commands_.front());
    commands_.pop_front();
    if (line.starts_with("/sleep")) {
      long ms = std::strtol(line.c_str() + 6, nullptr, 10);
      sleeping_ = true;
      timer_.expires_after(std::chrono::milliseconds(std::max(0L, ms)));
      timer_.async_wait([this](boost::system::error_code) {
        sleeping_ = false;
        drain();
      });
      return;
    }
    run_(line);
  }
}

}  // namespace parley::client_main
