// Packets for a capture file (parley-conform --pcap), made from what one end of each connection saw: its
// endpoints, the bytes it wrote and read, and when. Pure: no sockets, no clock. The packets are raw IPv4 or
// IPv6 (pcap LINKTYPE_RAW) with TCP or UDP, checksums filled in, so Wireshark and tshark read them as a
// capture of the real traffic: one TCP stream per connection, from a three-way handshake to FIN or RST.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace parley::conform::pcap {

using wall_time = std::chrono::system_clock::time_point;

// One packet, from its IP header on.
struct packet {
  wall_time at;
  std::string bytes;
};

// An IPv4 or IPv6 address and a port.
struct address {
  std::array<std::uint8_t, 16> octets{};  // IPv4: the first 4
  bool v6 = false;
  std::uint16_t port = 0;
};
// A numeric address ("127.0.0.2", "::1"); an IPv4-mapped IPv6 address becomes IPv4. nullopt when malformed.
std::optional<address> parse_address(std::string_view ip, std::uint16_t port);

// The Internet checksum (RFC 1071) of `data`, continuing from a partial sum: 0 when `data` holds a correct
// checksum of its own.
std::uint16_t internet_checksum(std::string_view data, std::uint32_t partial = 0);

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10;
}

// The most TCP payload one IPv4 packet holds (65535 minus the IP and TCP headers); longer writes and reads
// become several segments.
inline constexpr std::size_t max_segment = 65535 - 20 - 20;

struct tcp_header {
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0xffff;
  std::string options;  // whole 32-bit words
};
// An IP packet carrying one TCP segment or one UDP datagram from `from` to `to` (same family), checksums
// included. `ip_id` is the IPv4 identification (IPv6 has none).
std::string tcp_packet(const address& from, const address& to, const tcp_header& h, std::string_view payload,
                       std::uint16_t ip_id);
std::string udp_packet(const address& from, const address& to, std::string_view payload, std::uint16_t ip_id);

// One TCP connection as packets, built from the events of one of its ends ("ours"): the handshake at
// construction (SYN from whoever opened it), each write or read as data segments of at most max_segment
// bytes with their sequence and acknowledgment numbers followed by the receiver's ACK, and each side's FIN
// (acknowledged) or an RST, after which nothing more of that side (for RST, of the connection) is added.
class tcp_conversation {
public:
  // `our_isn`, `their_isn`: initial sequence numbers. Packets go to `out`.
  tcp_conversation(const address& ours, const address& theirs, bool we_opened, wall_time at, std::uint32_t our_isn,
                   std::uint32_t their_isn, std::vector<packet>& out);
  void data(bool from_us, std::string_view bytes, wall_time at, std::vector<packet>& out);
  void end(bool from_us, bool reset, wall_time at, std::vector<packet>& out);

private:
  struct side {
    address where;
    std::uint32_t next_seq = 0;
    std::uint16_t ip_id = 0;
    bool ended = false;  // sent its FIN
  };
  void emit(side& from, side& to, std::uint8_t flags, std::string_view payload, wall_time at, std::vector<packet>& out,
            std::string options = {});

  side ours_, theirs_;
  bool reset_ = false;
};

// A pcap file (microsecond timestamps, LINKTYPE_RAW) of `packets` in time order; packets with the same time
// keep their order.
void write_file(std::ostream& out, std::vector<packet> packets);

}  // namespace parley::conform::pcap
