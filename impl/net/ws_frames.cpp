#include "impl/net/ws_frames.hpp"

namespace parley::net::ws_frames {

std::string upgrade_request(const std::string& host, unsigned short port) {
  // The key only has to be 16 bytes in base64; the answer's Sec-WebSocket-Accept proves nothing parley-load
  // needs, so it is not checked and one key serves every connection.
  return "GET / HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: cGFybGV5LWxvYWQta2V5IQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n";
}

bool take_upgrade_answer(std::string& in, std::string& problem) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (in.size() > 16384) problem = "the answer to the WebSocket upgrade has no end";
    return false;
  }
  std::string status = in.substr(0, in.find("\r\n"));
  in.erase(0, end + 4);
  if (status.rfind("HTTP/1.1 101", 0) == 0) return true;
  problem = "the WebSocket upgrade was refused: '" + status + "'";
  return false;
}

std::size_t text_frame_header(std::size_t size, std::optional<std::uint32_t> mask, char* out) {
  out[0] = static_cast<char>(0x81);  // FIN, text
  char masked = mask ? static_cast<char>(0x80) : 0;
  std::size_t length = 2;
  if (size < 126) {
    out[1] = static_cast<char>(masked | static_cast<char>(size));
  } else {
    std::size_t bytes = size < 65536 ? 2 : 8;
    out[1] = static_cast<char>(masked | (bytes == 2 ? 126 : 127));
    for (std::size_t i = 0; i < bytes; ++i) out[2 + i] = static_cast<char>(size >> (8 * (bytes - 1 - i)));
    length += bytes;
  }
  if (!mask) return length;
  for (int i = 0; i < 4; ++i) out[length + i] = static_cast<char>(*mask >> (24 - 8 * i));
  return length + 4;
}

void mask_payload(char* bytes, std::size_t size, std::uint32_t mask) {
  char key[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16), static_cast<char>(mask >> 8),
                 static_cast<char>(mask)};
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(bytes[i] ^ key[i % 4]);
}

void append_text_frame(std::string& out, std::string_view payload, std::optional<std::uint32_t> mask) {
  char header[max_header];
  out.append(header, text_frame_header(payload.size(), mask, header));
  auto at = out.size();
  out.append(payload);
  if (mask) mask_payload(out.data() + at, payload.size(), *mask);
}

std::optional<std::string_view> next_message(const std::string& in, std::size_t& begin, std::string& partial,
                                             std::string& problem) {
  for (;;) {
    std::size_t at = begin;
    if (in.size() - at < 2) return std::nullopt;
    auto first = static_cast<unsigned char>(in[at]), second = static_cast<unsigned char>(in[at + 1]);
    bool fin = first & 0x80;
    unsigned opcode = first & 0x0f;
    if (second & 0x80) {
      problem = "the server sent a masked frame";
      return std::nullopt;
    }
    std::uint64_t size = second & 0x7f;
    at += 2;
    int extra = size == 126 ? 2 : size == 127 ? 8 : 0;
    if (in.size() - at < static_cast<std::size_t>(extra)) return std::nullopt;
    if (extra) {
      size = 0;
      for (int i = 0; i < extra; ++i) size = size << 8 | static_cast<unsigned char>(in[at + i]);
      at += static_cast<std::size_t>(extra);
    }
    if (in.size() - at < size) return std::nullopt;
    std::string_view payload(in.data() + at, static_cast<std::size_t>(size));
    begin = at + static_cast<std::size_t>(size);
    if (opcode == 8) {
      problem = "the server closed the WebSocket";
      return std::nullopt;
    }
    if (opcode >= 8) continue;  // ping or pong
    if (opcode != 0) partial.clear();  // a new message; the last one taken from `partial` is done with
    if (opcode == 0 && partial.empty()) {
      problem = "the server sent a continuation frame with no message to continue";
      return std::nullopt;
    }
    if (fin && opcode != 0) return payload;
    partial.append(payload);
    if (fin) return std::string_view(partial);
  }
}

}  // namespace parley::net::ws_frames
