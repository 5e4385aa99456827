#include "conformance/engine/pcap_writer.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace parley::conform::pcap {
namespace {

std::uint32_t get16(const std::string& p, std::size_t at) {
  return (static_cast<std::uint8_t>(p[at]) << 8) | static_cast<std::uint8_t>(p[at + 1]);
}
std::uint32_t get32(const std::string& p, std::size_t at) { return (get16(p, at) << 16) | get16(p, at + 2); }

address v4(const char* ip, std::uint16_t port) { return *parse_address(ip, port); }

// The fields of one IPv4 TCP packet, and whether both its checksums hold (computed here independently).
struct tcp_view {
  std::uint32_t seq, ack, sport, dport;
  std::uint8_t flags;
  std::string payload;
  bool ip_checksum_ok, tcp_checksum_ok;
};
tcp_view view(const std::string& p) {
  EXPECT_EQ(static_cast<std::uint8_t>(p[0]), 0x45);
  EXPECT_EQ(get16(p, 2), p.size());
  EXPECT_EQ(p[9], 6);
  std::string segment = p.substr(20);
  std::string pseudo = p.substr(12, 8) + std::string(1, '\0') + std::string(1, '\6');
  pseudo += static_cast<char>(segment.size() >> 8);
  pseudo += static_cast<char>(segment.size() & 0xff);
  std::size_t header = (static_cast<std::uint8_t>(segment[12]) >> 4) * 4u;
  return {get32(segment, 4), get32(segment, 8), get16(segment, 0), get16(segment, 2),
          static_cast<std::uint8_t>(segment[13]), segment.substr(header),
          internet_checksum(p.substr(0, 20)) == 0, internet_checksum(pseudo + segment) == 0};
}

TEST(pcap_writer, checksum_matches_rfc1071_example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
  EXPECT_EQ(internet_checksum(std::string("\x00\x01\xf2\x03\xf4\xf5\xf6\xf7", 8)), 0x220d);
  EXPECT_EQ(internet_checksum(std::string("\x00\x01\xf2", 3)), static_cast<std::uint16_t>(~(0x0001 + 0xf200)));
}

TEST(pcap_writer, parses_addresses) {
  auto a = parse_address("127.0.0.2", 80);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->v6);
  EXPECT_EQ(a->octets[0], 127);
  EXPECT_EQ(a->octets[3], 2);
  auto mapped = parse_address("::ffff:127.0.0.1", 1);
  ASSERT_TRUE(mapped);
  EXPECT_FALSE(mapped->v6);
  EXPECT_EQ(mapped->octets[0], 127);
  auto six = parse_address("::1", 1);
  ASSERT_TRUE(six);
  EXPECT_TRUE(six->v6);
  EXPECT_FALSE(parse_address("localhost", 1));
}

TEST(pcap_writer, tcp_and_udp_packets_carry_correct_checksums) {
  tcp_header h{.seq = 1000, .ack = 2000, .flags = tcp_flag::ack | tcp_flag::psh};
  for (const std::string& payload : std::vector<std::string>{"", "x", "hello\n", std::string(1001, '\xff')}) {
    auto t = view(tcp_packet(v4("127.0.0.1", 40000), v4("127.0.0.2", 6667), h, payload, 7));
    EXPECT_TRUE(t.ip_checksum_ok);
    EXPECT_TRUE(t.tcp_checksum_ok) << payload.size();
    EXPECT_EQ(t.payload, payload);
    EXPECT_EQ(t.sport, 40000u);
    EXPECT_EQ(t.dport, 6667u);
  }
  std::string u = udp_packet(v4("127.0.0.2", 9000), v4("127.0.0.1", 9001), "odd", 1);
  EXPECT_EQ(u[9], 17);
  EXPECT_EQ(internet_checksum(u.substr(0, 20)), 0);
  std::string pseudo = u.substr(12, 8) + std::string("\0\x11\0\x0b", 4);
  EXPECT_EQ(internet_checksum(pseudo + u.substr(20)), 0);
  EXPECT_EQ(u.substr(28), "odd");
}

TEST(pcap_writer, ipv6_packets_checksum_over_the_ipv6_pseudo_header) {
  auto a = *parse_address("::1", 5000), b = *parse_address("::1", 5001);
  std::string p = tcp_packet(a, b, {.seq = 1, .flags = tcp_flag::syn}, "", 0);
  ASSERT_EQ(p.size(), 60u);
  EXPECT_EQ(static_cast<std::uint8_t>(p[0]) >> 4, 6);
  EXPECT_EQ(get16(p, 4), 20u);  // payload length: the TCP header
  std::string pseudo = p.substr(8, 32) + std::string("\0\0\0\x14\0\0\0\x06", 8);
  EXPECT_EQ(internet_checksum(pseudo + p.substr(40)), 0);
}

TEST(pcap_writer, conversation_numbers_handshake_data_and_fin) {
  std::vector<packet> out;
  wall_time t0{};
  auto us = v4("127.0.0.1", 40000), them = v4("127.0.0.1", 6667);
  tcp_conversation c(us, them, true, t0, 100, 5000, out);
  ASSERT_EQ(out.size(), 3u);
  auto syn = view(out[0].bytes), syn_ack = view(out[1].bytes), ack = view(out[2].bytes);
  EXPECT_EQ(syn.flags, tcp_flag::syn);
  EXPECT_EQ(syn.seq, 100u);
  EXPECT_EQ(syn.sport, 40000u);
  EXPECT_EQ(syn_ack.flags, tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(syn_ack.seq, 5000u);
  EXPECT_EQ(syn_ack.ack, 101u);
  EXPECT_EQ(ack.flags, tcp_flag::ack);
  EXPECT_EQ(ack.seq, 101u);
  EXPECT_EQ(ack.ack, 5001u);

  out.clear();
  c.data(true, "NICK a\n", t0, out);  // a segment, then the peer's ACK
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(view(out[0].bytes).seq, 101u);
  EXPECT_EQ(view(out[0].bytes).ack, 5001u);
  EXPECT_EQ(view(out[0].bytes).payload, "NICK a\n");
  EXPECT_EQ(view(out[1].bytes).sport, 6667u);
  EXPECT_EQ(view(out[1].bytes).ack, 108u);

  out.clear();
  c.data(false, "OK\n", t0, out);
  EXPECT_EQ(view(out[0].bytes).seq, 5001u);
  EXPECT_EQ(view(out[0].bytes).ack, 108u);
  EXPECT_EQ(view(out[1].bytes).ack, 5004u);

  out.clear();
  c.end(true, false, t0, out);  // our FIN takes one sequence number
  c.end(true, false, t0, out);  // told twice: once is enough
  c.end(false, false, t0, out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(view(out[0].bytes).flags, tcp_flag::fin | tcp_flag::ack);
  EXPECT_EQ(view(out[0].bytes).seq, 108u);
  EXPECT_EQ(view(out[1].bytes).ack, 109u);
  EXPECT_EQ(view(out[2].bytes).flags, tcp_flag::fin | tcp_flag::ack);
  EXPECT_EQ(view(out[2].bytes).seq, 5004u);
  EXPECT_EQ(view(out[2].bytes).ack, 109u);
  EXPECT_EQ(view(out[3].bytes).ack, 5005u);
  for (const auto& p : out) EXPECT_TRUE(view(p.bytes).tcp_checksum_ok);
}

TEST(pcap_writer, long_writes_are_split_and_sequence_numbers_wrap) {
  std::vector<packet> out;
  tcp_conversation c(v4("127.0.0.1", 1), v4("127.0.0.2", 2), false, {}, 0xffffff00u, 7, out);
  EXPECT_EQ(view(out[0].bytes).sport, 2u);  // accepted: the peer's SYN comes first
  out.clear();
  std::string big(2 * max_segment + 10, 'a');
  c.data(true, big, {}, out);
  ASSERT_EQ(out.size(), 4u);  // three segments and one ACK
  std::uint32_t seq = 0xffffff01u;
  std::string joined;
  for (int i = 0; i < 3; ++i) {
    auto v = view(out[i].bytes);
    EXPECT_LE(out[i].bytes.size(), 65535u);
    EXPECT_EQ(v.seq, seq);
    EXPECT_EQ((v.flags & tcp_flag::psh) != 0, i == 2);
    EXPECT_TRUE(v.tcp_checksum_ok);
    seq += static_cast<std::uint32_t>(v.payload.size());
    joined += v.payload;
  }
  EXPECT_EQ(joined, big);
  EXPECT_EQ(view(out[3].bytes).ack, seq);
}

TEST(pcap_writer, a_reset_ends_the_conversation) {
  std::vector<packet> out;
  tcp_conversation c(v4("127.0.0.1", 1), v4("127.0.0.2", 2), true, {}, 1, 1, out);
  out.clear();
  c.end(false, true, {}, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(view(out[0].bytes).flags, tcp_flag::rst | tcp_flag::ack);
  EXPECT_EQ(view(out[0].bytes).sport, 2u);
  c.data(true, "late", {}, out);
  c.end(true, false, {}, out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(pcap_writer, file_is_classic_pcap_in_time_order) {
  wall_time t0{std::chrono::seconds(1700000000)};
  std::vector<packet> packets = {{t0 + std::chrono::microseconds(20), "late"},
                                 {t0, "first"},
                                 {t0, "second"}};
  std::ostringstream out;
  write_file(out, packets);
  std::string f = out.str();
  ASSERT_EQ(f.size(), 24u + 3 * 16 + 5 + 6 + 4);
  EXPECT_EQ(f.substr(0, 4), std::string("\xd4\xc3\xb2\xa1", 4));
  EXPECT_EQ(f.substr(20, 4), std::string("\x65\0\0\0", 4));  // LINKTYPE_RAW
  EXPECT_EQ(f.substr(24 + 16, 5), "first");
  EXPECT_EQ(f.substr(24 + 16 + 5 + 16, 6), "second");
  EXPECT_EQ(f.substr(24 + 16 + 5 + 16 + 6 + 4, 4), std::string("\x14\0\0\0", 4));  // 20 microseconds
  EXPECT_EQ(f.substr(f.size() - 4), "late");
}

}  // namespace
}  // namespace parley::conform::pcap
