// What the multiparty adapter knows about one connection, and how it turns MTP frames into text a case
// can match: "<type> sid=<hex> uid=<hex> | <payload, escaped>". The engine plays a client (server-role
// cases) or the server (client-role cases); either way it opens what it receives with the keys it
// negotiated and checks the sqn, so a case sees a frame only when it authenticated in order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conformance/engine/adapter.hpp"
#include "impl/proto/multiparty/login.hpp"

namespace parley::conform::mp {

using multiparty::direction;
using multiparty::user_id;

struct connection_state {
  bool engine_is_server = false;
  bool keyed = false;  // session keys are in place
  bytes in_key, out_key;
  std::uint16_t last_in = 0, last_out = 0;
  user_id uid = 0;  // the user the engine logged in as (server-role)
  // Server-role: the login_req in flight, so that its login_res can be opened.
  std::optional<multiparty::login_secrets> pending_login;
  std::vector<multiparty::directory_entry> directory;  // from the login_res
  // Client-role: the client's login_req as opened with the engine's server key.
  std::optional<multiparty::login_request> client_login;
  bytes client_login_frame;

  direction out_direction() const { return engine_is_server ? direction::to_client : direction::to_server; }
  direction in_direction() const { return engine_is_server ? direction::to_server : direction::to_client; }
};

// Cuts frames by len and renders each. A len below 36 ends the stream as a framing error.
class frame_text final : public message_framer {
public:
  explicit frame_text(const core::pkey* server_private) : server_private_(server_private) {}
  void feed(std::string_view bytes) override { reader_.feed(as_bytes(bytes)); }
  std::optional<std::string> next(std::string& error) override;
  bool renders_printable() const override { return true; }
  connection_state& state() { return state_; }

private:
  std::string render(const bytes& frame);
  const core::pkey* server_private_;  // the engine's server key, for a client's login_req
  multiparty::frame_reader reader_;
  connection_state state_;
};

// Payload bytes as case text: printable ASCII as is, backslash doubled, \n \r \t, else \xNN.
std::string escape(std::string_view payload);
std::string type_text(std::uint16_t type);
// A type by name (init_req ...) or number (0x0700, 1792); nullopt when neither.
std::optional<std::uint16_t> type_from_text(const std::string& text);

// A frame built the way a case asks, honest or not. `len_delta` changes len after it is computed (the
// tag covers the header as sent, so the frame is well formed apart from its length); `bad_tag` flips a
// tag bit.
struct frame_spec {
  multiparty::header h;
  std::string payload;
  int len_delta = 0;
  bool bad_tag = false;
  bytes trailer;
};
bytes build_frame(byte_view key, direction d, frame_spec spec);

}  // namespace parley::conform::mp
