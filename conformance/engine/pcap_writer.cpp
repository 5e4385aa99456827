#include "conformance/engine/pcap_writer.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace parley::conform::pcap {
namespace {

constexpr std::uint8_t ip_proto_tcp = 6;
constexpr std::uint8_t ip_proto_udp = 17;
constexpr std::uint8_t ttl = 64;

void put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v >> 16);
  put16(out, v & 0xffff);
}
void set16(std::string& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<char>(v >> 8);
  out[at + 1] = static_cast<char>(v & 0xff);
}
// pcap's own headers are in the writer's byte order, announced by the magic number: little-endian here.
void le32(std::ostream& out, std::uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out.write(b, 4);
}
void le16(std::ostream& out, std::uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.write(b, 2);
}

std::string_view octets(const address& a) {
  return {reinterpret_cast<const char*>(a.octets.data()), a.v6 ? 16u : 4u};
}

// The sum of the pseudo-header that TCP and UDP checksums cover (RFC 793 and RFC 8200 §8.1).
std::uint32_t pseudo_header_sum(const address& from, const address& to, std::uint8_t protocol, std::size_t length) {
  std::string pseudo;
  pseudo.append(octets(from));
  pseudo.append(octets(to));
  if (from.v6) {
    put32(pseudo, static_cast<std::uint32_t>(length));
    put32(pseudo, protocol);
  } else {
    pseudo += '\0';
    pseudo += static_cast<char>(protocol);
    put16(pseudo, static_cast<std::uint32_t>(length));
  }
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < pseudo.size(); i += 2)
    sum += (static_cast<std::uint8_t>(pseudo[i]) << 8) | static_cast<std::uint8_t>(pseudo[i + 1]);
  return sum;
}

// Wraps a transport segment whose checksum field (at `checksum_at`) is zero into an IP packet, filling in
// the transport checksum and, for IPv4, the header checksum.
std::string ip_packet(const address& from, const address& to, std::uint8_t protocol, std::string segment,
                      std::size_t checksum_at, std::uint16_t ip_id) {
  std::uint16_t sum = internet_checksum(segment, pseudo_header_sum(from, to, protocol, segment.size()));
  if (protocol == ip_proto_udp && sum == 0) sum = 0xffff;  // UDP: zero means "no checksum"
  set16(segment, checksum_at, sum);
  std::string p;
  if (from.v6) {
    put32(p, 6u << 28);
    put16(p, static_cast<std::uint32_t>(segment.size()));
    p += static_cast<char>(protocol);
    p += static_cast<char>(ttl);
  } else {
    p += static_cast<char>(0x45);  // version 4, 5 words of header
    p += '\0';
    put16(p, static_cast<std::uint32_t>(20 + segment.size()));
    put16(p, ip_id);
    put16(p, 0x4000);  // don't fragment
    p += static_cast<char>(ttl);
    p += static_cast<char>(protocol);
    put16(p, 0);
  }
  p.append(octets(from));
  p.append(octets(to));
  if (!from.v6) set16(p, 10, internet_checksum(p));
  return p + segment;
}

}  // namespace

std::optional<address> parse_address(std::string_view ip, std::uint16_t port) {
  address a;
  a.port = port;
  std::string text(ip);
  if (inet_pton(AF_INET, text.c_str(), a.octets.data()) == 1) return a;
  if (inet_pton(AF_INET6, text.c_str(), a.octets.data()) != 1) return std::nullopt;
  static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.octets.data(), mapped, 12) == 0) {
    std::memmove(a.octets.data(), a.octets.data() + 12, 4);
    std::fill(a.octets.begin() + 4, a.octets.end(), 0);
    return a;
  }
  a.v6 = true;
  return a;
}

std::uint16_t internet_checksum(std::string_view data, std::uint32_t partial) {
  std::uint64_t sum = partial;
  for (std::size_t i = 0; i + 1 < data.size(); i += 2)
    sum += (static_cast<std::uint8_t>(data[i]) << 8) | static_cast<std::uint8_t>(data[i + 1]);
  if (data.size() % 2) sum += static_cast<std::uint8_t>(data.back()) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::string tcp_packet(const address& from, const address& to, const tcp_header& h, std::string_view payload,
                       std::uint16_t ip_id) {
  std::string s;
  put16(s, from.port);
  put16(s, to.port);
  put32(s, h.seq);
  put32(s, h.ack);
  auto words = static_cast<std::uint8_t>(5 + h.options.size() / 4);
  s += static_cast<char>(words << 4);
  s += static_cast<char>(h.flags);
  put16(s, h.window);
  put16(s, 0);  // checksum, filled in by ip_packet
  put16(s, 0);  // urgent pointer
  s += h.options;
  s.append(payload);
  return ip_packet(from, to, ip_proto_tcp, std::move(s), 16, ip_id);
}

std::string udp_packet(const address& from, const address& to, std::string_view payload, std::uint16_t ip_id) {
  std::string s;
  put16(s, from.port);
  put16(s, to.port);
  put16(s, static_cast<std::uint32_t>(8 + payload.size()));
  put16(s, 0);
  s.append(payload);
  return ip_packet(from, to, ip_proto_udp, std::move(s), 6, ip_id);
}

tcp_conversation::tcp_conversation(const address& ours, const address& theirs, bool we_opened, wall_time at,
                                   std::uint32_t our_isn, std::uint32_t their_isn, std::vector<packet>& out) {
  ours_.where = ours;
  ours_.next_seq = our_isn;
  theirs_.where = theirs;
  theirs_.next_seq = their_isn;
  // MSS as large as a packet allows, and window scaling (x128), so that a long write is not "window full".
  std::string options;
  put32(options, 0x0204ffd7);  // MSS 65495
  put32(options, 0x01030307);  // NOP, window scale 7
  side& client = we_opened ? ours_ : theirs_;
  side& server = we_opened ? theirs_ : ours_;
  emit(client, server, tcp_flag::syn, {}, at, out, options);
  client.next_seq += 1;
  // The SYN-ACK acknowledges the SYN: emit() takes the ack from the other side's next_seq.
  emit(server, client, tcp_flag::syn | tcp_flag::ack, {}, at, out, options);
  server.next_seq += 1;
  emit(client, server, tcp_flag::ack, {}, at, out);
}

void tcp_conversation::emit(side& from, side& to, std::uint8_t flags, std::string_view payload, wall_time at,
                            std::vector<packet>& out, std::string options) {
  tcp_header h;
  h.seq = from.next_seq;
  h.ack = (flags & tcp_flag::ack) ? to.next_seq : 0;
  h.flags = flags;
  h.options = std::move(options);
  out.push_back({at, tcp_packet(from.where, to.where, h, payload, from.ip_id++)});
}

void tcp_conversation::data(bool from_us, std::string_view bytes, wall_time at, std::vector<packet>& out) {
  side& from = from_us ? ours_ : theirs_;
  side& to = from_us ? theirs_ : ours_;
  if (reset_ || from.ended || bytes.empty()) return;
  while (!bytes.empty()) {
    std::string_view piece = bytes.substr(0, max_segment);
    bytes.remove_prefix(piece.size());
    emit(from, to, tcp_flag::ack | (bytes.empty() ? tcp_flag::psh : 0), piece, at, out);
    from.next_seq += static_cast<std::uint32_t>(piece.size());
  }
  emit(to, from, tcp_flag::ack, {}, at, out);
}

void tcp_conversation::end(bool from_us, bool reset, wall_time at, std::vector<packet>& out) {
  side& from = from_us ? ours_ : theirs_;
  side& to = from_us ? theirs_ : ours_;
  if (reset_) return;
  if (reset) {
    emit(from, to, tcp_flag::rst | tcp_flag::ack, {}, at, out);
    reset_ = true;
    return;
  }
  if (from.ended) return;
  emit(from, to, tcp_flag::fin | tcp_flag::ack, {}, at, out);
  from.next_seq += 1;  // a FIN takes one sequence number
  from.ended = true;
  emit(to, from, tcp_flag::ack, {}, at, out);
}

void write_file(std::ostream& out, std::vector<packet> packets) {
  std::stable_sort(packets.begin(), packets.end(), [](const packet& a, const packet& b) { return a.at < b.at; });
  le32(out, 0xa1b2c3d4);  // microsecond timestamps
  le16(out, 2);
  le16(out, 4);
  le32(out, 0);       // GMT
  le32(out, 0);       // timestamp accuracy
  le32(out, 262144);  // snapshot length: every packet whole
  le32(out, 101);     // LINKTYPE_RAW: each packet starts with its IPv4 or IPv6 header
  for (const auto& p : packets) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(p.at.time_since_epoch()).count();
    le32(out, static_cast<std::uint32_t>(us / 1000000));
    le32(out, static_cast<std::uint32_t>(us % 1000000));
    le32(out, static_cast<std::uint32_t>(p.bytes.size()));
    le32(out, static_cast<std::uint32_t>(p.bytes.size()));
    out.write(p.bytes.data(), static_cast<std::streamsize>(p.bytes.size()));
  }
}

}  // namespace parley::conform::pcap
