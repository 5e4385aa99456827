// multiparty (spec/multiparty/spec.md) for parley-load: binary MTP frames, every one sealed with AES-GCM under
// its connection's keys and numbered per direction. A user logs in with a login_req signed by its own RSA
// key and sealed for the server's (§6); the login_res gives the keys. A session holds its creator and at
// most 16 invitees, so a sender reaches the others through ceil(others / 16) sessions of its own, made once
// every user is logged in (init_req; each invitee accepts its invite_req). A message to everyone is one
// msg_req per such session, with a line per member; the server forwards each member its line, and each
// member answers with a msg_res the server forwards back to the sender (§9.2).
//
// A part is the message body in base64, not an RSA-wrapped AES-GCM part (§8): the server only checks a
// part's base64 form and never opens it (MP-MSG-08), so its work depends on the part's length alone, and
// --size sets that (a real part of a short text under a 2048-bit key is about 400 characters).
#include <stdexcept>

#include "bench/load/dialect.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"
#include "impl/proto/multiparty/login.hpp"
#include "impl/proto/multiparty/mtp.hpp"
#include "impl/proto/multiparty/payload.hpp"

namespace parley::load {
namespace {

using namespace parley::multiparty;

// Frames a connection may carry each way besides those the run plans: the server's keep-alive status_reqs
// (one per silent 30 s) and their answers.
constexpr std::size_t spare_frames = 64;

// One connection's side of the protocol.
struct party {
  login_secrets login;  // until the login_res
  bool logged_in = false;
  session_keys keys;
  sequence sent, received;
  std::vector<session_id> sessions;   // those this user created, in the order of its init_reqs
  std::vector<std::string> payloads;  // per session: the lines of a msg_req, "<uid> " before each part
};

class multiparty_speech final : public dialect {
public:
  explicit multiparty_speech(const dialect_settings& s)
      : keys_(s.user_keys), server_(s.server_key), senders_(s.senders), parties_(s.clients) {
    if (keys_.size() != s.clients) throw std::runtime_error("multiparty needs a private key for every user");
    for (std::size_t i = 0; i < s.clients; ++i) {
      names_.push_back(user_name(s.name_prefix, i));
      uids_.push_back(uid_of(keys_[i]));
      hex_uids_.push_back(id_to_hex(uids_.back()));
    }
  }

  std::string login(std::size_t index, const std::string& name) override {
    auto& p = parties_[index];
    auto frame = make_login_req(keys_[index], name, server_, unix_time_ms(), p.login);
    if (!frame) throw std::runtime_error("cannot make the login_req of " + name + ": " + frame.error().message());
    p.sent.next_to_send();  // the login_req is sqn 1
    return std::string(as_chars(*frame));
  }
  bool logged_in(std::string_view unit, const std::string&) const override { return unit == "login_res"; }
  // A refused login is closed without a word (MP-LOGIN-06): the run reports the close.
  bool refused(std::string_view) const override { return false; }

  // The login_res names every user in one frame of at most 65,535 bytes: a line of the name, its uid and
  // the base64 of its 294-byte 2048-bit SPKI (392 characters) per user.
  std::optional<std::size_t> most_clients() const override {
    std::size_t line = names_.empty() ? 12 : names_[0].size() + 1 + 16 + 1 + 392 + 1;
    return (max_frame - min_frame - 2 * (64 + 1)) / line;
  }

  std::optional<std::size_t> most_messages(std::size_t senders, std::size_t clients) const override {
    if (senders == 0) return max_frame - spare_frames - 1;  // rtt: a status_req and its status_res each
    // The busiest connection is a sender: what it receives per message is the server's "OK n" for each of
    // its sessions, every receiver's forwarded msg_res and, when everyone sends, every other sender's msg_req.
    std::size_t others = clients - 1, sessions = sessions_for(others);
    std::size_t others_sending = senders == clients ? others : 0;
    std::size_t setup = 1 + sessions + others + others_sending;  // login_res, init_res, accepts, invite_reqs
    std::size_t per_message = sessions + others + others_sending;
    std::size_t room = max_frame - spare_frames;
    return room > setup ? (room - setup) / per_message : 0;
  }

  // Every sender invites the users it sends to, 16 to a session.
  void begin_setup(std::size_t index, std::string& out) override {
    if (index >= senders_) return;
    std::vector<user_id> group;
    for (std::size_t r = 0; r < names_.size(); ++r) {
      if (r == index) continue;
      group.push_back(uids_[r]);
      ++awaited_accepts_;
      if (group.size() == max_invitees) {
        seal(index, out, msg_type::init_req, 0, uid_lines(group));
        ++awaited_sessions_;
        group.clear();
      }
    }
    if (!group.empty()) {
      seal(index, out, msg_type::init_req, 0, uid_lines(group));
      ++awaited_sessions_;
    }
  }
  bool set_up() const override { return awaited_accepts_ == 0 && awaited_sessions_ == 0; }

  // One msg_req per session of the sender, each line carrying the body in base64 (see the top).
  void append_broadcast(std::string& out, std::size_t sender, std::string_view body) override {
    auto& p = parties_[sender];
    part_ = core::to_base64(as_bytes(body));
    for (std::size_t k = 0; k < p.sessions.size(); ++k) {
      payload_.clear();
      const std::string& lines = p.payloads[k];
      for (std::size_t at = 0; at < lines.size(); at += 17)
        payload_.append(lines, at, 17).append(part_).push_back('\n');
      seal(sender, out, msg_type::msg_req, p.sessions[k], payload_);
    }
  }
  std::optional<std::string_view> relayed(std::string_view unit) const override {
    if (unit.substr(0, 8) != "msg_req ") return std::nullopt;
    return unit.substr(8);
  }
  bool answer_probe(std::string&, std::string_view) const override { return false; }
  // The server's status (MP-STATUS-01): a status_req it answers with a status_res "Online".
  void append_request(std::size_t index, std::string& out, std::string_view) override {
    seal(index, out, msg_type::status_req, 0, {});
  }
  bool is_reply(std::string_view unit, std::string_view) const override { return unit == "status_res Online"; }

  std::optional<std::string_view> next_unit(std::size_t index, const std::string& in, std::size_t& begin,
                                            std::string&, std::string& out, std::string& problem) override {
    auto& p = parties_[index];
    while (in.size() - begin >= header_size) {
      auto len = static_cast<std::size_t>(static_cast<std::uint8_t>(in[begin + 4]) << 8 |
                                          static_cast<std::uint8_t>(in[begin + 5]));
      if (len < min_frame) {
        problem = "a frame with len " + std::to_string(len) + ", below 36";
        return std::nullopt;
      }
      if (in.size() - begin < len) return std::nullopt;
      byte_view frame = as_bytes(std::string_view(in).substr(begin, len));
      begin += len;
      if (!p.logged_in) return take_login_res(p, frame, problem);
      auto opened = open_frame(p.keys.to_client, direction::to_client, frame);
      if (!opened) {
        problem = "a frame that does not open under the session key: " + opened.error().message();
        return std::nullopt;
      }
      if (!p.received.accept(opened->h.sqn)) {
        problem = "a frame with sqn " + std::to_string(opened->h.sqn) + " after " + std::to_string(p.received.last());
        return std::nullopt;
      }
      if (auto unit = take(index, *opened, out, problem)) return unit;
      if (!problem.empty()) return std::nullopt;
    }
    return std::nullopt;
  }

private:
  static std::size_t sessions_for(std::size_t receivers) { return (receivers + max_invitees - 1) / max_invitees; }

  std::optional<std::string_view> take_login_res(party& p, byte_view frame, std::string& problem) {
    auto response = open_login_res(p.login.tk, frame);
    if (!response) {
      problem = "the login_res does not open under the login's key: " + response.error().message();
      return std::nullopt;
    }
    if (response->request_hash != core::sha256(p.login.request)) {
      problem = "the login_res answers another login_req";
      return std::nullopt;
    }
    auto keys = derive_keys(p.login.client_random, response->server_random, p.login.request);
    if (!keys) {
      problem = "the session keys cannot be derived";
      return std::nullopt;
    }
    p.keys = std::move(*keys);
    p.login = {};
    p.received.accept(1);
    p.logged_in = true;
    return "login_res";
  }

  // One opened frame: answered here when the protocol wants an answer, handed to the run when it is a
  // delivery or a reply, refused (with `problem`) when the server turned something down.
  std::optional<std::string_view> take(std::size_t index, const opened_frame& f, std::string& out,
                                       std::string& problem) {
    auto& p = parties_[index];
    std::string_view text = as_chars(f.payload);
    switch (static_cast<msg_type>(f.h.type)) {
      case msg_type::status_req:  // the server's keep-alive (MP-CLIENT-06)
        seal(index, out, msg_type::status_res, 0, "Online");
        return std::nullopt;
      case msg_type::status_res:
        unit_.assign("status_res ").append(text);
        return unit_;
      case msg_type::invite_req:
        seal(index, out, msg_type::invite_res, f.h.sid, "Accept");
        return std::nullopt;
      case msg_type::init_res:
        if (text.substr(0, 3) != "OK\n" || text.find(" offline\n") != std::string_view::npos) {
          problem = "the init_req was answered '" + std::string(text) + "'";
          return std::nullopt;
        }
        add_session(p, f.h.sid, text.substr(3));
        --awaited_sessions_;
        return std::nullopt;
      case msg_type::invite_res:
        if (f.h.uid == 0 || text != "Accept") {
          problem = "an invitation was answered '" + std::string(text) + "'";
          return std::nullopt;
        }
        --awaited_accepts_;
        return std::nullopt;
      case msg_type::msg_res:  // the server's "OK <n>", or a receiver's "OK" forwarded
        if (text.substr(0, 2) != "OK") problem = "a msg_req was answered '" + std::string(text) + "'";
        return std::nullopt;
      case msg_type::msg_req: return delivery(index, f, out, problem);
      default:
        problem = "the server sent an unexpected " + std::string(type_name(static_cast<msg_type>(f.h.type))) +
                  " '" + std::string(text.substr(0, 80)) + "'";
        return std::nullopt;
    }
  }

  // A forwarded msg_req holds the receiver's own line: "<uid> <part>\n". Every one is answered "OK".
  std::optional<std::string_view> delivery(std::size_t index, const opened_frame& f, std::string& out,
                                           std::string& problem) {
    std::string_view line = as_chars(f.payload);
    if (line.size() < 19 || line.substr(0, 16) != std::string_view(hex_uids_[index]) || line[16] != ' ' ||
        line.back() != '\n') {
      problem = "a forwarded msg_req that is not this user's line: '" + std::string(line.substr(0, 80)) + "'";
      return std::nullopt;
    }
    auto body = core::from_base64(line.substr(17, line.size() - 18));
    if (!body) {
      problem = "a forwarded part that is not base64";
      return std::nullopt;
    }
    seal(index, out, msg_type::msg_res, f.h.sid, "OK");
    unit_.assign("msg_req ").append(as_chars(*body));
    return unit_;
  }

  // The init_res of a session lists its invitees in the order of the init_req: those lines, each
  // "<uid> invited", give the members a msg_req names.
  void add_session(party& p, session_id sid, std::string_view lines) {
    std::string members;
    while (lines.size() >= 17) {
      members.append(lines.substr(0, 16)).push_back(' ');
      auto end = lines.find('\n');
      if (end == std::string_view::npos) break;
      lines.remove_prefix(end + 1);
    }
    p.sessions.push_back(sid);
    p.payloads.push_back(std::move(members));
  }

  void seal(std::size_t index, std::string& out, msg_type type, session_id sid, std::string_view payload) {
    auto& p = parties_[index];
    auto sqn = p.sent.next_to_send();
    // most_messages keeps a run inside the sequence space; only a bug gets here.
    if (!sqn) throw std::logic_error(names_[index] + " has sent its 65,535 frames");
    header h{.type = static_cast<std::uint16_t>(type), .sqn = *sqn, .sid = sid, .uid = uids_[index]};
    auto frame = seal_frame(p.keys.to_server, direction::to_server, h, as_bytes(payload));
    if (!frame) throw std::logic_error("cannot seal a " + std::string(type_name(type)) + ": " + frame.error().message());
    out.append(as_chars(*frame));
  }

  std::vector<core::pkey> keys_;
  core::pkey server_;
  std::size_t senders_;
  std::vector<party> parties_;
  std::vector<std::string> names_;
  std::vector<user_id> uids_;
  std::vector<std::string> hex_uids_;
  std::size_t awaited_accepts_ = 0, awaited_sessions_ = 0;
  std::string unit_, part_, payload_;  // reused: no allocation per message
};

}  // namespace

std::unique_ptr<dialect> make_multiparty_dialect(const dialect_settings& settings) {
  return std::make_unique<multiparty_speech>(settings);
}

}  // namespace parley::load
