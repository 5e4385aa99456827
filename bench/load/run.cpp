#include "bench/load/run.hpp"

#include "impl/core/encoding.hpp"
#include "impl/net/tls_client_fd.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>

namespace parley::load {
namespace {

using steady = std::chrono::steady_clock;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count());
}

struct connection {
  int fd = -1;
  bool open = false;  // connected
  bool logged_in = false;
  bool wants_login = true;  // hold mode leaves half of them anonymous
  std::unique_ptr<net::fd_tls_stream> tls;  // when the dialect speaks TLS
  bool greeted = false;             // the dialect's greeting (a WebSocket upgrade) is answered
  std::string in, out;
  std::string partial;              // a WebSocket message that came in fragments
  std::size_t out_begin = 0;
  bool watching_writable = false;
  // As a sender: messages sent, messages every receiver has (the window's start), receivers per slot.
  std::uint64_t sent = 0, frontier = 0;
  std::vector<std::uint32_t> slots;
};

class load_run {
public:
  load_run(const run_options& o, dialect& d, std::function<void(std::uint64_t)> progress,
           std::function<void()> ready)
      : o_(o), speech_(d), progress_(std::move(progress)), ready_(std::move(ready)),
        conns_(o.clients), deadline_(steady::now() + std::chrono::duration_cast<steady::duration>(
                                                    std::chrono::duration<double>(o.timeout_seconds))) {
    senders_ = o.mode == mode::fanout ? 1 : o.mode == mode::all_to_all ? o.clients : 0;
    expected_.assign(o.clients * std::max<std::size_t>(senders_, 1), 0);
    for (std::size_t s = 0; s < senders_; ++s) conns_[s].slots.assign(o.window, 0);
    if (o.mode == mode::hold)
      for (std::size_t i = 0; i < o.clients; ++i) conns_[i].wants_login = i % 2 == 0;
    if (d.tls()) tls_ = std::make_unique<net::fd_tls_context>();
  }

  run_result go() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (!connect_all() || !wait_for_logins() || !set_up()) return finish();
    if (ready_) ready_();
    switch (o_.mode) {
      case mode::hold: hold(); break;
      case mode::rtt: round_trips(); break;
      default: relay(); break;
    }
    return finish();
  }

private:
  // --- connections -------------------------------------------------------------------------------------
  bool connect_all() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(o_.port);
    if (inet_pton(AF_INET, o_.host.c_str(), &address.sin_addr) != 1) return fail("not an IPv4 address: " + o_.host);
    // At most this many connections between their connect and their login, so that neither the target's
    // listen backlog (ngIRCd's is 10: a connect the kernel completed but the server never accepted is
    // reset) nor its login storm is what is measured.
    constexpr std::size_t in_flight = 64;
    std::size_t started = 0;
    while (started < o_.clients) {
      while (started < o_.clients && started - (result_.logged_in + anonymous_open_) < in_flight) {
        auto& c = conns_[started];
        c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 && errno != EINPROGRESS)
          return fail("connection " + std::to_string(started) + ": " + std::strerror(errno));
        epoll_event e{EPOLLOUT, {.u64 = started}};
        epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &e);
        c.watching_writable = true;
        ++started;
      }
      if (!poll_once()) return false;
    }
    return true;
  }

  bool wait_for_logins() {
    std::size_t wanted = 0;
    for (auto& c : conns_) wanted += c.wants_login;
    while (result_.logged_in < wanted || result_.connected < o_.clients)
      if (!poll_once()) return false;
    return true;
  }

  // Relay modes: what the protocol needs before a message can reach everyone (multiparty's sessions).
  bool set_up() {
    if (senders_ == 0) return true;
    setting_up_ = true;
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      speech_.begin_setup(i, conns_[i].out);
      if (!conns_[i].out.empty()) flush(i);
    }
    while (!speech_.set_up())
      if (!poll_once()) return false;
    setting_up_ = false;
    return true;
  }

  // One round of epoll: reads, writes, and the end of connects. False once the run has failed.
  bool poll_once() {
    if (!result_.failure.empty()) return false;
    if (steady::now() > deadline_) return fail(timeout_reason());
    epoll_event events[256];
    int n = epoll_wait(epoll_, events, 256, 100);
    for (int i = 0; i < n && result_.failure.empty(); ++i) {
      auto index = static_cast<std::size_t>(events[i].data.u64);
      auto& c = conns_[index];
      if (!c.open && (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) connected(index);
      else if (c.tls && !c.tls->handshaken()) handshake(index);
      else {
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) readable(index);
        if (result_.failure.empty() && (events[i].events & EPOLLOUT)) flush(index);
      }
    }
    refill_senders();
    return result_.failure.empty();
  }

  void connected(std::size_t index) {
    auto& c = conns_[index];
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      fail("connection " + std::to_string(index) + " could not connect: " + std::strerror(error));
      return;
    }
    c.open = true;
    ++result_.connected;
    if (!c.wants_login) ++anonymous_open_;
    watch(index, false);
    auto greeting = speech_.greeting(o_.host, o_.port);
    if (greeting.empty()) greeted(index);
    else c.out += greeting;
    if (tls_) {
      c.tls = std::make_unique<net::fd_tls_stream>(*tls_, c.fd);
      handshake(index);
    } else {
      flush(index);
    }
  }

  // The connection is ready for its login (after the greeting's answer, if the dialect has a greeting).
  void greeted(std::size_t index) {
    auto& c = conns_[index];
    c.greeted = true;
    if (c.wants_login) c.out += speech_.login(index, name_of(index));
  }

  // Goes on with a TLS handshake; once it is done, what waited (the login) goes out.
  void handshake(std::size_t index) {
    auto& c = conns_[index];
    switch (c.tls->handshake()) {
      case net::tls_wait::none: flush(index); break;
      case net::tls_wait::readable: if (c.watching_writable) watch(index, false); break;
      case net::tls_wait::writable: if (!c.watching_writable) watch(index, true); break;
      case net::tls_wait::failed: fail("connection " + std::to_string(index) + ": TLS handshake: " + c.tls->error()); break;
    }
  }

  // Bytes of c.out from out_begin into the connection; 0 when none can go now (with `stop` set on failure).
  std::size_t send_some(std::size_t index, bool& stop) {
    auto& c = conns_[index];
    std::string_view rest(c.out.data() + c.out_begin, c.out.size() - c.out_begin);
    if (c.tls) {
      net::tls_wait wait = net::tls_wait::none;
      auto n = c.tls->write(rest, wait);
      if (wait == net::tls_wait::failed) {
        stop = true;
        fail("connection " + std::to_string(index) + " write failed: " + c.tls->error());
      }
      return n;
    }
    ssize_t n = ::send(c.fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      stop = true;
      fail("connection " + std::to_string(index) + " write failed: " + std::strerror(errno));
    }
    return 0;
  }

  void watch(std::size_t index, bool writable) {
    auto& c = conns_[index];
    c.watching_writable = writable;
    std::uint32_t events = EPOLLIN;
    if (writable) events |= EPOLLOUT;
    epoll_event e{events, {.u64 = index}};
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &e);
  }

  void flush(std::size_t index) {
    auto& c = conns_[index];
    if (c.tls && !c.tls->handshaken()) return;  // the handshake sends it when it is done
    while (c.out_begin < c.out.size()) {
      bool stop = false;
      auto n = send_some(index, stop);
      if (stop) return;
      if (n == 0) break;
      c.out_begin += n;
    }
    bool pending = c.out_begin < c.out.size();
    if (!pending) {
      c.out.clear();
      c.out_begin = 0;
    }
    if (pending != c.watching_writable) watch(index, pending);
  }

  // Takes in what arrived, and acts on every whole unit of it, those before an end of the connection too
  // (a server that refuses a login says why and closes: the reason is the refusal, not the close).
  void readable(std::size_t index) {
    auto& c = conns_[index];
    std::string closed = receive(index);
    std::string problem;
    if (!c.greeted) {
      if (!speech_.take_greeting_answer(c.in, problem)) {
        if (!problem.empty()) fail("connection " + std::to_string(index) + " (" + name_of(index) + "): " + problem);
        else if (!closed.empty()) fail(closed);
        return;
      }
      greeted(index);
    }
    std::size_t begin = 0;
    while (auto unit = speech_.next_unit(index, c.in, begin, c.partial, c.out, problem)) {
      handle_line(index, *unit);
      if (!result_.failure.empty()) return;
    }
    if (!problem.empty()) {
      fail("connection " + std::to_string(index) + " (" + name_of(index) + "): " + problem + last_line(c));
      return;
    }
    if (!closed.empty()) {
      fail(closed);
      return;
    }
    c.in.erase(0, begin);
    if (!c.out.empty()) flush(index);
  }

  // Reads everything the connection has into c.in; "" while it stays open, else how it ended.
  std::string receive(std::size_t index) {
    auto& c = conns_[index];
    char buffer[65536];
    auto ended = [&] { return "connection " + std::to_string(index) + " (" + name_of(index) + ") was closed by the target"; };
    while (c.tls) {
      net::tls_wait wait = net::tls_wait::none;
      auto n = c.tls->read(buffer, sizeof buffer, wait);
      if (n > 0) {
        c.in.append(buffer, n);
        continue;
      }
      if (wait != net::tls_wait::failed) return {};
      return ended() + ": " + c.tls->error() + last_line(c);
    }
    for (;;) {
      ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        c.in.append(buffer, static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < sizeof buffer) return {};
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {};
      return ended() + (n < 0 ? std::string(": ") + std::strerror(errno) : std::string()) + last_line(c);
    }
  }

  // The start of what the connection holds unread, when it is text (a multiparty frame is ciphertext).
  static std::string last_line(const connection& c) {
    auto start = c.in.substr(0, 200);
    bool text = std::all_of(start.begin(), start.end(), [](char ch) { return ch == '\r' || ch == '\n' || ch >= ' '; });
    return c.in.empty() || !text ? std::string() : " after '" + start + "'";
  }

  void handle_line(std::size_t index, std::string_view line) {
    auto& c = conns_[index];
    if (speech_.answer_probe(c.out, line)) return;
    if (!c.logged_in) {
      if (speech_.logged_in(line, name_of(index))) {
        c.logged_in = true;
        ++result_.logged_in;
      } else if (speech_.refused(line)) {
        fail(name_of(index) + " could not log in: '" + std::string(line) + "'");
      }
      return;
    }
    if (o_.mode == mode::rtt && index == 0 && awaiting_reply_ && speech_.is_reply(line, token_)) {
      result_.latency.record(now_ns() - request_sent_);
      ++result_.delivered;
      awaiting_reply_ = false;
      return;
    }
    // In rtt and hold modes the others only idle: an itp request is a broadcast they also receive.
    if (senders_ == 0) return;
    if (auto body = speech_.relayed(line)) delivered(index, *body);
  }

  // --- relay modes -------------------------------------------------------------------------------------
  // A message's text: "<sender>.<sequence>.<send time ns>." and padding up to the size.
  void append_message(std::string& out, std::size_t sender, std::uint64_t sequence) {
    body_.clear();  // keeps its capacity: no allocation per message
    for (std::uint64_t part : {std::uint64_t{sender}, sequence, now_ns()}) {
      char digits[24];
      body_.append(digits, std::to_chars(digits, digits + sizeof digits, part).ptr).push_back('.');
    }
    if (body_.size() < o_.size) body_.append(o_.size - body_.size(), 'x');
    speech_.append_broadcast(out, sender, body_);
  }

  void delivered(std::size_t receiver, std::string_view body) {
    std::uint64_t parts[3];
    const char* at = body.data();
    const char* end = body.data() + body.size();
    for (auto& part : parts) {
      auto [next, ec] = std::from_chars(at, end, part);
      if (ec != std::errc{} || next == end || *next != '.')
        return error("a delivery that parley-load did not send: '" + core::printable(body.substr(0, 80)) + "'");
      at = next + 1;
    }
    // The padding too: a relay that changed the text still delivered that message, so it counts as one
    // (the sender's window moves on) and as an error.
    std::size_t prefix = static_cast<std::size_t>(at - body.data());
    if (body.size() != std::max(o_.size, prefix) || std::any_of(at, end, [](char ch) { return ch != 'x'; }))
      error("a delivery whose text was changed: '" + core::printable(body.substr(0, 80)) + "'");
    auto sender = static_cast<std::size_t>(parts[0]);
    std::uint64_t sequence = parts[1];
    if (sender >= senders_ || sender == receiver)
      return error(name_of(receiver) + " got a message as if from " + std::to_string(sender));
    ++result_.delivered;
    result_.latency.record(now_ns() - parts[2]);
    auto& expected = expected_[receiver * senders_ + sender];
    if (sequence != expected) {
      error(name_of(receiver) + " got message " + std::to_string(sequence) + " of " + name_of(sender) + " where " +
            std::to_string(expected) + " was due (" +
            (sequence < expected ? "a duplicate or reordered delivery)" : "a lost or reordered delivery)"));
      if (sequence < expected) return;
    }
    expected = sequence + 1;
    auto& s = conns_[sender];
    if (sequence < s.frontier || sequence >= s.sent) return;
    auto receivers = static_cast<std::uint32_t>(o_.clients - 1);
    if (++s.slots[sequence % o_.window] < receivers) return;
    while (s.frontier < s.sent && s.slots[s.frontier % o_.window] >= receivers) s.slots[s.frontier++ % o_.window] = 0;
  }

  void error(std::string what) {
    ++result_.errors;
    if (result_.error_samples.size() < 10) result_.error_samples.push_back(std::move(what));
  }

  // Every sender sends what its window allows, all of it in one write.
  void refill_senders() {
    if (!relaying_) return;
    for (std::size_t s = 0; s < senders_; ++s) {
      auto& c = conns_[s];
      bool added = false;
      while (c.sent < o_.messages && c.sent - c.frontier < o_.window) {
        append_message(c.out, s, c.sent++);
        ++result_.sent;
        added = true;
      }
      if (added) flush(s);
    }
  }

  bool all_delivered() const {
    for (std::size_t s = 0; s < senders_; ++s)
      if (conns_[s].frontier < o_.messages) return false;
    return true;
  }

  void relay() {
    if (o_.clients < 2) return void(fail("a relay needs at least 2 clients"));
    auto started = steady::now();
    relaying_ = true;
    auto reported = started;
    while (!all_delivered() && poll_once()) {
      if (steady::now() - reported > std::chrono::seconds(1)) {
        reported = steady::now();
        if (progress_) progress_(result_.delivered);
      }
    }
    result_.seconds = std::chrono::duration<double>(steady::now() - started).count();
  }

  void round_trips() {
    auto started = steady::now();
    for (std::uint64_t k = 0; k < o_.messages && result_.failure.empty(); ++k) {
      token_ = "rtt." + std::to_string(k);
      request_sent_ = now_ns();
      awaiting_reply_ = true;
      speech_.append_request(0, conns_[0].out, token_);
      ++result_.sent;
      flush(0);
      while (awaiting_reply_ && poll_once()) {
      }
    }
    result_.seconds = std::chrono::duration<double>(steady::now() - started).count();
  }

  void hold() {
    auto started = steady::now();
    auto until = started + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(o_.hold_seconds));
    while (steady::now() < until && poll_once()) {
    }
    result_.seconds = std::chrono::duration<double>(steady::now() - started).count();
  }

  // --- ending ------------------------------------------------------------------------------------------
  std::string timeout_reason() const {
    if (result_.connected < o_.clients)
      return std::to_string(result_.connected) + " of " + std::to_string(o_.clients) + " connections open at the timeout";
    if (setting_up_) return "the users were logged in, but not ready to reach each other at the timeout";
    if (!relaying_ && o_.mode != mode::rtt && o_.mode != mode::hold)
      return std::to_string(result_.logged_in) + " of " + std::to_string(o_.clients) + " users logged in at the timeout";
    std::uint64_t missing = 0;
    for (std::size_t s = 0; s < senders_; ++s) missing += (conns_[s].sent - conns_[s].frontier);
    return "the run timed out with " + std::to_string(missing) + " messages not yet delivered to every receiver";
  }

  bool fail(std::string why) {
    if (result_.failure.empty()) result_.failure = std::move(why);
    return false;
  }

  run_result finish() {
    for (auto& c : conns_)
      if (c.fd >= 0) close(c.fd);
    if (epoll_ >= 0) close(epoll_);
    return std::move(result_);
  }

  std::string name_of(std::size_t index) const { return user_name(o_.name_prefix, index); }

  const run_options& o_;
  dialect& speech_;
  std::function<void(std::uint64_t)> progress_;
  std::function<void()> ready_;
  std::vector<connection> conns_;
  steady::time_point deadline_;
  std::size_t senders_ = 0;
  std::vector<std::uint64_t> expected_;  // receiver x sender: the next sequence due
  run_result result_;
  int epoll_ = -1;
  std::unique_ptr<net::fd_tls_context> tls_;  // when the dialect speaks TLS
  bool relaying_ = false;
  bool setting_up_ = false;
  std::size_t anonymous_open_ = 0;  // hold mode: connections that stay anonymous and are open
  std::string body_, token_;
  std::uint64_t request_sent_ = 0;
  bool awaiting_reply_ = false;
};

}  // namespace

run_result run(const run_options& options, dialect& speech, std::function<void(std::uint64_t)> progress,
               std::function<void()> ready) {
  return load_run(options, speech, std::move(progress), std::move(ready)).go();
}

}  // namespace parley::load
