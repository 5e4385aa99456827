// Fuzzes the sslmessager hub with four virtual connections and a virtual clock. Passwords are compared
// cheaply (hub_options::verify) so that fuzzing reaches relaying, CHECK and the error paths; the KDF has
// its own tests.
//
// Input: the first byte picks a planted fault (0: none), then records [op:1][conn:1][len:2 big-endian]:
//   op % 5 = 0 connect conn % 4      1 len payload bytes on conn % 4      2 the peer closes
//            3 time passes: len * 7 ms   4 a login: payload[0] % 4 picks aaa, bbb, ccc or an unknown name,
//              payload[1] odd: a wrong password
// Invariants: nothing is sent to a closed connection; every line the hub writes is one of the server's
// messages ending in " \r\n"; the hub's connections are exactly the open ones; online users are at most
// the open connections.
#include <array>
#include <cstdint>
#include <map>
#include <set>

#include "fuzz/check.hpp"
#include "fuzz/hub_records.hpp"
#include "impl/server/sslmessager/hub.hpp"

namespace {

using namespace parley;
using namespace parley::sslmessager;

constexpr int connections = 4;
constexpr const char* names[] = {"aaa", "bbb", "ccc", "zed"};

struct harness {
  hub h;
  bool sloppy_terminator;
  std::array<bool, connections> open{};
  std::array<core::conn_id, connections> id{};
  std::set<core::conn_id> closed;
  core::conn_id next_id = 1;
  time_point now{};

  explicit harness(hub_options options) : h(options), sloppy_terminator(options.planted == fault::no_trailing_space) {}

  void apply(core::actions& out) {
    for (auto& action : out.take()) {
      if (auto* send = std::get_if<core::send_action>(&action)) {
        PARLEY_FUZZ_CHECK(!closed.contains(send->conn), "sent to a closed connection");
        const std::string& line = send->bytes;
        std::string_view end = sloppy_terminator ? "\r\n" : " \r\n";
        PARLEY_FUZZ_CHECK(line.size() > end.size() && line.ends_with(end), "a line does not end in ' \\r\\n'");
        std::string content = line.substr(0, line.size() - end.size());
        PARLEY_FUZZ_CHECK(content.find_first_of("\r\n") == std::string::npos, "a line holds a CR or LF");
        PARLEY_FUZZ_CHECK(!std::holds_alternative<server_msg::unknown>(parse_server(content)),
                          "the hub wrote a line that is not a server message");
        PARLEY_FUZZ_CHECK(line.size() <= max_message, "the hub wrote a line over 4096 bytes");
      } else if (auto* close = std::get_if<core::close_action>(&action)) {
        auto conn = close->conn;
        closed.insert(conn);
        for (int c = 0; c < connections; ++c)
          if (id[c] == conn) open[c] = false;
      }
    }
  }

  void check_state() {
    std::size_t live = 0;
    for (bool o : open) live += o;
    PARLEY_FUZZ_CHECK(h.connection_count() == live, "the hub's connections differ from the open ones");
    PARLEY_FUZZ_CHECK(h.online_count() <= live || options_keep_names, "more users online than connections");
  }
  bool options_keep_names = false;
};

const std::map<std::string, user_entry>& users() {
  static const auto made = [] {
    std::map<std::string, user_entry> u;
    for (const char* name : {"aaa", "bbb", "ccc"}) u[name] = user_entry{name, {}, bytes(16, 1), bytes(32, 2)};
    return u;
  }();
  return made;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto faults = all_faults();
  hub_options options{.users = users(), .check_interval = millis(1000), .login_timeout = millis(5000)};
  options.verify = [](const user_entry&, std::string_view password) { return password == "123"; };
  if (auto planted = fuzz::planted_fault(data, size, faults)) options.planted = *planted;
  harness h(options);
  h.options_keep_names = options.planted == fault::keep_name_after_drop || options.planted == fault::accept_second_login;

  fuzz::hub_records records(data, size, 5, connections, [](int op) { return op == 1 || op == 4; });
  while (auto r = records.next()) {
    int op = r->op;
    int conn = r->conn;
    std::size_t len = r->len;
    std::string_view payload = r->payload;
    core::actions out;
    if (op == 0 && !h.open[conn]) {
      h.id[conn] = h.next_id++;
      h.open[conn] = true;
      h.h.on_connect(h.id[conn], "fuzz", h.now, out);
    } else if (op == 1 && h.open[conn]) {
      h.h.on_data(h.id[conn], payload, h.now, out);
    } else if (op == 2 && h.open[conn]) {
      h.open[conn] = false;
      h.closed.insert(h.id[conn]);
      h.h.on_close(h.id[conn], h.now, out);
    } else if (op == 3) {
      h.now += millis(static_cast<long long>(len) * 7);
      fuzz::fire_due_timers(h.h, h.now, out);
    } else if (op == 4 && h.open[conn] && payload.size() >= 2) {
      std::string line = wire(std::string("AUTH ") + names[static_cast<unsigned char>(payload[0]) % 4] + " " +
                              ((payload[1] & 1) ? "124" : "123"));
      h.h.on_data(h.id[conn], line, h.now, out);
    }
    h.apply(out);
    h.check_state();
  }
  return 0;
}
