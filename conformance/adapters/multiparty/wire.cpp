#include "conformance/adapters/multiparty/wire.hpp"

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
  spec.h.len = static_cast<std::uint16_t>(std::clamp(len, 0L, 65535L));
  bytes frame = encode_header(spec.h);
  auto sealed = core::aes_gcm_seal(key, nonce_for(d, spec.h.sqn), frame, as_bytes(spec.payload), tag_size);
  frame.insert(frame.end(), sealed->begin(), sealed->end());
  if (spec.bad_tag) frame.back() ^= 0x01;
  frame.insert(frame.end(), spec.trailer.begin(), spec.trailer.end());
  return frame;
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

std::string frame_text::render(const bytes& frame) {
  auto h = decode_header(frame);
  auto line = [](const header& hd, std::string_view payload) {
    return type_text(hd.type) + " sid=" + id_to_hex(hd.sid) + " uid=" + id_to_hex(hd.uid) + " | " + escape(payload);
  };
  std::string raw = "unreadable frame (header " + core::to_hex(byte_view(frame).first(header_size)) + ")";
  connection_state& s = state_;
  if (s.keyed) {
    auto opened = open_frame(s.in_key, s.in_direction(), frame);
    if (!opened) return "refused frame: " + opened.error().message() + ", " + raw;
    if (opened->h.sqn != s.last_in + 1)
      return "sqn " + std::to_string(opened->h.sqn) + " where " + std::to_string(s.last_in + 1) + " was due: " +
             line(opened->h, as_chars(opened->payload));
    s.last_in = opened->h.sqn;
    return line(opened->h, as_chars(opened->payload));
  }
  if (s.pending_login) {
    // Server-role: the answer to our login_req, under tk.
    auto response = open_login_res(s.pending_login->tk, frame);
    if (!response) return "refused login_res: " + response.error().message() + ", " + raw;
    if (response->request_hash != core::sha256(s.pending_login->request))
      return "refused login_res: request_hash is not SHA-256 of our login_req, " + raw;
    auto keys = derive_keys(s.pending_login->client_random, response->server_random, s.pending_login->request);
    auto opened = open_frame(s.pending_login->tk, direction::to_client, frame);
    s.in_key = keys->to_client;
    s.out_key = keys->to_server;
    s.keyed = true;
    s.last_in = 1;
    s.last_out = 1;  // the login_req was 1
    s.directory = std::move(response->directory);
    s.pending_login.reset();
    return line(opened->h, as_chars(opened->payload));
  }
  if (h && h->type == static_cast<std::uint16_t>(msg_type::login_req) && server_private_ && *server_private_) {
    // Client-role: the client's login, under the engine's server key.
    auto request = open_login_req(*server_private_, frame);
    if (!request) return "refused login_req: " + request.error().message() + ", " + raw;
    s.engine_is_server = true;
    s.last_in = h->sqn;
    s.client_login_frame = frame;
    std::string payload = request->name + "\n" + core::to_hex(request->client_random) + "\n" +
                          std::to_string(request->timestamp_ms) + "\n" + core::to_hex(request->signature) + "\n";
    s.client_login = std::move(*request);
    return line(*h, payload);
  }
  return raw;
}

}  // namespace parley::conform::mp
