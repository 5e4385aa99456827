// The user's side of every parley-client driver: a reader thread turns lines of a terminal or a script
// into commands on the driver's io_context, where they run in order; `/sleep MS` holds back the ones after
// it (scripts need pauses, not races). End of input means `/quit`. Includes Asio: parley-client only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace parley::client_main {

class command_input {
public:
  // `run` is called on the io_context's thread with each command other than /sleep.
  command_input(std::shared_ptr<boost::asio::io_context> io, std::function<void(const std::string&)> run);

  // Starts the reader on the script file, or on standard input for "" and "-". The reader owns what it
  // reads and shares the io_context, because it outlives the driver: it may stay blocked on a terminal,
  // or post its last command after the session ended; once the io_context has stopped, posts never run.
  void start(const std::string& script_path);
  void stop() { timer_.cancel(); }

private:
  void enqueue(std::string line);
  void drain();

  std::shared_ptr<boost::asio::io_context> io_;
  std::function<void(const std::string&)> run_;
  boost::asio::steady_timer timer_;
  std::deque<std::string> commands_;
  bool sleeping_ = false;
};

}  // namespace parley::client_main
