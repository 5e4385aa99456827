#include "conformance/adapters/peerchat/udp_peer.hpp"

#include "impl/core/encoding.hpp"
#include "impl/proto/peerchat/datagram.hpp"

namespace parley::conform::peerchat_engine {

namespace pc = parley::peerchat;

namespace {

// A held-back datagram waits at most this long for a successor before it goes out anyway.
constexpr auto reorder_hold = millis(60);

void add(std::string& note, const char* what) { note += (note.empty() ? "" : ", ") + std::string(what); }

std::string describe(const pc::secure_event& e) {
  using kind = pc::secure_event::kind;
  switch (e.what) {
    case kind::nothing: return "HELLO (again)";
    case kind::keys_ready: return "HELLO";
    case kind::peer_proved:
      return std::string("AUTH flags=") + (e.peer_confirmed ? "1" : "0") + " key=" + pc::format_public_key(e.peer_key);
    case kind::msg: return "MSG text=" + e.text;
    case kind::close: return "CLOSE";
    case kind::keepalive: return "KEEPALIVE";
  }
  return "?";
}

}  // namespace

udp_peer::udp_peer(std::unique_ptr<net::udp_socket> socket, std::string local_ip, std::string remote_ip,
                   unsigned short port)
    : socket_(std::move(socket)), local_ip_(std::move(local_ip)), remote_ip_(std::move(remote_ip)), port_(port) {}

std::string udp_peer::send_raw(const std::string& bytes) {
  if (auto ec = socket_->send_to(bytes, remote_ip_, port_)) return "cannot send a datagram: " + ec.message();
  return {};
}

std::string udp_peer::flush_held() {
  if (!held_) return {};
  std::string bytes = std::move(*held_);
  held_.reset();
  return send_raw(bytes);
}

std::string udp_peer::send(const std::string& bytes, std::string& note) {
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  note.clear();
  // One held back longer than a reorder lasts goes out first, whatever happens to this one.
  if (held_ && clock_type::now() - held_since_ >= reorder_hold) {
    if (auto f = flush_held(); !f.empty()) return f;
    note = "the held-back one went out first";
  }
  if (impairment_.drop > 0 && drops_in_a_row_ < impairment_.max_drops_in_a_row && chance(random_) < impairment_.drop) {
    ++drops_in_a_row_;
    add(note, "dropped by the impairment layer");
    return {};
  }
  drops_in_a_row_ = 0;
  int copies = impairment_.duplicate > 0 && chance(random_) < impairment_.duplicate ? 2 : 1;
  if (!held_ && impairment_.reorder > 0 && chance(random_) < impairment_.reorder) {
    held_ = bytes;
    held_since_ = clock_type::now();
    add(note, "held back to be sent after the next datagram");
    return {};
  }
  if (copies == 2) add(note, "sent twice");
  for (int i = 0; i < copies; ++i)
    if (auto f = send_raw(bytes); !f.empty()) return f;
  if (held_) {
    add(note, "then the held-back one");
    return flush_held();
  }
  return {};
}

std::optional<received> udp_peer::receive(time_point deadline) {
  for (;;) {
    if (held_ && clock_type::now() - held_since_ >= reorder_hold) flush_held();
    auto until = held_ ? std::min(deadline, held_since_ + reorder_hold) : deadline;
    auto d = socket_->receive(until);
    if (!d) {
      if (held_ && clock_type::now() < deadline) continue;
      return std::nullopt;
    }
    received r{{}, d->data, d->host, clock_type::now(), std::nullopt, {}, false, false};
    r.rendered = render(d->data, r);
    // PC-UDP-01: the chat's datagrams come from the client's address and its port n.
    r.foreign = d->host != remote_ip_ || d->port != port_;
    if (r.foreign) r.rendered = "FOREIGN " + d->host + ":" + std::to_string(d->port) + " " + r.rendered;
    return r;
  }
}

// peerchat/1 datagrams in the original's exact layout show as `<Type> from=<user> text=<text>`; anything
// else plain shows as `PLAIN <printable bytes>`, so a case that matches the structured form also checks
// the layout (PC-UDP-02). peerchat/2 datagrams are opened with the engine's session: `HELLO`, `AUTH
// flags=.. key=..`, `MSG text=..`, `CLOSE`, `KEEPALIVE`, or `DROPPED <why>` when the session refuses one.
std::string udp_peer::render(const std::string& bytes, received& r) {
  if (!bytes.empty() && static_cast<std::uint8_t>(bytes[0]) == pc::v2_marker) {
    if (!session) return "V2 (no session) " + core::printable(bytes.substr(0, 40));
    auto e = session->receive(bytes);
    if (!e) {
      r.dropped = e.error();
      return "DROPPED " + e.error().message();
    }
    r.event = *e;
    return describe(*e);
  }
  auto parsed = pc::parse_plain(bytes);
  if (parsed && pc::format_plain(*parsed) == bytes)
    return std::string(pc::type_name(parsed->type)) + " from=" + parsed->user + " text=" + parsed->text;
  r.off_layout = !session;
  return "PLAIN " + core::printable(bytes);
}

}  // namespace parley::conform::peerchat_engine
