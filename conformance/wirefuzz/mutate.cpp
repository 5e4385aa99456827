#include "conformance/wirefuzz/mutate.hpp"

#include <algorithm>
#include <set>

#include "impl/core/encoding.hpp"

namespace parley::wirefuzz {
namespace {

using conform::step;
using conform::test_case;

// Protocol step arguments that carry what the target parses. Other arguments name the engine's own
// objects (keys, variables, sessions) or its resources (how many frames to flood), so they stay.
const std::set<std::string> text_keys = {"name", "text", "payload", "head", "body", "peer", "user", "to", "from"};
const std::set<std::string> number_keys = {"sid", "uid", "sqn", "len_delta", "ver", "type", "port",
                                           "opcode", "fin", "rsv", "mask", "fragments"};

bool writes(const step& s) { return s.op == "send" || s.op == "send_raw"; }

std::string get_text(const test_case& c, const text_site& site) {
  const step& s = c.steps[site.step];
  return site.key.empty() ? s.text : s.args[site.key].as<std::string>();
}

void set_text(test_case& c, const text_site& site, std::string value) {
  step& s = c.steps[site.step];
  if (site.key.empty()) s.text = std::move(value);
  else s.args[site.key] = value;
}

// Byte offsets of `text` that are not inside a ${var}: where bytes may be inserted or changed.
std::vector<std::size_t> free_offsets(const std::string& text) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i <= text.size();) {
    out.push_back(i);
    if (text.compare(i, 2, "${") == 0) {
      auto end = text.find('}', i);
      i = end == std::string::npos ? text.size() + 1 : end + 1;
    } else {
      ++i;
    }
  }
  return out;
}

std::string join_tokens(const std::vector<std::string>& tokens) {
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
  return out;
}

// The users a case may name: ${alice} ... ${erin}.
constexpr const char* case_users[] = {"alice", "bob", "carol", "dave", "erin"};

// The case's users that its steps name, as ${alice} or, in a protocol step's arguments, as
// ${alice<suffix>} (${alice_uid}).
std::vector<std::string> users_named(const test_case& c, const std::string& suffix) {
  std::string texts, args;  // every step's text and arguments, gathered once
  for (const auto& s : c.steps) {
    texts += s.text + '\n';
    if (s.args.IsDefined() && !s.args.IsNull()) args += YAML::Dump(s.args) + '\n';
  }
  std::vector<std::string> named;
  for (const char* user : case_users) {
    std::string plain = "${" + std::string(user) + "}", suffixed = "${" + std::string(user) + suffix + "}";
    if (texts.find(plain) != std::string::npos || args.find(plain) != std::string::npos ||
        args.find(suffixed) != std::string::npos)
      named.emplace_back(user);
  }
  return named;
}

// The connections a case names.
std::vector<std::string> conns_of(const test_case& c) {
  std::vector<std::string> out;
  for (const auto& s : c.steps)
    if (std::find(out.begin(), out.end(), s.conn) == out.end()) out.push_back(s.conn);
  return out;
}

// A client-role session's setup: the client it launches and the connection it accepts. Dropped, repeated or
// swapped, the session would only test that nothing connects.
bool sets_up_client(const step& s) { return s.op == "launch_client" || s.op == "accept"; }

}  // namespace

void detach(test_case& c) {
  for (auto& s : c.steps)
    if (s.args) s.args = YAML::Clone(s.args);
}

std::vector<text_site> text_sites(const test_case& c) {
  std::vector<text_site> out;
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const step& s = c.steps[i];
    if (writes(s) && !s.text.empty()) out.push_back({i, ""});
    if (s.op.find('.') != std::string::npos && s.args.IsMap())
      for (auto kv : s.args) {
        auto key = kv.first.as<std::string>();
        if (text_keys.contains(key) && kv.second.IsScalar()) out.push_back({i, key});
      }
  }
  return out;
}

std::vector<std::string> tokens_of(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "${") == 0) {
      auto end = text.find('}', i);
      std::size_t stop = end == std::string::npos ? text.size() : end + 1;
      current += text.substr(i, stop - i);
      i = stop - 1;
    } else if (text[i] == ' ') {
      out.push_back(std::exchange(current, {}));
    } else {
      current += text[i];
    }
  }
  out.push_back(current);
  return out;
}

std::string mutator::replacement(fuzz_random& r, bool printable_only) const {
  switch (r.below(printable_only ? 6 : 7)) {
    case 0:
      if (!model_.tokens.empty()) {
        std::string t = r.pick(model_.tokens);
        while (!t.empty() && t.back() == ' ') t.pop_back();
        if (!printable_only || std::all_of(t.begin(), t.end(), [](char ch) { return ch >= 0x20 && ch < 0x7f; }))
          return t;
      }
      [[fallthrough]];
    case 1:
    case 2: {  // a name at a bound of the name rule: mostly letters and digits, sometimes odd characters
      std::size_t n = r.pick(model_.name_lengths);
      return r.text(n, r.chance(0.8) ? model_.name_alphabet : model_.name_alphabet + "-.!~");
    }
    case 3: return r.pick(model_.numbers);
    case 4: {  // another user of the case: acting for someone else
      static const std::vector<std::string> users = [] {
        std::vector<std::string> vars;
        for (const char* user : case_users) vars.push_back("${" + std::string(user) + "}");
        return vars;
      }();
      return r.pick(users);
    }
    case 5: return r.chance(0.5) ? std::string{} : std::string(printable_only ? 256 : r.pick(model_.long_lengths), 'A');
    default: return r.pick(model_.odd_bytes);
  }
}

std::string mutator::mutate_token(test_case& c, fuzz_random& r) const {
  auto sites = text_sites(c);
  if (sites.empty()) return {};
  const text_site& site = r.pick(sites);
  auto tokens = tokens_of(get_text(c, site));
  std::size_t at = r.below(tokens.size());
  bool printable = !site.key.empty();  // protocol step arguments go through YAML: printable text only
  std::string what;
  switch (r.below(5)) {
    case 0:
      tokens.erase(tokens.begin() + static_cast<long>(at));
      what = "deleted token " + std::to_string(at);
      break;
    case 1:
      tokens.insert(tokens.begin() + static_cast<long>(at), tokens[at]);
      what = "doubled token " + std::to_string(at);
      break;
    case 2:
      tokens.insert(tokens.begin() + static_cast<long>(r.below(tokens.size() + 1)), replacement(r, printable));
      what = "inserted a token";
      break;
    default: {
      // Where a name stands (a user's ${var}, a name or user argument) a name at a bound is the likeliest
      // thing to matter: names are what the protocols' grammars bound most.
      bool name_place = tokens[at].find("${") != std::string::npos || site.key == "name" || site.key == "user";
      if (name_place && r.chance(0.6))
        tokens[at] = r.text(r.pick(model_.name_lengths), r.chance(0.8) ? model_.name_alphabet : model_.name_alphabet + "-.!~");
      else
        tokens[at] = replacement(r, printable);
      what = "replaced token " + std::to_string(at) + " (" + std::to_string(tokens[at].size()) + " bytes)";
    }
  }
  set_text(c, site, join_tokens(tokens));
  return "grammar: step " + std::to_string(site.step + 1) + (site.key.empty() ? "" : " " + site.key) + ": " + what;
}

std::string mutator::mutate_bytes(test_case& c, fuzz_random& r) const {
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < c.steps.size(); ++i)
    if (writes(c.steps[i])) candidates.push_back(i);
  if (candidates.empty()) return {};
  step& s = c.steps[r.pick(candidates)];
  auto offsets = free_offsets(s.text);
  std::size_t at = r.pick(offsets);
  std::string what;
  switch (r.below(4)) {
    case 0:
      if (at < s.text.size() && s.text.compare(at, 2, "${") != 0) {
        s.text[at] = static_cast<char>(s.text[at] ^ (1 << r.below(8)));
        what = "flipped a bit at " + std::to_string(at);
        break;
      }
      [[fallthrough]];
    case 1:
      s.text.insert(at, r.pick(model_.odd_bytes));
      what = "inserted odd bytes at " + std::to_string(at);
      break;
    case 2:
      // Bytes up to the next ${var} (never into it).
      if (at < s.text.size() && s.text.compare(at, 2, "${") != 0) {
        std::size_t n = 1 + r.below(std::min<std::size_t>(8, s.text.size() - at));
        n = std::min(n, s.text.find("${", at) - at);
        s.text.erase(at, n);
        what = "deleted " + std::to_string(n) + " bytes at " + std::to_string(at);
        break;
      }
      [[fallthrough]];
    default:
      s.text.insert(at, std::string(1, static_cast<char>(r.below(256))));
      what = "inserted a random byte at " + std::to_string(at);
  }
  if (s.text.empty()) s.text = "\n";
  return "bytes: " + what;
}

std::string mutator::grow(test_case& c, fuzz_random& r) const {
  auto sites = text_sites(c);
  if (sites.empty()) return {};
  const text_site& site = r.pick(sites);
  std::string text = get_text(c, site);
  // A protocol step's argument ends up in the regex its own check builds (itp.login expects "OK IDENT
  // <name>"): past a few hundred bytes the standard library's regex takes seconds. Long arguments stop at
  // the first bound; longer texts go through send steps.
  std::size_t target = site.key.empty() ? r.pick(model_.long_lengths) : model_.long_lengths.front() + r.below(2);
  auto offsets = free_offsets(text);
  std::size_t at = r.pick(offsets);
  std::string fill = r.chance(0.7) ? r.text(1, model_.name_alphabet) : std::string("ab ");
  std::string grown;
  while (grown.size() + text.size() < target) grown += fill;
  text.insert(at, grown.substr(0, target > text.size() ? target - text.size() : 0));
  set_text(c, site, text);
  return "framing: step " + std::to_string(site.step + 1) + " grown to " + std::to_string(text.size()) + " bytes";
}

std::string mutator::change_terminator(test_case& c, fuzz_random& r) const {
  if (!model_.lines) return {};
  std::vector<std::size_t> sends;
  for (std::size_t i = 0; i < c.steps.size(); ++i)
    if (c.steps[i].op == "send") sends.push_back(i);
  if (sends.empty()) return {};
  std::size_t i = r.pick(sends);
  std::string term = r.pick(model_.terminators);
  c.steps[i].op = "send_raw";
  c.steps[i].text += term;
  std::string shown;
  for (char ch : term) shown += ch == '\n' ? "LF " : ch == '\r' ? "CR " : "SP ";
  return "framing: step " + std::to_string(i + 1) + " ends with " + (shown.empty() ? "nothing" : shown);
}

std::string mutator::split(test_case& c, fuzz_random& r) const {
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < c.steps.size(); ++i)
    if (writes(c.steps[i]) && c.steps[i].text.size() > 1) candidates.push_back(i);
  if (candidates.empty()) return {};
  step& s = c.steps[r.pick(candidates)];
  std::set<std::size_t> cuts;
  for (std::size_t n = 1 + r.below(3); n > 0; --n) cuts.insert(1 + r.below(s.text.size() - 1));
  s.split_at.assign(cuts.begin(), cuts.end());
  s.gap = {std::to_string(r.below(30))};
  return "framing: a write cut in " + std::to_string(cuts.size() + 1) + " pieces";
}

std::string mutator::merge(test_case& c, fuzz_random& r) const {
  std::vector<std::size_t> pairs;
  for (std::size_t i = 0; i + 1 < c.steps.size(); ++i)
    if (writes(c.steps[i]) && writes(c.steps[i + 1]) && c.steps[i].conn == c.steps[i + 1].conn) pairs.push_back(i);
  if (pairs.empty()) return {};
  std::size_t i = r.pick(pairs);
  auto bytes_of = [&](const step& s) { return s.op == "send" ? adapter_.encode(s.text) : s.text; };
  step merged = c.steps[i];
  merged.op = "send_raw";
  try {
    merged.text = bytes_of(c.steps[i]) + bytes_of(c.steps[i + 1]);
  } catch (const std::exception&) {  // a protocol whose messages have no text form
    return {};
  }
  merged.split_at.clear();
  c.steps[i] = merged;
  c.steps.erase(c.steps.begin() + static_cast<long>(i) + 1);
  return "framing: steps " + std::to_string(i + 1) + " and " + std::to_string(i + 2) + " written at once";
}

std::string mutator::mutate_number(test_case& c, fuzz_random& r) const {
  std::vector<std::pair<std::size_t, std::string>> sites;
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const YAML::Node& args = c.steps[i].args;  // const: a lookup must not add the key
    if (c.steps[i].op.find('.') == std::string::npos || !args.IsMap()) continue;
    for (auto kv : args)
      if (number_keys.contains(kv.first.as<std::string>())) sites.push_back({i, kv.first.as<std::string>()});
  }
  if (sites.empty()) return {};
  auto [i, key] = r.pick(sites);
  std::string value = r.pick(model_.numbers);
  c.steps[i].args[key] = value;
  return "grammar: step " + std::to_string(i + 1) + " " + key + " = " + value;
}

// Acting for another user where a frame names its sender (multiparty's uid): a frame the adapter builds
// and seals with the connection's keys claims another user of the case, so the claim arrives behind
// valid crypto and only the server's check of the sender stands in its way.
std::string mutator::claim_sender(test_case& c, fuzz_random& r) const {
  std::vector<std::size_t> frames;
  for (std::size_t i = 0; i < c.steps.size(); ++i)
    if (c.steps[i].op.ends_with(".send") && c.steps[i].args.IsMap()) frames.push_back(i);
  auto users = users_named(c, "_" + model_.sender_field);
  if (frames.empty() || users.empty()) return {};
  std::size_t i = r.pick(frames);
  std::string value = "${" + r.pick(users) + "_" + model_.sender_field + "}";
  c.steps[i].args[model_.sender_field] = value;
  return "state: step " + std::to_string(i + 1) + " claims " + model_.sender_field + " " + value;
}

// The frame layer under a message (securechat's WebSocket): a `send` becomes the protocol's frame step,
// carrying the same text in frames built by hand, with one or two fields set where a frame parser decides:
// a continuation, binary, reserved or control opcode; no FIN; RSV bits; no mask; a declared length a
// little or a lot off the real one; the message cut in fragments.
std::string mutator::reframe(test_case& c, fuzz_random& r) const {
  std::vector<std::size_t> sends;
  for (std::size_t i = 0; i < c.steps.size(); ++i)
    if (c.steps[i].op == "send" && !c.steps[i].conn.empty()) sends.push_back(i);
  if (sends.empty()) return {};
  std::size_t i = r.pick(sends);
  step frame;
  frame.op = model_.frame_step;
  frame.conn = c.steps[i].conn;
  frame.line = c.steps[i].line;
  frame.lenient = c.steps[i].lenient;
  frame.args["conn"] = frame.conn;
  frame.args["text"] = c.steps[i].text;
  static const std::vector<std::pair<std::string, std::vector<std::string>>> fields = {
      {"opcode", {"0", "2", "3", "7", "8", "9", "10", "11", "15"}},
      {"fin", {"0"}},
      {"rsv", {"1", "2", "4", "7"}},
      {"mask", {"0"}},
      {"len_delta", {"-1", "1", "2", "126", "65536", "1048577", "4611686018427387904"}},
      {"fragments", {"2", "3", "5"}}};
  std::string what;
  for (std::size_t n = 1 + r.below(2); n > 0; --n) {
    const auto& [key, values] = r.pick(fields);
    std::string value = r.pick(values);
    frame.args[key] = value;
    what += " " + key + "=" + value;
  }
  c.steps[i] = frame;
  return "framing: step " + std::to_string(i + 1) + " in hand-built frames:" + what;
}

// The deliberately invalid share: a signing or sealing step keeps everything it builds but its signature or
// tag, which is made with another key, over other bytes, or spoilt after sealing. What the target must do
// then is refuse it; a watcher that knows the keys (securechat's) reports a refusal that did not come.
std::string mutator::spoil_crypto(test_case& c, fuzz_random& r) const {
  std::vector<std::pair<std::size_t, const fuzz_model::spoiler*>> sites;
  for (std::size_t i = 0; i < c.steps.size(); ++i)
    for (const auto& spoiler : model_.spoilers)
      if (c.steps[i].op == spoiler.op && c.steps[i].args.IsMap()) sites.push_back({i, &spoiler});
  if (sites.empty()) return {};
  auto [i, spoiler] = r.pick(sites);
  std::string value = r.pick(spoiler->values);
  c.steps[i].args[spoiler->key] = value;
  return "crypto: step " + std::to_string(i + 1) + " spoilt, " + spoiler->key + " = " + value;
}

// Arbitrary bytes behind the crypto: a sealing step's plaintext edited byte by byte (a bit flipped, odd or
// random bytes put in, bytes taken out, the rest cut off) and written as hex, so the adapter seals exactly
// those bytes and the edit reaches the parser behind a valid tag; or, where the header states a length,
// that length set to one of its bounds whatever the frame's size. A plaintext that names a ${var} is left
// alone: it has no bytes until the case runs.
std::string mutator::mutate_sealed_bytes(test_case& c, fuzz_random& r) const {
  std::vector<std::pair<std::size_t, const fuzz_model::sealed_text*>> sites;
  for (std::size_t i = 0; i < c.steps.size(); ++i)
    for (const auto& sealed : model_.sealed_texts) {
      const YAML::Node& args = c.steps[i].args;  // const: a lookup must not add the key
      if (c.steps[i].op != sealed.op || !args.IsMap()) continue;
      if (args[sealed.text_key] && args[sealed.text_key].as<std::string>().find("${") != std::string::npos) continue;
      sites.push_back({i, &sealed});
    }
  if (sites.empty()) return {};
  auto [i, sealed] = r.pick(sites);
  YAML::Node& args = c.steps[i].args;
  std::string where = "crypto: step " + std::to_string(i + 1) + " ";
  if (!sealed->length_key.empty() && r.chance(0.25)) {
    std::string value = r.pick(sealed->length_values);
    args[sealed->length_key] = value;
    return where + sealed->length_key + " = " + value + " behind a valid tag";
  }
  const YAML::Node& read = c.steps[i].args;  // const: a lookup must not add the key
  std::string plain;
  if (read[sealed->hex_key]) {
    auto decoded = core::from_hex(read[sealed->hex_key].as<std::string>());
    if (decoded) plain = parley::to_string(*decoded);
  } else if (read[sealed->text_key]) {
    plain = read[sealed->text_key].as<std::string>();
  }
  std::size_t at = r.below(plain.size() + 1);
  std::string what;
  switch (r.below(5)) {
    case 0:
      if (at < plain.size()) {
        plain[at] = static_cast<char>(plain[at] ^ (1 << r.below(8)));
        what = "flipped a bit at " + std::to_string(at);
        break;
      }
      [[fallthrough]];
    case 1:
      plain.insert(at, r.pick(model_.odd_bytes));
      what = "inserted odd bytes at " + std::to_string(at);
      break;
    case 2:
      if (at < plain.size()) {
        std::size_t n = 1 + r.below(std::min<std::size_t>(8, plain.size() - at));
        plain.erase(at, n);
        what = "deleted " + std::to_string(n) + " bytes at " + std::to_string(at);
        break;
      }
      [[fallthrough]];
    case 3: {
      std::string random;
      for (std::size_t n = 1 + r.below(16); n > 0; --n) random += static_cast<char>(r.below(256));
      plain.insert(at, random);
      what = "inserted " + std::to_string(random.size()) + " random bytes at " + std::to_string(at);
      break;
    }
    default:
      plain.resize(at);
      what = "cut to " + std::to_string(at) + " bytes";
  }
  args.remove(sealed->text_key);
  args[sealed->hex_key] = core::to_hex(as_bytes(plain));
  return where + sealed->text_key + " as bytes: " + what;
}

std::string mutator::change_state(test_case& c, fuzz_random& r) const {
  auto& steps = c.steps;
  if (steps.empty()) return {};
  std::size_t i = r.below(steps.size());
  std::size_t kind = r.below(6);
  if (kind <= 2 && (sets_up_client(steps[i]) || (kind == 2 && i + 1 < steps.size() && sets_up_client(steps[i + 1]))))
    return {};
  switch (kind) {
    case 0:
      if (steps.size() < 2) return {};
      steps.erase(steps.begin() + static_cast<long>(i));
      return "state: dropped step " + std::to_string(i + 1);
    case 1: {  // a replay: the same step again, at once or later
      step copy = steps[i];
      std::size_t to = r.chance(0.5) ? i + 1 : i + 1 + r.below(steps.size() - i);
      steps.insert(steps.begin() + static_cast<long>(to), copy);
      return "state: step " + std::to_string(i + 1) + " repeated";
    }
    case 2:
      if (i + 1 >= steps.size()) return {};
      std::swap(steps[i], steps[i + 1]);
      return "state: steps " + std::to_string(i + 1) + " and " + std::to_string(i + 2) + " swapped";
    case 3: {  // the same message from another connection (another user's session)
      auto conns = conns_of(c);
      if (conns.size() < 2 || (!writes(steps[i]) && steps[i].op.find('.') == std::string::npos)) return {};
      std::string to = r.pick(conns);
      if (to == steps[i].conn) return {};
      steps[i].conn = to;
      if (steps[i].args.IsMap()) steps[i].args["conn"] = to;
      return "state: step " + std::to_string(i + 1) + " moved to connection " + to;
    }
    case 4: {  // no login: the connection opens and goes straight on
      const std::string& op = steps[i].op;
      bool login = op.ends_with(".login") || op.ends_with(".join") || op.ends_with(".register");
      if (!login) return {};
      step connect;
      connect.op = "connect";
      connect.conn = steps[i].conn;
      steps[i] = connect;
      return "state: the login of step " + std::to_string(i + 1) + " skipped";
    }
    default: {  // a connection ended midway, politely or not
      step end;
      end.op = r.chance(0.5) ? "close" : "reset";
      end.conn = steps[i].conn;
      steps.insert(steps.begin() + static_cast<long>(i) + 1, end);
      return "state: connection " + end.conn + " " + end.op + " after step " + std::to_string(i + 1);
    }
  }
}

std::vector<std::string> mutator::mutate(test_case& c, fuzz_random& r) const {
  detach(c);
  using method = std::string (mutator::*)(test_case&, fuzz_random&) const;
  // Weights: grammar first (it reaches the parsers' decisions), then bytes, framing and state.
  static const std::vector<std::pair<method, int>> common = {
      {&mutator::mutate_token, 30}, {&mutator::mutate_bytes, 14}, {&mutator::grow, 6},
      {&mutator::change_terminator, 8}, {&mutator::split, 5},     {&mutator::merge, 4},
      {&mutator::mutate_number, 10},  {&mutator::change_state, 23}};
  // Protocol-specific methods come after the common ones, so a protocol without them draws as before.
  std::vector<std::pair<method, int>> methods = common;
  if (!model_.sender_field.empty()) methods.emplace_back(&mutator::claim_sender, 10);
  if (!model_.frame_step.empty()) methods.emplace_back(&mutator::reframe, 10);
  if (!model_.spoilers.empty()) methods.emplace_back(&mutator::spoil_crypto, 5);
  if (!model_.sealed_texts.empty()) methods.emplace_back(&mutator::mutate_sealed_bytes, 8);
  int total = 0;
  for (const auto& m : methods) total += m.second;
  std::vector<std::string> done;
  std::size_t wanted = 1 + r.below(4);
  for (int attempts = 0; done.size() < wanted && attempts < 40; ++attempts) {
    int roll = static_cast<int>(r.below(static_cast<std::size_t>(total)));
    for (const auto& [m, weight] : methods) {
      if ((roll -= weight) >= 0) continue;
      if (auto what = (this->*m)(c, r); !what.empty()) done.push_back(what);
      break;
    }
  }
  return done;
}

}  // namespace parley::wirefuzz
