#include "conformance/adapters/multiparty/wire.hpp"

#include <algorithm>
#include <charconv>

#include "impl/core/crypto/aes.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"

namespace parley::conform::mp {

using namespace multiparty;

std::string escape(std::string_view payload) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : payload) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string type_text(std::uint16_t type) {
  if (known_type(type)) return std::string(type_name(static_cast<msg_type>(type)));
  std::string hex = core::to_hex(bytes{static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type)});
  return "type-0x" + hex;
}

std::optional<std::uint16_t> type_from_text(const std::string& text) {
  static constexpr std::uint16_t known[] = {0x0000, 0x0010, 0x0100, 0x0110, 0x0200, 0x0210,
                                             0x0300, 0x0310, 0x0400, 0x0410, 0x0500, 0x0510};
  for (std::uint16_t t : known)
    if (type_text(t) == text) return t;
  unsigned value = 0;
  bool hex = text.starts_with("0x");
  const char* begin = text.data() + (hex ? 2 : 0);
  auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value, hex ? 16 : 10);
  if (ec != std::errc() || end != text.data() + text.size() || value > 0xffff) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

bytes build_frame(byte_view key, direction d, frame_spec spec) {
  auto len = static_cast<long>(header_size + spec.payload.size() + tag_size + spec.trailer.size()) + spec.len_delta;
  spec.h.len = spec.len ? *spec.len : static_cast<std::uint16_t>(std::clamp(len, 0L, 65535L));
  bytes frame = encode_header(spec.h);
  auto sealed = core::aes_gcm_seal(key, nonce_for(d, spec.h.sqn), frame, as_bytes(spec.payload), tag_size);
  frame.insert(frame.end(), sealed->begin(), sealed->end());
  if (spec.bad_tag) frame.back() ^= 0x01;
  frame.insert(frame.end(), spec.trailer.begin(), spec.trailer.end());
  return frame;
}

void frame_text::feed(std::string_view bytes) {
  if (first_bytes_.size() < 64) first_bytes_.append(bytes.substr(0, 64 - first_bytes_.size()));
  reader_.feed(as_bytes(bytes));
}

std::optional<std::string> frame_text::next(std::string& error) {
  bytes frame;
  switch (reader_.next(frame)) {
    case frame_reader::status::need_more: return std::nullopt;
    case frame_reader::status::bad_length:
      error = "a frame with len below 36: the stream cannot be framed";
      return std::nullopt;
    case frame_reader::status::frame: break;
  }
  return render(frame);
}

void frame_text::find(const char* rule, std::string message) {
  for (const auto& f : findings_)
    if (f.rule == rule) return;
  findings_.push_back({rule, std::move(message)});
}

std::string line_of(const header& h, std::string_view payload) {
  return type_text(h.type) + " sid=" + id_to_hex(h.sid) + " uid=" + id_to_hex(h.uid) + " | " + escape(payload);
}

namespace {

std::string unreadable(const bytes& frame) {
  return "unreadable frame (header " + core::to_hex(byte_view(frame).first(header_size)) + ")";
}

bool lower_hex(std::string_view s, std::size_t digits) {
  return s.size() == digits &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A login_res payload read leniently (spec §6.5): what a client needs to go on (server_random), and what
// is wrong with the rest, by rule.
struct login_reading {
  std::optional<bytes> server_random;
  std::string request_hash_hex;
  std::vector<directory_entry> directory;
  std::string grammar_problem;  // MP-LOGIN-14
  std::string uid_problem;      // MP-DIR-01
};

login_reading read_login_res(std::string_view payload) {
  login_reading r;
  std::vector<std::string_view> lines;
  while (!payload.empty()) {
    auto nl = payload.find('\n');
    if (nl == std::string_view::npos) {
      r.grammar_problem = "the payload does not end with LF";
      lines.push_back(payload);
      break;
    }
    lines.push_back(payload.substr(0, nl));
    payload.remove_prefix(nl + 1);
  }
  if (lines.size() < 3 && r.grammar_problem.empty()) r.grammar_problem = "fewer than three lines";
  if (!lines.empty()) {
    r.request_hash_hex = std::string(lines[0]);
    if (!lower_hex(lines[0], 64)) r.grammar_problem = "request_hash is not 64 lower-case hex digits";
  }
  if (lines.size() > 1) {
    if (lower_hex(lines[1], 64)) r.server_random = core::from_hex(lines[1]).value();
    else r.grammar_problem = "server_random is not 64 lower-case hex digits";
  }
  for (std::size_t i = 2; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    auto a = line.find(' '), b = line.rfind(' ');
    std::optional<user_id> uid;
    std::optional<core::pkey> key;
    if (a != b) {
      uid = id_from_hex(line.substr(a + 1, b - a - 1));
      if (auto der = core::from_base64(line.substr(b + 1)))
        if (auto k = core::pkey::from_public_der(*der)) key = std::move(*k);
    }
    if (!uid || !key) {
      r.grammar_problem = "directory line " + std::to_string(i - 1) + " is not 'name SP uidhex SP b64(SPKI DER)'";
      continue;
    }
    if (uid_of(*key) != *uid && r.uid_problem.empty())
      r.uid_problem = "the directory gives " + std::string(line.substr(0, a)) + " the uid " + id_to_hex(*uid) +
                      ", not the first 8 bytes of SHA-256 of its key (" + id_to_hex(uid_of(*key)) + ")";
    r.directory.push_back({std::string(line.substr(0, a)), *uid, std::move(*key)});
  }
  return r;
}

}  // namespace

std::string frame_text::render(const bytes& frame) {
  if (state_.keyed) return render_keyed(frame);
  if (!state_.pending_logins.empty()) return render_login_res(frame);
  auto h = decode_header(frame);
  if (h && h->type == static_cast<std::uint16_t>(msg_type::login_req) && server_private_ && *server_private_)
    return render_login_req(*h, frame);
  // Client-role: a frame after the login_req and before the login_res (MP-CLIENT-01) has no key to open.
  if (h && state_.engine_is_server)
    return "a frame before the login_res: " + type_text(h->type) + " sqn=" + std::to_string(h->sqn) + " sid=" +
           id_to_hex(h->sid) + " uid=" + id_to_hex(h->uid) + " (" + std::to_string(frame.size()) +
           " bytes, no session keys yet to open it)";
  return unreadable(frame);
}

// A frame after the login: it must open under the key of its direction; its sqn is the previous + 1.
std::string frame_text::render_keyed(const bytes& frame) {
  connection_state& s = state_;
  auto opened = open_frame(s.in_key, s.in_direction(), frame);
  if (!opened) return "refused frame: " + opened.error().message() + ", " + unreadable(frame);
  if (opened->h.sqn != static_cast<std::uint16_t>(s.last_in + 1))
    find("MP-MTP-07", "a frame with sqn " + std::to_string(opened->h.sqn) + " where " + std::to_string(s.last_in + 1) +
                          " was due: " + line_of(opened->h, as_chars(opened->payload)));
  s.last_in = opened->h.sqn;
  return line_of(opened->h, as_chars(opened->payload));
}

// Server-role: the answer to our login_req, under tk (spec §6.5). Keys are derived whenever the payload
// gives a server_random; what else is wrong with it is a finding.
std::string frame_text::render_login_res(const bytes& frame) {
  connection_state& s = state_;
  auto refuse = [&](const char* rule, const std::string& why) {
    s.login_refused = rule;
    find(rule, "a login_res that cannot be used: " + why);
    s.pending_logins.pop_front();
    return "refused login_res: " + why + ", " + unreadable(frame);
  };
  const multiparty::login_secrets& answered = s.pending_logins.front();
  auto opened = open_frame(answered.tk, direction::to_client, frame);
  if (!opened) return refuse("MP-LOGIN-13", opened.error().message() + " under tk with nonce 02..01");
  const header& h = opened->h;
  std::string line = line_of(h, as_chars(opened->payload));
  if (h.type != static_cast<std::uint16_t>(msg_type::login_res))
    return refuse("MP-LOGIN-13", "its type is " + type_text(h.type));
  if (h.sqn != 1 || h.sid != 0 || h.uid != 0)
    find("MP-LOGIN-13", "the login_res header has sqn " + std::to_string(h.sqn) + ", sid " + id_to_hex(h.sid) +
                            " and uid " + id_to_hex(h.uid) + " (sqn 1, sid 0 and uid 0 are due)");
  login_reading reading = read_login_res(as_chars(opened->payload));
  if (!reading.server_random) return refuse("MP-LOGIN-14", reading.grammar_problem);
  if (!reading.grammar_problem.empty()) find("MP-LOGIN-14", "login_res payload: " + reading.grammar_problem);
  if (reading.request_hash_hex != core::to_hex(core::sha256(answered.request)))
    find("MP-LOGIN-14", "request_hash is not SHA-256 of the login_req as sent");
  if (!reading.uid_problem.empty()) find("MP-DIR-01", reading.uid_problem);
  auto keys = derive_keys(answered.client_random, *reading.server_random, answered.request);
  if (!keys) return refuse("MP-LOGIN-14", "no keys derive from its server_random");
  s.in_key = to_owned(keys->to_client.key());
  s.out_key = to_owned(keys->to_server.key());
  s.keyed = true;
  s.last_in = h.sqn;
  s.last_out = 1;  // the login_req was 1
  s.directory = std::move(reading.directory);
  s.pending_logins.pop_front();
  return line;
}

// Client-role: the client's login, under the engine's server key.
std::string frame_text::render_login_req(const header& h, const bytes& frame) {
  connection_state& s = state_;
  auto request = open_login_req(*server_private_, frame);
  if (!request) return "refused login_req: " + request.error().message() + ", " + unreadable(frame);
  s.engine_is_server = true;
  s.last_in = h.sqn;
  s.client_login_frame = frame;
  std::string payload = request->name + "\n" + core::to_hex(request->client_random) + "\n" +
                        std::to_string(request->timestamp_ms) + "\n" + core::to_hex(request->signature) + "\n";
  s.client_login = std::move(*request);
  return line_of(h, payload);
}

std::string not_mtp(std::string_view head) {
  if (head.empty()) return "it sent nothing";
  std::string shown = "'" + escape(head.substr(0, 48)) + (head.size() > 48 ? "...'" : "'");
  bool text = std::all_of(head.begin(), head.end(), [](unsigned char c) {
    return c == '\r' || c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f);
  });
  if (text) return "it sent text, " + shown + ", where an MTP frame was due (a frame starts with the bytes 01 00)";
  // As much of the header as arrived: major version, type, len.
  auto at = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(head[i])); };
  bool header = at(0) == version_major &&
                (head.size() < 4 || known_type(static_cast<std::uint16_t>(at(2) << 8 | at(3)))) &&
                (head.size() < 6 || (at(4) << 8 | at(5)) >= min_frame);
  if (header) return {};
  return "its first bytes, " + shown + ", are no MTP header (major version 1, a known type, len of at least 36)";
}

}  // namespace parley::conform::mp
