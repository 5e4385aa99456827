// Fuzzes peerchat's UDP codecs: peerchat/1 datagrams (datagram.hpp) and peerchat/2 sessions (secure.hpp).
//
// Input: the first byte picks the mode (byte % 4); the rest is the payload.
//   0 plain: the payload is one peerchat/1 datagram for parse_plain, and the input of split_text with
//     max_text and with a small limit, 4 + (first byte / 4) % 8.
//   1 raw: the payload is one datagram for a connected peerchat/2 session (bob, talking to alice).
//   2 mutated: payload[0] % 7 picks a real datagram from alice (0 MSG, 1 KEEPALIVE, 2 CLOSE, 3 AUTH,
//     4 her HELLO, 5 a record she sealed earlier (payload[1] picks which; an empty slot gets a MSG that
//     is delivered once first, so an unedited replay must be refused), 6 one of bob's own records
//     reflected back to him); then [op][at][value] triples edit it: op % 5 = 0 xor at with value,
//     1 set at to value, 2 cut at, 3 insert value before at, 4 append value (at is taken mod size + 1).
//   3 handshake: a fresh bob session, before any HELLO, gets datagrams [len:1][bytes]; len 0 delivers the
//     HELLO of a fresh real alice, len 255 her AUTH; at most 8 datagrams. Then the handshake is finished
//     with the real alice.
//
// Invariants: no crash; a parsed plain datagram formats to one datagram that fits 1200 bytes when it is
// what a sender may send and then parses back the same (CR becomes SP, as the sender rule says); split_text
// pieces keep every byte but NUL/CR/LF, fit the limit and never cut a UTF-8 sequence. peerchat/2: a MSG,
// CLOSE, KEEPALIVE or AUTH event comes only from a record alice sealed, byte for byte, and only once; a
// HELLO that is not alice's own changes nothing; after any input both directions still open fresh
// records; a fresh session keyed by a fuzzed HELLO refuses the real one (PC-HS-02), and one that was not
// completes the handshake. The two long-term identities and the connected pair are made once.
// Speed: the sessions' Ed25519 signatures and checks and their X25519 agreements go through
// session_crypto, memoized by their arguments (fuzz/memo.hpp): a fuzzed HELLO still pays a real X25519
// the first time. Mode 3 starts from copies of two sessions made once instead of generating keys.
#include <array>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/check.hpp"
#include "fuzz/memo.hpp"
#include "impl/proto/peerchat/datagram.hpp"
#include "impl/proto/peerchat/secure.hpp"

namespace {

using namespace parley::peerchat;
using kind = secure_event::kind;

// --- peerchat/1 ---------------------------------------------------------------------------------------

std::string blanked(std::string text) {
  for (char& c : text)
    if (c == '\0' || c == '\r' || c == '\n') c = ' ';
  return text;
}

// Lead bytes announce 1-4 bytes and continuation bytes follow them, nothing more: the structure split_text
// must respect, independent of overlong or surrogate spellings.
bool utf8_shaped(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    if (length == 0 || lead >= 0xF8 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    i += length;
  }
  return true;
}

void check_plain(std::string_view payload) {
  auto parsed = parse_plain(payload);
  if (!parsed) {
    PARLEY_FUZZ_CHECK(parsed.error() == errc::malformed_datagram, "a plain datagram refused with the wrong error");
  } else {
    const plain_datagram& p = *parsed;
    PARLEY_FUZZ_CHECK(!p.user.empty() && p.user.find_first_of(std::string_view("\0\n", 2)) == std::string::npos,
                      "a parsed user is empty or holds NUL/LF");
    PARLEY_FUZZ_CHECK(p.text.find_first_of(std::string_view("\0\n", 2)) == std::string::npos,
                      "a parsed text holds NUL/LF");
    std::string formatted = format_plain(p);
    PARLEY_FUZZ_CHECK(formatted.ends_with("\n\n"), "a formatted datagram lacks its final LF LF");
    // PC-UDP-04 binds senders: their own name and a text of at most max_text bytes always fit. A parsed
    // datagram near 1200 bytes can outgrow the limit (the seed's layout gains two LFs, KEEPALIVE becomes
    // KeepAliveToken), which is harmless because nobody re-sends a datagram received; it must then be
    // one that receivers refuse.
    if (valid_name(p.user) && p.text.size() <= max_text)
      PARLEY_FUZZ_CHECK(formatted.size() <= max_datagram, "a sendable datagram exceeds 1200 bytes");
    auto again = parse_plain(formatted);
    if (formatted.size() > max_datagram) {
      PARLEY_FUZZ_CHECK(!again, "a datagram over 1200 bytes was accepted");
      return;
    }
    PARLEY_FUZZ_CHECK(again, "a formatted datagram does not parse");
    PARLEY_FUZZ_CHECK(again->user == blanked(p.user) && again->type == p.type && again->text == blanked(p.text),
                      "a plain datagram does not survive format_plain and back");
    PARLEY_FUZZ_CHECK(format_plain(*again) == formatted, "format_plain is not a fixpoint");
  }
}

// `blank` is blanked(input) and `shaped` whether it is UTF-8 shaped: the same for every limit, so the
// caller works them out once.
void check_split(std::string_view input, const std::string& blank, bool shaped, std::size_t limit) {
  auto pieces = split_text(input, limit);
  PARLEY_FUZZ_CHECK(!pieces.empty(), "split_text gave no piece");
  std::string joined;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const std::string& piece = pieces[i];
    PARLEY_FUZZ_CHECK(piece.size() <= limit, "a piece exceeds the limit");
    // Three byte searches (memchr) rather than find_first_of, whose instrumented per-byte loop was a good
    // part of this mode's cost.
    PARLEY_FUZZ_CHECK(piece.find('\0') == std::string::npos && piece.find('\r') == std::string::npos &&
                          piece.find('\n') == std::string::npos,
                      "a piece holds NUL, CR or LF");
    // A sequence is at most 4 bytes, so a cut can back up at most 3 bytes: each piece but the last is full.
    PARLEY_FUZZ_CHECK(i + 1 == pieces.size() || piece.size() + 3 >= limit, "a piece was cut too short");
    // The pieces join to the blanked text (checked below), so when that is UTF-8 a piece is UTF-8 unless a
    // cut fell inside a sequence: exactly when the next piece starts with a continuation byte.
    bool cut_inside = i + 1 < pieces.size() && !pieces[i + 1].empty() &&
                      (static_cast<unsigned char>(pieces[i + 1][0]) & 0xC0) == 0x80;
    PARLEY_FUZZ_CHECK(!shaped || !cut_inside, "split_text cut a UTF-8 sequence");
    joined += piece;
  }
  PARLEY_FUZZ_CHECK(joined == blank, "split_text lost or changed bytes");
}

// --- peerchat/2 ---------------------------------------------------------------------------------------

struct crypto_memo {
  parley::fuzz::memo<std::array<std::uint8_t, 64>> signatures;  // by signer's key and message
  parley::fuzz::memo<bool> verified;                            // by key, signature and message
  parley::fuzz::memo<parley::bytes> agreed;                     // by both ephemeral public keys
};

crypto_memo& memos() {
  static crypto_memo m;
  return m;
}

std::string key_of(std::initializer_list<std::string_view> parts) {
  std::string key;
  for (auto part : parts) {
    key += std::to_string(part.size());  // sizes first: no two argument lists make one key
    key += ':';
    key += part;
  }
  return key;
}

session_crypto memoized() {
  using parley::as_chars;
  session_crypto c;
  c.sign = [](const identity& me, std::string_view message) {
    return memos().signatures.get(key_of({as_chars(me.public_key_bytes()), message}), [&] { return me.sign(message); });
  };
  c.verify = [](const public_key& key, std::string_view message, std::string_view signature64) {
    return memos().verified.get(key_of({as_chars(key), signature64, message}),
                                [&] { return verify_signature(key, message, signature64); });
  };
  c.agree = [](const ephemeral_key& own, const ephemeral_public& peer) {
    return memos().agreed.get(key_of({as_chars(own.public_bytes()), as_chars(peer)}), [&] { return own.agree(peer); });
  };
  return c;
}

const identity& alice_id() {
  static const identity key = *identity::generate();
  return key;
}
const identity& bob_id() {
  static const identity key = *identity::generate();
  return key;
}

parley::result<secure_event> must(parley::result<secure_event> got, kind expected, const char* what) {
  PARLEY_FUZZ_CHECK(got && got->what == expected, what);
  return got;
}

// Runs the handshake of §8.4 between two sessions that have seen nothing yet (or, for `to`, only
// garbage), checking every step.
void handshake(secure_session& from, secure_session& to, bool to_has_from_hello) {
  if (!to_has_from_hello) must(to.receive(from.hello()), kind::keys_ready, "a real HELLO did not give keys");
  if (!from.has_keys()) must(from.receive(to.hello()), kind::keys_ready, "a real HELLO did not give keys");
  auto proved = must(to.receive(*from.auth()), kind::peer_proved, "a real AUTH was not proved");
  PARLEY_FUZZ_CHECK(proved->peer_key == alice_id().public_key_bytes(), "AUTH proved another key");
  to.accept_peer();
  must(from.receive(*to.auth()), kind::peer_proved, "a real AUTH was not proved");
  from.accept_peer();
  auto msg = must(to.receive(*from.seal(record_type::msg, "after the handshake")), kind::msg,
                  "the first MSG after the handshake did not open");
  PARLEY_FUZZ_CHECK(msg->text == "after the handshake", "a MSG opened with another text");
}

// A record alice sealed, what it must open as, and whether it already has.
struct sealed_record {
  std::string bytes;
  kind what = kind::nothing;
  std::string text;
  bool opened = false;
};

struct connected_pair {
  secure_session alice{alice_id(), "alice", "bob", memoized()};
  secure_session bob{bob_id(), "bob", "alice", memoized()};
  std::array<sealed_record, 8> history{};  // a ring: old records for replays and late delivery
  // What the ring pushed out. Bob may still take such a record late, as long as it is inside his replay
  // window (PC-REPLAY-01), so the origin check looks here too: without it, a record the fuzzer learned
  // from a comparison and replayed after 8 more seals was reported as one alice never sealed. Bounded
  // well past the window (each input seals at most a few records).
  std::deque<sealed_record> evicted;
  std::size_t next = 0;
  std::uint64_t counter = 0;

  connected_pair() { handshake(alice, bob, false); }

  sealed_record& remember(std::string bytes, kind what, std::string text) {
    sealed_record& slot = history[next++ % history.size()];
    if (!slot.bytes.empty()) evicted.push_back(std::move(slot));
    if (evicted.size() > 2 * replay_window) evicted.pop_front();
    slot = sealed_record{std::move(bytes), what, std::move(text), false};
    return slot;
  }

  sealed_record& seal(kind what) {
    switch (what) {
      case kind::msg: {
        std::string text = "sealed " + std::to_string(++counter);
        return remember(*alice.seal(record_type::msg, text), what, text);
      }
      case kind::close: return remember(*alice.seal(record_type::close), what, {});
      case kind::keepalive: return remember(*alice.seal(record_type::keepalive), what, {});
      default: return remember(*alice.auth(), kind::peer_proved, {});
    }
  }

  // Bob receives `datagram`; whatever he reports must be backed by a record alice sealed.
  void deliver(std::string_view datagram) {
    auto got = bob.receive(datagram);
    if (!got) {
      PARLEY_FUZZ_CHECK(got.error().category() == peerchat_category(), "a receive error outside the category");
      return;
    }
    if (got->what == kind::nothing && datagram == alice.hello()) return;  // a repeated HELLO
    PARLEY_FUZZ_CHECK(got->what != kind::keys_ready, "a connected session was keyed again");
    sealed_record* origin = nullptr;
    for (auto& r : history)
      if (!r.bytes.empty() && r.bytes == datagram) origin = &r;
    for (auto& r : evicted)
      if (!origin && r.bytes == datagram) origin = &r;
    PARLEY_FUZZ_CHECK(origin != nullptr, "an event from bytes alice never sealed");
    PARLEY_FUZZ_CHECK(!origin->opened, "a record opened twice");
    origin->opened = true;
    // secure.hpp allows an AUTH to report nothing (a flag echo); anything else opens as what was sealed.
    if (got->what == kind::nothing && origin->what == kind::peer_proved) return;
    PARLEY_FUZZ_CHECK(got->what == origin->what && got->text == origin->text, "a record opened as something else");
    if (got->what == kind::peer_proved)
      PARLEY_FUZZ_CHECK(got->peer_key == alice_id().public_key_bytes(), "AUTH proved another key");
  }

  // The chat still works both ways after whatever bob was fed.
  void probe() {
    PARLEY_FUZZ_CHECK(bob.connected() && bob.has_keys(), "bob lost his connection to garbage");
    sealed_record& fresh = seal(kind::msg);
    deliver(fresh.bytes);
    PARLEY_FUZZ_CHECK(fresh.opened, "a fresh MSG from alice no longer opens");
    auto back = alice.receive(*bob.seal(record_type::keepalive));
    PARLEY_FUZZ_CHECK(back && back->what == kind::keepalive, "bob's records no longer open at alice");
  }
};

connected_pair& pair() {
  static connected_pair p;
  return p;
}

void apply_edits(std::string& datagram, std::string_view edits) {
  for (std::size_t i = 0; i + 3 <= edits.size(); i += 3) {
    auto op = static_cast<std::uint8_t>(edits[i]) % 5;
    std::size_t at = std::size_t{static_cast<std::uint8_t>(edits[i + 1])} % (datagram.size() + 1);
    char value = edits[i + 2];
    switch (op) {
      case 0: if (at < datagram.size()) datagram[at] = static_cast<char>(datagram[at] ^ value); break;
      case 1: if (at < datagram.size()) datagram[at] = value; break;
      case 2: datagram.resize(at); break;
      case 3: datagram.insert(at, 1, value); break;
      default: datagram.push_back(value); break;
    }
  }
}

void mutated(std::string_view payload) {
  connected_pair& p = pair();
  unsigned pick = payload.empty() ? 0u : static_cast<std::uint8_t>(payload[0]) % 7u;
  std::size_t edits_from = 1;
  std::string datagram;
  switch (pick) {
    case 0: datagram = p.seal(kind::msg).bytes; break;
    case 1: datagram = p.seal(kind::keepalive).bytes; break;
    case 2: datagram = p.seal(kind::close).bytes; break;
    case 3: datagram = p.seal(kind::peer_proved).bytes; break;
    case 4: datagram = p.alice.hello(); break;
    case 5: {
      std::size_t which = payload.size() > 1 ? std::size_t{static_cast<std::uint8_t>(payload[1])} : 0;
      sealed_record* old = &p.history[which % p.history.size()];
      if (old->bytes.empty()) {  // nothing sealed there yet: make a record that has opened once
        old = &p.seal(kind::msg);
        p.deliver(old->bytes);
      }
      datagram = old->bytes;
      edits_from = 2;
      break;
    }
    default:
      // Bob's own record or HELLO coming back must never open as alice's.
      datagram = payload.size() > 1 && payload[1] % 2 ? p.bob.hello() : *p.bob.seal(record_type::msg, "bob's own");
      edits_from = 2;
      break;
  }
  if (payload.size() > edits_from) apply_edits(datagram, payload.substr(edits_from));
  p.deliver(datagram);
  p.probe();
}

void raw(std::string_view payload) {
  connected_pair& p = pair();
  p.deliver(payload);
  p.probe();
}

constexpr int max_handshake_datagrams = 8;

// Two sessions that have seen nothing, made once; each input takes copies.
const secure_session& pristine(bool bob) {
  static const secure_session alice(alice_id(), "alice", "bob", memoized());
  static const secure_session bobs(bob_id(), "bob", "alice", memoized());
  return bob ? bobs : alice;
}

// Whether `datagram` is one of the first AUTH records `alice` (as she is now) would send. Every input's
// alice is a copy of one session, so her records are the same bytes in every input, and the fuzzer learns
// them from comparisons: such a record is hers, wherever the input took it from.
bool one_of_alices_auths(const secure_session& alice, std::string_view datagram) {
  secure_session copy(alice);
  for (int i = 0; i <= max_handshake_datagrams; ++i)
    if (*copy.auth() == datagram) return true;
  return false;
}

void fresh_handshake(std::string_view payload) {
  secure_session bob(pristine(true));
  secure_session alice(pristine(false));
  must(alice.receive(bob.hello()), kind::keys_ready, "a real HELLO did not give keys");
  const secure_session alice_keyed(alice);  // before any AUTH of hers
  bool keyed_by_alice = false, keyed_by_fuzz = false;
  // A real AUTH costs a signature and its check: a few datagrams reach every state and keep runs fast.
  for (int count = 0; count < max_handshake_datagrams && !payload.empty(); ++count) {
    auto length = static_cast<std::uint8_t>(payload[0]);
    payload.remove_prefix(1);
    std::string datagram;
    bool real_hello = length == 0, real_auth = length == 255;
    if (real_hello) datagram = alice.hello();
    else if (real_auth) datagram = *alice.auth();
    else {
      datagram = payload.substr(0, length);
      payload.remove_prefix(std::min<std::size_t>(length, payload.size()));
    }
    bool had_keys = bob.has_keys();
    auto got = bob.receive(datagram);
    if (!got) {
      PARLEY_FUZZ_CHECK(bob.has_keys() == had_keys, "a refused datagram changed the keys");
      continue;
    }
    switch (got->what) {
      case kind::keys_ready:
        PARLEY_FUZZ_CHECK(!had_keys && bob.has_keys(), "keys_ready twice or without keys");
        (real_hello || datagram == alice.hello() ? keyed_by_alice : keyed_by_fuzz) = true;
        break;
      case kind::nothing:
        PARLEY_FUZZ_CHECK(had_keys, "a HELLO before any keys did nothing");
        break;
      case kind::peer_proved:
        PARLEY_FUZZ_CHECK((real_auth || one_of_alices_auths(alice_keyed, datagram)) && keyed_by_alice,
                          "AUTH proved without alice's record and keys");
        PARLEY_FUZZ_CHECK(got->peer_key == alice_id().public_key_bytes(), "AUTH proved another key");
        break;
      default:
        PARLEY_FUZZ_CHECK(false, "a MSG, CLOSE or KEEPALIVE before the session was connected");
    }
  }
  if (keyed_by_fuzz) {
    // PC-HS-02: the first HELLO fixed the peer's key; the real one is refused, the session stays as it is.
    auto got = bob.receive(alice.hello());
    PARLEY_FUZZ_CHECK(!got && got.error() == errc::wrong_peer, "a second HELLO with another key was taken");
    return;
  }
  handshake(alice, bob, keyed_by_alice);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      check_plain(payload);
      std::string blank = blanked(std::string(payload));
      bool shaped = utf8_shaped(blank);
      check_split(payload, blank, shaped, max_text);
      check_split(payload, blank, shaped, 4 + std::size_t{data[0]} / 4 % 8);
      break;
    }
    case 1: raw(payload); break;
    case 2: mutated(payload); break;
    default: fresh_handshake(payload); break;
  }
  return 0;
}
