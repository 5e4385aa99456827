#include "impl/proto/multiparty/frame.hpp"

#include <array>

namespace parley::multiparty {
namespace {

void put16(bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put64(bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
std::uint16_t get16(byte_view b, std::size_t at) { return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]); }
std::uint64_t get64(byte_view b, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = v << 8 | b[at + i];
  return v;
}

struct type_entry {
  msg_type type;
  std::string_view name;
};
constexpr std::array<type_entry, 12> types{{
    {msg_type::init_req, "init_req"},     {msg_type::init_res, "init_res"},
    {msg_type::close_req, "close_req"},   {msg_type::close_res, "close_res"},
    {msg_type::msg_req, "msg_req"},       {msg_type::msg_res, "msg_res"},
    {msg_type::invite_req, "invite_req"}, {msg_type::invite_res, "invite_res"},
    {msg_type::status_req, "status_req"}, {msg_type::status_res, "status_res"},
    {msg_type::login_req, "login_req"},   {msg_type::login_res, "login_res"},
}};

}  // namespace

bool known_type(std::uint16_t value) noexcept {
  for (const auto& t : types)
    if (static_cast<std::uint16_t>(t.type) == value) return true;
  return false;
}

std::string_view type_name(msg_type t) noexcept {
  for (const auto& e : types)
    if (e.type == t) return e.name;
  return "unknown";
}

bytes encode_header(const header& h) {
  bytes out;
  out.reserve(header_size);
  out.push_back(h.ver_major);
  out.push_back(h.ver_minor);
  put16(out, h.type);
  put16(out, h.len);
  put16(out, h.sqn);
  put64(out, h.sid);
  put64(out, h.uid);
  return out;
}

std::optional<header> decode_header(byte_view frame) noexcept {
  if (frame.size() < header_size) return std::nullopt;
  return header{frame[0], frame[1], get16(frame, 2), get16(frame, 4), get16(frame, 6), get64(frame, 8), get64(frame, 16)};
}

void frame_reader::feed(byte_view data) {
  // Frames already taken are dropped here, once per feed, not once per frame: a chunk holding a
  // thousand small frames must not cost a thousand moves of the rest of the buffer.
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(start_));
  start_ = 0;
  pending_.insert(pending_.end(), data.begin(), data.end());
}

frame_reader::status frame_reader::next(bytes& out) {
  byte_view rest = byte_view(pending_).subspan(start_);
  if (rest.size() < 6) return status::need_more;  // len is bytes 4..5
  std::size_t len = get16(rest, 4);
  if (len < min_frame) return status::bad_length;
  if (rest.size() < len) return status::need_more;
  out.assign(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(len));
  start_ += len;
  return status::frame;
}

std::string id_to_hex(std::uint64_t id) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, id >>= 4) out[static_cast<std::size_t>(i)] = digits[id & 0xf];
  return out;
}

std::optional<std::uint64_t> id_from_hex(std::string_view hex) noexcept {
  if (hex.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : hex) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;  // lower case only (MP-ERR-03)
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  return v;
}

}  // namespace parley::multiparty
