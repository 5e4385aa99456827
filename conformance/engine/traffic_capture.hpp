// The engine's traffic tap (parley-conform --pcap and --keylog): every connection and datagram of the
// engine's own sockets, as packets for one capture file, and the secrets of its TLS handshakes as a key log
// Wireshark decrypts them with. Shared by the cases running at once: it locks for itself.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <ostream>
#include <random>
#include <vector>

#include "conformance/engine/pcap_writer.hpp"
#include "impl/net/traffic_tap.hpp"

namespace parley::conform {

class traffic_capture final : public net::traffic_tap {
public:
  // `keep_packets`: build packets for write_pcap (off when only the key log is wanted). `keylog`: where each
  // key log line goes as soon as it is known (flushed, so a run that is killed keeps what it had), or null.
  traffic_capture(bool keep_packets, std::ostream* keylog);

  std::unique_ptr<net::connection_tap> on_open(const net::endpoint& local, const net::endpoint& remote,
                                               bool initiated, time_point at) override;
  void on_datagram(net::direction d, const net::endpoint& local, const net::endpoint& remote,
                   std::string_view bytes, time_point at) override;
  void on_tls_secret(std::string_view line) override;

  // Everything captured so far as a pcap file, in time order.
  void write_pcap(std::ostream& out) const;
  std::size_t connections() const;

private:
  class connection;
  pcap::wall_time wall(time_point at) const { return wall_start_ + (at - steady_start_); }

  const bool keep_packets_;
  std::ostream* keylog_;
  const time_point steady_start_;
  const pcap::wall_time wall_start_;
  mutable std::mutex mutex_;
  std::vector<pcap::packet> packets_;
  std::size_t connections_ = 0;
  std::uint16_t udp_ip_id_ = 0;
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace parley::conform
