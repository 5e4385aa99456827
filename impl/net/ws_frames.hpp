// WebSocket (RFC 6455) framing, sans I/O: text frames out (a client's masked, a server's not), and for a
// client with its own loop (parley-load) the upgrade request and the check of its answer, and the server's
// frames in, a fragmented message put back together. Control frames from the server (ping, pong) are
// passed over; a close frame ends the connection's input. The channels' reads stay with Beast.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::net::ws_frames {

std::string upgrade_request(const std::string& host, unsigned short port);

// Consumes the server's answer to the upgrade from `in` once it is whole: true when it was 101 Switching
// Protocols; false with `problem` set when it was something else, false with `problem` empty while it is
// still incomplete.
bool take_upgrade_answer(std::string& in, std::string& problem);

// The header of one unfragmented text frame of `size` payload bytes, into `out`; its length (2 to 14). With
// `mask`, a client's: the mask bit and the key, which the payload must then be masked with (mask_payload).
inline constexpr std::size_t max_header = 14;
std::size_t text_frame_header(std::size_t size, std::optional<std::uint32_t> mask, char* out);
// XORs `bytes` with the key, as the frame's header carries it.
void mask_payload(char* bytes, std::size_t size, std::uint32_t mask);
// Appends one unfragmented text frame carrying `payload`: a client's, masked with `mask` (the server
// unmasks with the key the frame carries), or with no mask a server's.
void append_text_frame(std::string& out, std::string_view payload, std::optional<std::uint32_t> mask);

// The next whole message in `in` from `begin` (which moves past the frames used): a view of the payload in
// `in`, or of `partial` when the message came in fragments. nullopt when more bytes are needed, or with
// `problem` set when the frames are not what a server may send (a masked frame, a close frame, a
// continuation without a start).
std::optional<std::string_view> next_message(const std::string& in, std::size_t& begin, std::string& partial,
                                             std::string& problem);

}  // namespace parley::net::ws_frames
