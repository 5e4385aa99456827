#include "conformance/wirefuzz/finding.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "conformance/wirefuzz/mutate.hpp"

namespace parley::wirefuzz {

std::string key_hash(const finding_key& k) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: the same name for the same defect, on any machine
  for (const std::string* part : {&k.kind, &k.rule, &k.signature}) {
    for (unsigned char c : *part) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) out += digits[(h >> (60 - 4 * i)) & 0xf];
  return out;
}

conform::test_case finding_case(const fuzz_finding& f, const conform::adapter& a) {
  conform::test_case c;
  c.id = "fuzz-" + f.what.key.kind + "-" + key_hash(f.what.key);
  c.rules = {f.what.key.rule};
  c.description = "parley-fuzz found a " + f.what.key.kind + ": " + f.what.detail + " (mutated from case " +
                  f.seed_case + "; the steps bring the target to it, the last step shows it)";
  c.role = f.session.role;
  c.suffix = f.session.suffix;  // the session's own user names: a defect may hang on them
  c.watch = f.what.key.kind == "violation";  // a watcher's verdict replays only with the watcher
  c.fresh = c.role == conform::role::server;
  conform::test_case session = f.session;
  detach(session);
  for (auto s : session.steps) {
    // A send whose text a mutation emptied: YAML cases need text in a send, so write its bytes.
    if (s.op == "send" && s.text.empty()) {
      s.op = "send_raw";
      try {
        s.text = a.encode("");
      } catch (const std::exception&) {
        s.text.clear();
      }
    }
    // YAML strings are Unicode text: a send whose bytes are not plain ASCII is written as the bytes it
    // puts on the wire, in hex.
    bool plain = std::all_of(s.text.begin(), s.text.end(), [](char ch) { return ch >= 0x20 && ch < 0x7f; });
    if (s.op == "send" && !plain) {
      try {
        s.text = a.encode(s.text);
        s.op = "send_raw";
      } catch (const std::exception&) {
      }
    }
    s.lenient = true;
    s.rule.clear();
    if (s.args.IsMap()) s.args.remove("rule");
    c.steps.push_back(std::move(s));
  }
  if (f.what.key.kind != "violation") {
    conform::step alive;
    alive.op = "expect_alive";
    alive.conn = "a";
    alive.rule = f.what.key.rule;
    alive.while_open = f.what.key.signature == stall_signature;
    c.steps.push_back(alive);
  }
  return c;
}

std::string finding_json(const fuzz_finding& f, int indent) {
  nlohmann::json j = {{"id", f.id},
                      {"kind", f.what.key.kind},
                      {"rule", f.what.key.rule},
                      {"signature", f.what.key.signature},
                      {"detail", f.what.detail},
                      {"seed_case", f.seed_case},
                      {"mutations", f.mutations},
                      {"session_seed", f.session_seed},
                      {"execution", f.execution},
                      {"at_seconds", f.at_seconds},
                      {"duplicates", f.duplicates},
                      {"case_file", f.case_file},
                      {"steps_before_minimizing", f.steps_before},
                      {"steps", f.session.steps.size()},
                      {"minimize_trials", f.minimize_trials},
                      {"replay", f.replay},
                      {"target_output", f.target_output}};
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string write_finding(fuzz_finding& f, const conform::adapter& a, const std::string& out_dir,
                          const std::string& replay_command) {
  namespace fs = std::filesystem;
  conform::test_case c = finding_case(f, a);
  f.id = c.id;
  fs::create_directories(fs::path(out_dir) / "cases");
  f.case_file = (fs::path(out_dir) / "cases" / (c.id + ".yaml")).string();
  std::ofstream(f.case_file) << "# Replay: " << replay_command << "\n" << to_yaml(c);
  std::ofstream(fs::path(out_dir) / (c.id + ".record"), std::ios::binary) << f.record;
  std::ofstream log(fs::path(out_dir) / (c.id + ".log"));
  log << c.description << "\n\nwire log of the session that found it:\n";
  for (const auto& w : f.wire) log << "  " << static_cast<long long>(w.at_ms) << " ms  " << w.conn << " " << w.direction << " " << w.text << "\n";
  log << "\nthe target's output (tail):\n" << f.target_output << "\n";
  return f.case_file;
}

}  // namespace parley::wirefuzz
