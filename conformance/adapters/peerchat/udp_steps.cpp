// UDP steps: the engine as the other peer of the client's chat, in peerchat/1 or peerchat/2, with the
// impairment layer on its own datagrams.
#include <algorithm>
#include <regex>
#include <thread>

#include "conformance/adapters/peerchat/steps.hpp"
#include "impl/core/encoding.hpp"
#include "impl/proto/peerchat/datagram.hpp"
#include "impl/proto/peerchat/errc.hpp"

namespace parley::conform::peerchat_engine {
namespace {

// The rule a datagram of the client's breaks by its form alone, whatever the step was waiting for, so that
// a step that fails on it charges that rule (wire-first attribution): the wrong source (PC-UDP-01), a
// peerchat/1 datagram off the original's layout (PC-UDP-02) or too big or with a NUL (PC-UDP-04), a
// peerchat/2 datagram the engine's session refused for the reason its rule names. "" when its form is fine.
std::string form_rule(const received& r) {
  if (r.foreign) return "PC-UDP-01";
  if (r.off_layout)
    return r.bytes.size() > pc::max_datagram || r.bytes.find('\0') != std::string::npos ? "PC-UDP-04" : "PC-UDP-02";
  if (!r.dropped) return {};
  switch (static_cast<pc::errc>(r.dropped.value())) {
    case pc::errc::too_short:
    case pc::errc::unknown_kind: return "PC-HS-01";
    case pc::errc::wrong_peer:
    case pc::errc::no_keys: return "PC-HS-02";  // a HELLO naming another user, or records with no HELLO first
    case pc::errc::weak_secret: return "PC-HS-03";
    case pc::errc::bad_signature: return "PC-HS-04";
    case pc::errc::bad_tag: return "PC-REC-01";  // wrong keys, nonce or associated data
    case pc::errc::replayed: return "PC-REC-02";  // the client used a seq twice
    case pc::errc::bad_record: return "PC-REC-03";
    default: return {};  // e.g. a MSG before the engine accepted the client's AUTH: no defect by itself
  }
}

std::string why_form(const received& r, const std::string& rule) {
  if (rule == "PC-UDP-01") return " (it came from another address or port than the chat's port n)";
  if (rule == "PC-UDP-02") return " (not the original's layout 'user LF type LF text LF LF')";
  if (rule == "PC-UDP-04") return " (" + std::to_string(r.bytes.size()) + " bytes, or a NUL: not a valid datagram)";
  return " (the engine's peerchat/2 session refused it)";
}

// A datagram that failed a step: charged to the rule its form breaks, if any, else to the step's rule.
std::string fail_on(const received& r, case_context& ctx, std::string failure) {
  std::string rule = form_rule(r);
  if (rule.empty()) return failure;
  return ctx.blame(rule, failure + why_form(r, rule));
}

// HELLO, and AUTH once keyed, from the engine's peer (PC-HS-07).
std::string send_handshake(udp_peer& peer, case_context& ctx) {
  std::string note;
  if (auto f = peer.send(peer.session->hello(), note); !f.empty()) return f;
  ctx.note("udp", '>', "HELLO" + (note.empty() ? "" : "  [" + note + "]"));
  if (!peer.session->has_keys()) return {};
  auto auth = peer.session->auth();
  if (!auth) return "cannot make AUTH: " + auth.error().message();
  peer.last_sealed = *auth;
  if (auto f = peer.send(*auth, note); !f.empty()) return f;
  ctx.note("udp", '>', std::string("AUTH flags=") + (peer.authenticated ? "1" : "0") + (note.empty() ? "" : "  [" + note + "]"));
  return {};
}

// A step's `skip` regexes (variables substituted): datagrams such as repeated Connects to pass over.
std::vector<std::regex> skip_patterns(const step& s, case_context& ctx) {
  std::vector<std::regex> skip;
  if (s.args["skip"])
    for (const auto& p : s.args["skip"]) skip.emplace_back(ctx.substitute(p.as<std::string>()));
  return skip;
}

bool skipped(const std::vector<std::regex>& skip, const std::string& rendered) {
  return std::any_of(skip.begin(), skip.end(), [&](const std::regex& k) { return std::regex_search(rendered, k); });
}

// udp_send's `until`: a copy every `gap` ms until the answer comes. A peer answers a Connect at most
// once per 250 ms (PC-UDP-06), by its own clock: a burst of copies sent on a timer can reach a client that
// was kept off the CPU all at once, inside 250 ms of its last answer, and be rightly left unanswered. A copy
// sent only after 300 ms without an answer always finds the limit passed on the client's clock too.
template <typename Send>
std::string send_until_answered(const step& s, case_context& ctx, udp_peer& peer, Send send_once) {
  std::regex want(arg(s, ctx, "until"));
  auto skip = skip_patterns(s, ctx);
  double gap_ms = number(s, ctx, "gap", 300);
  auto deadline = ctx.deadline(duration_expr{arg(s, ctx, "within", "3000")}, 3000);
  int copies = 0;
  do {
    if (auto f = send_once(); !f.empty()) return f;
    ++copies;
    auto next_copy = std::min(deadline, ctx.deadline({}, gap_ms));
    while (auto r = peer.receive(next_copy)) {
      ctx.note("udp", '<', r->rendered);
      if (std::regex_search(r->rendered, want)) return {};
      if (!skipped(skip, r->rendered)) return fail_on(*r, ctx, "unexpected datagram: " + r->rendered);
    }
  } while (clock_type::now() < deadline);
  return "no datagram matching /" + arg(s, ctx, "until") + "/ came back to " + std::to_string(copies) + " copies sent " +
         std::to_string(static_cast<long long>(gap_ms)) + " ms apart";
}

}  // namespace

// The engine's own datagrams from now on: `drop`, `duplicate` and `reorder` probabilities, and at most
// `max_drops_in_a_row` (default 2) dropped one after another.
std::string impair(const step& s, case_context& ctx) {
  auto& peer = peer_of(ctx, s);
  peerchat_engine::impairment i;
  i.drop = number(s, ctx, "drop", 0);
  i.duplicate = number(s, ctx, "duplicate", 0);
  i.reorder = number(s, ctx, "reorder", 0);
  i.max_drops_in_a_row = static_cast<int>(number(s, ctx, "max_drops_in_a_row", i.max_drops_in_a_row));
  peer.impair(i);
  ctx.note("udp", '*', "impairment: drop " + std::to_string(i.drop) + " (at most " +
                           std::to_string(i.max_drops_in_a_row) + " in a row), duplicate " +
                           std::to_string(i.duplicate) + ", reorder " + std::to_string(i.reorder));
  return {};
}

// A datagram from the engine's peer: `text` (exact bytes, YAML escapes allowed), `type`/`user`/`body`
// in the original's layout, or (peerchat/2) `hello: true`, the engine's own HELLO again. `from: stranger`
// sends it from 127.0.0.3 instead; `impaired: true` lets the impairment layer handle it. `repeat` sends it
// that many times, `gap` ms apart. `until: REGEX` sends it again every `gap` ms (default 300) until a
// datagram matching REGEX comes back, within `within` ms (default 3000); `skip` regexes pass over others.
std::string udp_send(const step& s, case_context& ctx) {
  auto& peer = peer_of(ctx, s);
  std::string bytes;
  if (s.args["text"]) {
    bytes = arg(s, ctx, "text");
  } else if (flag(s, "hello")) {
    // The engine peer's own HELLO once more: a live peerchat/2 chat answers it (PC-HS-07), an ended one not.
    if (!peer.session) throw case_error("peerchat.udp_send hello in a peerchat/1 chat (line " + std::to_string(s.line) + ")");
    bytes = peer.session->hello();
  } else if (flag(s, "forged_hello")) {
    // A HELLO under the engine peer's name with an ephemeral key of its own: what an injector would send
    // (PC-HS-02 says the first HELLO stays).
    auto& st = state(ctx);
    pc::secure_session forger(identity_of(st, "forger"), st.peer_name, st.client_name);
    bytes = forger.hello();
  } else {
    std::string type = arg(s, ctx, "type");
    bytes = arg(s, ctx, "user", state(ctx).peer_name.c_str()) + "\n" + type + "\n" + arg(s, ctx, "body", "") + "\n\n";
  }
  if (s.args["pad_to"]) {
    auto size = static_cast<std::size_t>(number(s, ctx, "pad_to", 0));
    if (bytes.size() < size) bytes.insert(bytes.size() - 2, size - bytes.size(), 'x');
  }
  bool stranger = arg(s, ctx, "from", "peer") == "stranger";
  auto send_once = [&]() -> std::string {
    std::string note;
    std::string f;
    if (stranger) {
      auto other = net::bind_udp(stranger_ip, 0, ctx.settings().tap);
      if (!other) return "cannot bind " + std::string(stranger_ip) + ": " + other.error().message();
      auto ec = (*other)->send_to(bytes, client_ip, peer.port());
      f = ec ? "cannot send: " + ec.message() : "";
      note = "from " + std::string(stranger_ip);
    } else if (flag(s, "impaired")) {
      f = peer.send(bytes, note);
    } else {
      f = peer.send_raw(bytes);
    }
    ctx.note("udp", '>', core::printable(bytes.substr(0, 120)) + (note.empty() ? "" : "  [" + note + "]"));
    return f;
  };
  if (s.args["until"]) return send_until_answered(s, ctx, peer, send_once);
  int repeat = static_cast<int>(number(s, ctx, "repeat", 1));
  auto gap = millis(static_cast<long long>(number(s, ctx, "gap", 0)));
  for (int i = 0; i < repeat; ++i) {
    if (i && gap.count()) std::this_thread::sleep_for(gap);
    if (auto f = send_once(); !f.empty()) return f;
  }
  return {};
}

// The next datagram from the client (FOREIGN ones included) must match; `skip` regexes pass over
// datagrams such as repeated Connects; `capture` names variables for the regex's groups. peerchat/2
// datagrams are opened by the engine's session.
std::string udp_expect(const step& s, case_context& ctx) {
  auto& peer = peer_of(ctx, s);
  std::regex want(arg(s, ctx, "match"));
  auto skip = skip_patterns(s, ctx);
  auto deadline = ctx.deadline(s.within.empty() ? duration_expr{arg(s, ctx, "within", "2000")} : s.within, 2000);
  for (;;) {
    auto r = peer.receive(deadline);
    if (!r) return "no datagram matching /" + arg(s, ctx, "match") + "/ arrived in time";
    ctx.note("udp", '<', r->rendered);
    std::smatch groups;
    if (std::regex_search(r->rendered, groups, want)) {
      if (s.args["capture"])
        for (std::size_t i = 0; i < s.args["capture"].size() && i + 1 < groups.size(); ++i)
          ctx.set(s.args["capture"][i].as<std::string>(), groups[i + 1].str());
      return {};
    }
    if (!skipped(skip, r->rendered)) return fail_on(*r, ctx, "unexpected datagram: " + r->rendered);
  }
}

// No datagram (other than ones matching `ignore`) for `ms`. `capture` takes the groups of the last ignored
// one that set them (a group that took no part leaves its variable): the newest of a burst still on its
// way (a client's latest own Connect, to echo back).
std::string udp_silence(const step& s, case_context& ctx) {
  auto& peer = peer_of(ctx, s);
  std::optional<std::regex> ignore;
  if (s.args["ignore"]) ignore.emplace(arg(s, ctx, "ignore"));
  auto until = ctx.deadline(duration_expr{arg(s, ctx, "ms", "500")}, 500);
  for (;;) {
    auto r = peer.receive(until);
    if (!r) return {};
    ctx.note("udp", '<', r->rendered);
    std::smatch groups;
    if (!ignore || !std::regex_search(r->rendered, groups, *ignore)) return "expected silence, got: " + r->rendered;
    if (s.args["capture"])
      for (std::size_t i = 0; i < s.args["capture"].size() && i + 1 < groups.size(); ++i)
        if (groups[i + 1].matched) ctx.set(s.args["capture"][i].as<std::string>(), groups[i + 1].str());
  }
}

// Counts the datagrams matching `match` during `ms` and checks min <= count <= max (PC-UDP-05: not a
// tight loop, but regular).
std::string udp_rate(const step& s, case_context& ctx) {
  auto& peer = peer_of(ctx, s);
  std::regex want(arg(s, ctx, "match"));
  double ms = number(s, ctx, "ms", 1000);
  auto until = ctx.deadline(duration_expr{std::to_string(ms)}, ms);
  long count = 0, other = 0;
  std::optional<received> malformed;  // the first datagram whose form breaks a rule of its own
  while (auto r = peer.receive(until)) {
    if (std::regex_search(r->rendered, want)) ++count;
    else ++other;
    if (!malformed && !form_rule(*r).empty()) malformed = *r;
    if (count + other <= 20) ctx.note("udp", '<', r->rendered);
  }
  auto lo = static_cast<long>(number(s, ctx, "min", 0)), hi = static_cast<long>(number(s, ctx, "max", 1e9));
  ctx.note("udp", '*', std::to_string(count) + " matching datagrams in " + std::to_string(ms) + " ms");
  if (count >= lo && count <= hi) return {};
  std::string failure = std::to_string(count) + " matching datagrams in " + std::to_string(static_cast<long>(ms)) +
                        " ms; expected " + std::to_string(lo) + " to " + std::to_string(hi);
  // The pace cannot be judged on datagrams that are not what they should be: that is the defect.
  if (malformed && count < lo) return fail_on(*malformed, ctx, failure + "; among them: " + malformed->rendered);
  return failure;
}

// The engine's half of the peerchat/2 handshake (PC-HS-02..07): HELLO, then AUTH once keyed, resent every
// 250 ms, until the client's AUTH has verified — its key must be the one it registered — and it has
// confirmed ours. `expect_refusal: true` instead requires that the client never confirms us within `within`.
// A failure on a datagram the engine's session refused charges the rule that datagram breaks (form_rule).
std::string handshake(const step& s, case_context& ctx) {
  auto& st = state(ctx);
  auto& peer = peer_of(ctx, s);
  if (!peer.session) throw case_error("peerchat.handshake in a peerchat/1 chat (line " + std::to_string(s.line) + ")");
  bool refusal = flag(s, "expect_refusal");
  auto deadline = ctx.deadline(duration_expr{arg(s, ctx, "within", "3000")}, 3000);
  bool confirmed = false;
  std::optional<received> malformed;  // the first of the client's datagrams the engine's session refused
  auto next_send = clock_type::now();
  while (clock_type::now() < deadline) {
    if (clock_type::now() >= next_send) {
      if (auto f = send_handshake(peer, ctx); !f.empty()) return f;
      next_send = clock_type::now() + millis(250);
    }
    auto r = peer.receive(std::min(deadline, next_send));
    if (!r) continue;
    ctx.note("udp", '<', r->rendered);
    if (!malformed && !form_rule(*r).empty()) malformed = *r;
    if (!r->event) continue;
    using kind = pc::secure_event::kind;
    if (r->event->what == kind::peer_proved) {
      if (st.client_key && r->event->peer_key != *st.client_key)
        return ctx.blame("PC-HS-04", "the client proved a key other than the one it registered");
      if (!peer.authenticated) {
        peer.session->accept_peer();
        peer.authenticated = true;
        next_send = clock_type::now();  // tell it at once
      }
      confirmed = confirmed || r->event->peer_confirmed;
    } else if (r->event->what == kind::msg || r->event->what == kind::keepalive || r->event->what == kind::close) {
      confirmed = peer.authenticated;
    }
    if (peer.authenticated && confirmed && !refusal) return send_handshake(peer, ctx);
  }
  if (refusal) {
    if (confirmed) return "the client accepted the engine's AUTH";
    // It refused us; but a handshake the engine could not even read is broken on the client's side.
    if (malformed && !peer.authenticated)
      return fail_on(*malformed, ctx, "no valid AUTH from the client; the first datagram refused: " + malformed->rendered);
    return "";
  }
  std::string failure = peer.authenticated ? "the client never confirmed the engine's AUTH" : "no valid AUTH from the client";
  if (malformed) return fail_on(*malformed, ctx, failure + "; the first datagram refused: " + malformed->rendered);
  return failure;
}

// A sealed record from the engine's peer: `type: msg|close|keepalive`, `text` for msg, or `body_hex`: any
// bytes as the body of any type (what parley-fuzz makes behind the tag; YAML text cannot carry them);
// `tamper: true` flips a bit of its tag after sealing, so the record is well formed but must fail its check
// (PC-REC-03).
std::string seal(const step& s, case_context& ctx) {
  auto& peer = peer_of(ctx, s);
  if (!peer.session) throw case_error("peerchat.seal in a peerchat/1 chat");
  std::string type = arg(s, ctx, "type");
  pc::record_type t = type == "msg" ? pc::record_type::msg : type == "close" ? pc::record_type::close
                                                                               : pc::record_type::keepalive;
  std::string body;
  if (s.args.IsMap() && s.args["body_hex"]) {
    body = hex_argument(s, "body_hex", arg(s, ctx, "body_hex"));
  } else if (t == pc::record_type::msg) {
    body = arg(s, ctx, "text");
  }
  auto record = peer.session->seal(t, body);
  if (!record) return "cannot seal: " + record.error().message();
  bool tamper = flag(s, "tamper");
  if (tamper) record->back() = static_cast<char>(record->back() ^ 0x01);
  peer.last_sealed = *record;
  std::string note;
  auto f = flag(s, "impaired") ? peer.send(*record, note) : peer.send_raw(*record);
  ctx.note("udp", '>', type + " seq " + std::to_string(peer.session->next_seq() - 1) + (tamper ? ", tag spoilt" : "") +
                           (note.empty() ? "" : "  [" + note + "]"));
  return f;
}

// Sends the last sealed record again, byte for byte (PC-REPLAY-01); `tamper: true` flips a ciphertext bit;
// `repeat` sends it that many times, `gap` ms apart.
std::string replay(const step& s, case_context& ctx) {
  auto& peer = peer_of(ctx, s);
  if (peer.last_sealed.empty()) throw case_error("peerchat.replay before any sealed record");
  std::string bytes = peer.last_sealed;
  if (flag(s, "tamper")) bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  int repeat = static_cast<int>(number(s, ctx, "repeat", 1));
  auto gap = millis(static_cast<long long>(number(s, ctx, "gap", 0)));
  for (int i = 0; i < repeat; ++i) {
    if (i && gap.count()) std::this_thread::sleep_for(gap);
    ctx.note("udp", '>', flag(s, "tamper") ? "the last record with one bit flipped" : "the last record again");
    if (auto f = peer.send_raw(bytes); !f.empty()) return f;
  }
  return {};
}

}  // namespace parley::conform::peerchat_engine
