// The client side of WebSocket (RFC 6455) as parley-load needs it: the upgrade request and the check of its
// answer, masked text frames out, and the server's frames in, a fragmented message put back together.
// Control frames from the server (ping, pong) are passed over; a close frame ends the connection's input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::load::websocket {

std::string upgrade_request(const std::string& host, unsigned short port);

// Consumes the server's answer to the upgrade from `in` once it is whole: true when it was 101 Switching
// Protocols; false with `problem` set when it was something else, false with `problem` empty while it is
// still incomplete.
bool take_upgrade_answer(std::string& in, std::string& problem);

// Appends one text frame carrying `payload`, masked with `mask` (any key is valid; the server unmasks).
void append_text_frame(std::string& out, std::string_view payload, std::uint32_t mask);

// The next whole message in `in` from `begin` (which moves past the frames used): a view of the payload in
// `in`, or of `partial` when the message came in fragments. nullopt when more bytes are needed, or with
// `problem` set when the frames are not what a server may send (a masked frame, a close frame, a
// continuation without a start).
std::optional<std::string_view> next_message(const std::string& in, std::size_t& begin, std::string& partial,
                                             std::string& problem);

}  // namespace parley::load::websocket
