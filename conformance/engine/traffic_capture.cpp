#include "conformance/engine/traffic_capture.hpp"

#include <chrono>
#include <optional>

namespace parley::conform {

// One TCP connection: its events become packets of the conversation as they happen, under the capture's lock.
class traffic_capture::connection final : public net::connection_tap {
public:
  connection(traffic_capture& owner, pcap::tcp_conversation conversation, time_point opened)
      : owner_(owner), conversation_(std::move(conversation)), last_(opened) {}

  void on_bytes(net::direction d, std::string_view bytes, time_point at) override {
    std::lock_guard lock(owner_.mutex_);
    conversation_.data(d == net::direction::out, bytes, owner_.wall(ordered(at)), owner_.packets_);
  }
  void on_end(net::direction d, bool reset, time_point at) override {
    std::lock_guard lock(owner_.mutex_);
    conversation_.end(d == net::direction::out, reset, owner_.wall(ordered(at)), owner_.packets_);
  }

private:
  // A connection's packets stay in the order they were made even if a clock reading went backwards, so
  // sorting the file by time keeps every stream's sequence numbers in order.
  time_point ordered(time_point at) {
    last_ = std::max(last_, at);
    return last_;
  }

  traffic_capture& owner_;
  pcap::tcp_conversation conversation_;
  time_point last_;
};

traffic_capture::traffic_capture(bool keep_packets, std::ostream* keylog)
    : keep_packets_(keep_packets), keylog_(keylog), steady_start_(clock_type::now()),
      wall_start_(std::chrono::time_point_cast<pcap::wall_time::duration>(std::chrono::system_clock::now())) {}

std::unique_ptr<net::connection_tap> traffic_capture::on_open(const net::endpoint& local, const net::endpoint& remote,
                                                              bool initiated, time_point at) {
  if (!keep_packets_) return nullptr;
  auto ours = pcap::parse_address(local.address, local.port);
  auto theirs = pcap::parse_address(remote.address, remote.port);
  if (!ours || !theirs || ours->v6 != theirs->v6) return nullptr;
  std::lock_guard lock(mutex_);
  ++connections_;
  auto our_isn = static_cast<std::uint32_t>(random_()), their_isn = static_cast<std::uint32_t>(random_());
  pcap::tcp_conversation conversation(*ours, *theirs, initiated, wall(at), our_isn, their_isn, packets_);
  return std::make_unique<connection>(*this, std::move(conversation), at);
}

void traffic_capture::on_datagram(net::direction d, const net::endpoint& local, const net::endpoint& remote,
                                  std::string_view bytes, time_point at) {
  if (!keep_packets_) return;
  auto ours = pcap::parse_address(local.address, local.port);
  auto theirs = pcap::parse_address(remote.address, remote.port);
  if (!ours || !theirs || ours->v6 != theirs->v6) return;
  bool out = d == net::direction::out;
  std::lock_guard lock(mutex_);
  packets_.push_back({wall(at), pcap::udp_packet(out ? *ours : *theirs, out ? *theirs : *ours, bytes, udp_ip_id_++)});
}

void traffic_capture::on_tls_secret(std::string_view line) {
  if (!keylog_) return;
  std::lock_guard lock(mutex_);
  *keylog_ << line << '\n' << std::flush;
}

void traffic_capture::write_pcap(std::ostream& out) const {
  std::lock_guard lock(mutex_);
  pcap::write_file(out, packets_);
}

std::size_t traffic_capture::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

}  // namespace parley::conform
