// What the multiparty adapter knows about one connection, and how it turns MTP frames into text a case
// can match: "<type> sid=<hex> uid=<hex> | <payload, escaped>". The engine plays a client (server-role
// cases) or the server (client-role cases); either way it opens what it receives with the keys it
// negotiated, so a case sees a frame only when it authenticated. Like a tolerant receiver it hands cases
// what it could read and reports a defect of form once, as a finding against its rule: a sqn that is not
// the previous + 1 (MP-MTP-07), a login_res whose header fields, request hash, grammar or directory uids
// are wrong (MP-LOGIN-13, MP-LOGIN-14, MP-DIR-01). One such defect is then one FAIL, not a FAIL of every
// case that reads a frame.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <utility>
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
  // Server-role: the login_reqs in flight, oldest first, so that each login_res is opened under the tk of
  // the request it answers (a fuzz session may send a second login_req before the first is answered).
  std::deque<multiparty::login_secrets> pending_logins;
  std::vector<multiparty::directory_entry> directory;  // from the login_res
  // Client-role: the client's login_req as opened with the engine's server key.
  std::optional<multiparty::login_request> client_login;
  bytes client_login_frame;
  // Server-role: the rule a login_res broke when it could not be used at all (it did not open under tk,
  // was of another type, or gave no server_random to derive keys from); "" otherwise.
  std::string login_refused;

  direction out_direction() const { return engine_is_server ? direction::to_client : direction::to_server; }
  direction in_direction() const { return engine_is_server ? direction::to_server : direction::to_client; }
};

// Cuts frames by len and renders each. A len below 36 ends the stream as a framing error.
class frame_text final : public message_framer {
public:
  explicit frame_text(const core::pkey* server_private) : server_private_(server_private) {}
  void feed(std::string_view bytes) override;
  std::optional<std::string> next(std::string& error) override;
  std::vector<finding> take_findings() override { return std::exchange(findings_, {}); }
  bool renders_printable() const override { return true; }
  connection_state& state() { return state_; }
  // The first bytes the peer sent, as they came: what the preflight shows of a target that is no MTP peer.
  const std::string& first_bytes() const { return first_bytes_; }

private:
  std::string render(const bytes& frame);
  std::string render_keyed(const bytes& frame);
  std::string render_login_res(const bytes& frame);
  std::string render_login_req(const multiparty::header& h, const bytes& frame);
  void find(const char* rule, std::string message);
  const core::pkey* server_private_;  // the engine's server key, for a client's login_req
  multiparty::frame_reader reader_;
  connection_state state_;
  std::string first_bytes_;
  std::vector<finding> findings_;
};

// "" when `head`, the first bytes a peer sent, can start an MTP frame (major version 1, a known type, len
// of at least 36); else what they look like instead, for a clear "not multiparty" problem.
std::string not_mtp(std::string_view head);

// Payload bytes as case text: printable ASCII as is, backslash doubled, \n \r \t, else \xNN.
std::string escape(std::string_view payload);
// A frame as cases see it: "<type> sid=<hex> uid=<hex> | <payload, escaped>".
std::string line_of(const multiparty::header& h, std::string_view payload);
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
  std::optional<std::uint16_t> len;  // the header's len as is, in place of the size plus len_delta
  bool bad_tag = false;
  bytes trailer;
};
bytes build_frame(byte_view key, direction d, frame_spec spec);

}  // namespace parley::conform::mp
