// peerchat/1 datagrams (spec §7.2): `user LF type LF text LF LF` as the original sends them, and the seed's
// `user SP type [SP text]`, which receivers also accept. Pure; shared by the client's peer, the
// conformance engine's peer and the fuzzers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "impl/core/result.hpp"
#include "impl/proto/peerchat/errc.hpp"

namespace parley::peerchat {

inline constexpr std::size_t max_datagram = 1200;  // PC-UDP-04: fits the IPv6 minimum MTU
inline constexpr std::size_t max_text = 1000;      // per Msg / MSG record

enum class datagram_type { connect, msg, close, keepalive };

struct plain_datagram {
  std::string user;
  datagram_type type = datagram_type::msg;
  std::string text;
};

// errc::malformed_datagram for NUL, > max_datagram bytes, a missing user or type, or an unknown type.
// Types are matched case-insensitively, the seed's CONNECT/MSG/CLOSE/KEEPALIVE included (PC-UDP-03).
// A datagram starting with 0xB2 is never plain: errc::malformed_datagram.
result<plain_datagram> parse_plain(std::string_view datagram);
// The original's layout and spelling (PC-UDP-02); NUL, CR and LF in the text become SP.
std::string format_plain(const plain_datagram& datagram);
std::string_view type_name(datagram_type type) noexcept;  // "Connect", "Msg", "Close", "KeepAliveToken"

// The user's input as texts of at most `limit` bytes each, NUL/CR/LF replaced by SP, never splitting a
// UTF-8 sequence (PC-UDP-04). Empty input gives one empty text.
std::vector<std::string> split_text(std::string_view input, std::size_t limit = max_text);

}  // namespace parley::peerchat
