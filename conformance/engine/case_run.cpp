#include "conformance/engine/case_run.hpp"

#include <algorithm>
#include <regex>
#include <set>
#include <thread>

#include "conformance/engine/client_health.hpp"
#include "impl/cli/process.hpp"
#include "impl/core/encoding.hpp"

namespace parley::conform {

std::string execute_step(const step& s, case_context& ctx) {
  const adapter& a = ctx.protocol();
  if (s.op.find('.') != std::string::npos) {
    if (!s.op.starts_with(a.protocol() + ".")) throw case_error("step " + s.op + " belongs to another protocol");
    return a.run_step(s, ctx);
  }
  if (s.op == "connect") return ctx.connect(s.conn, ctx.deadline(s.within, 5000), ctx.substitute(s.from));
  if (s.op == "send" || s.op == "send_raw") {
    std::string text = ctx.substitute(s.text);
    std::string bytes;
    if (s.op == "send") bytes = a.encode(text);
    else
      for (std::size_t i = 0; i < s.repeat; ++i) bytes += text;
    return ctx.send(s.conn, bytes, s.split_at, millis(static_cast<long long>(ctx.ms(s.gap, 50))));
  }
  if (s.op == "expect") {
    std::vector<std::string> patterns;
    for (const auto& m : s.matches) patterns.push_back(ctx.substitute(m, true));
    // `not_before` counts from where the peer's timer can have started at the earliest, not from this
    // step's start: on a loaded machine the engine may read a login's reply late, and a timer the server
    // started at the login request then looked early by the delay (a correct server failed under CI).
    std::optional<time_point> not_before;
    if (!s.not_before.empty())
      not_before = ctx.timer_origin(s.conn) +
                   std::chrono::microseconds(static_cast<long long>(ctx.ms(s.not_before, 0) * 1000));
    std::vector<std::string> skip;
    for (const auto& m : s.skip) skip.push_back(ctx.substitute(m, true));
    auto failure = ctx.expect(s.conn, patterns, ctx.deadline(s.within, 2000), s.capture, s.icase, not_before, skip);
    if (failure.empty()) ctx.timer_restarts_at_last_match(s.conn);
    return failure;
  }
  if (s.op == "expect_silence") return ctx.expect_silence(s.conn, ctx.deadline(s.within, 300));
  if (s.op == "expect_none") {
    std::vector<std::string> patterns;
    for (const auto& m : s.matches) patterns.push_back(ctx.substitute(m, true));
    return ctx.expect_none(s.conn, patterns, ctx.deadline(s.within, 300), s.icase);
  }
  if (s.op == "expect_close") {
    std::vector<std::string> skip;
    for (const auto& m : s.skip) skip.push_back(ctx.substitute(m, true));
    return ctx.expect_close(s.conn, s.close_kind, ctx.deadline(s.within, 2000), skip);
  }
  if (s.op == "close" || s.op == "reset") return ctx.close(s.conn, s.op == "reset");
  if (s.op == "wait") {
    auto until = ctx.deadline(s.within, 0);
    while (clock_type::now() < until && !ctx.interrupted())
      std::this_thread::sleep_until(std::min(until, clock_type::now() + millis(100)));
    return {};
  }
  // A launched client's start is not under test: a JVM, or a reference client making its RSA key on a
  // loaded machine, may take seconds before it connects (5 s failed ITP-CLIENT-01 under CI's load).
  if (s.op == "accept") return ctx.accept(s.conn, ctx.deadline(s.within, 15000));
  if (s.op == "launch_client") return ctx.launch_client(ctx.substitute(s.text));
  if (s.op == "client_input") {
    std::string line = ctx.substitute(s.prefix);
    for (std::size_t i = 0; i < s.repeat; ++i) line += ctx.substitute(s.text);
    return ctx.type_line(line, millis(static_cast<long long>(ctx.ms(s.delay, ctx.settings().type_delay_ms))));
  }
  if (s.op == "close_client_input") {
    if (ctx.client()) ctx.client()->close_stdin();
    return {};
  }
  if (s.op == "expect_event" || s.op == "expect_no_event") {
    if (!ctx.client()) throw case_error(s.op + " without launch_client");
    std::regex re(ctx.substitute(s.matches.front(), true));
    bool wanted = s.op == "expect_event";
    auto until = ctx.deadline(s.within, wanted ? 2000 : 300);
    while (auto line = ctx.client()->read_line(until)) {
      ctx.note("client", '<', core::printable(*line));
      if (std::regex_search(*line, re))
        return wanted ? std::string{} : "the client showed " + *line + ", which it must not";
    }
    return wanted ? "the client never showed an event matching /" + s.matches.front() + "/" : std::string{};
  }
  if (s.op == "expect_alive" && ctx.client()) {
    // A client is alive while it has not crashed: it may end its session on what it cannot accept, but not
    // die of it. As a fuzz session ends, the engine (its server) first ends the connections, which a client
    // must survive too (while_open: true judges it with them open).
    ctx.drain(ctx.deadline({}, 300));
    if (!s.while_open) ctx.end_sessions(false);
    // With its connections ended a client may still be reading what came before the end, and an
    // interpreter takes a while to die and print its trace: up to 2 s (scaled) for it to exit.
    auto until = s.while_open ? clock_type::now() + millis(200) : ctx.deadline(s.within, 2000);
    while (ctx.client()->running() && clock_type::now() < until) std::this_thread::sleep_for(millis(10));
    auto crash = client_crash(*ctx.client(), ctx.client_output_tail(64 * 1024));
    return crash.crashed ? "the client crashed: it " + crash.text() : std::string{};
  }
  if (s.op == "expect_alive") {
    // As a fuzz session ends: what was sent is answered, then the case's users leave; only then is a new
    // user tried (while_open: with the case's connections still open, for a server one session blocks).
    if (!s.while_open) {
      ctx.drain(ctx.deadline({}, 500));  // a loaded machine may take a while to act on the last bytes
      ctx.end_sessions(true);
    }
    std::string problem = probe_target(ctx);
    ctx.take_blame();  // the probe's own login steps name their rules; what fails here is this step's rule
    return problem.empty() ? std::string{} : "the target no longer serves a new user: " + problem;
  }
  throw case_error("unknown operation " + s.op);
}

std::string probe_target(case_context& ctx) {
  const adapter& a = ctx.protocol();
  std::string steps = a.probe_steps();
  if (steps.empty()) {
    identity id = a.identify(ctx);
    if (ctx.is_open("preflight")) ctx.close("preflight", false);
    return id.problem;
  }
  if (ctx.get("probe").empty()) ctx.set("probe", "pr" + ctx.get("suffix"));
  static const std::string header = "id: probe\nrules: [probe]\nsteps:\n";
  auto probe = load_cases(header + steps, a.protocol() + " probe");
  std::string failure;
  for (const auto& s : probe.front().steps)
    if (failure = execute_step(s, ctx); !failure.empty()) break;
  if (ctx.is_open("alive")) ctx.close("alive", false);
  return failure;
}

namespace {

bool matches_rule(const std::string& rule, const std::vector<std::string>& patterns) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
    return p == rule || (p.ends_with('-') && rule.starts_with(p));
  });
}

}  // namespace

verdict broken(const rule_book& rules, const std::string& rule, bool strict) {
  const conform::rule* r = rules.find(rule);
  std::string level = r ? r->level : "MUST";
  if (level == "MAY") return verdict::not_implemented;
  if (level == "SHOULD" && !strict) return verdict::warn;
  return verdict::fail;
}

// Steps that only act (write, close, wait, type) check nothing by themselves: they serve the check that
// follows them, and take its rule.
bool checks_something(const step& s, const adapter* a) {
  static const std::set<std::string> acting = {"send", "send_raw", "close", "reset", "wait", "connect",
                                                "launch_client", "client_input", "close_client_input"};
  if (s.op == "accept") return a && !a->client_connect_rule().empty();
  if (s.op.find('.') != std::string::npos) return !a || !a->acts_only(s);
  return !acting.contains(s.op);
}

std::vector<std::string> step_rules(const test_case& c, const adapter& a) {
  std::vector<std::string> out(c.steps.size());
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const step& s = c.steps[i];
    std::string rule = s.rule;
    if (rule.empty() && s.op == "accept") rule = a.client_connect_rule();
    if (rule.empty() && s.op.find('.') != std::string::npos && !a.acts_only(s)) rule = a.step_rule(s);
    if (rule.empty() && checks_something(s, &a)) rule = c.rules.front();
    out[i] = rule;
  }
  // An acting step without a rule of its own: the next check's rule, else the last check's, else the case's.
  std::vector<std::string> next(c.steps.size());
  std::string seen;
  for (std::size_t i = c.steps.size(); i-- > 0;) {
    next[i] = seen;
    if (!out[i].empty()) seen = out[i];
  }
  std::string last = c.rules.front();
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    if (out[i].empty()) out[i] = next[i].empty() ? last : next[i];
    else last = out[i];
  }
  return out;
}

steps_outcome run_steps(const test_case& c, const std::vector<std::string>& rules_of_steps, case_context& ctx,
                        const std::atomic<bool>* interrupted) {
  steps_outcome o;
  auto keepalive_rules = ctx.protocol().keepalive_rules();
  try {
    for (std::size_t i = 0; i < c.steps.size(); ++i) {
      if (interrupted && interrupted->load()) {
        o.interrupted = true;
        o.failure = "interrupted before step " + std::to_string(i + 1) + " (line " + std::to_string(c.steps[i].line) + ")";
        o.harness_error = true;
        return o;
      }
      const auto& rule = rules_of_steps[i];
      // A client that prints no events: what only its events could show is not checked (SKIP), never FAILed.
      if (ctx.events_off && (c.steps[i].op == "expect_event" || c.steps[i].op == "expect_no_event")) {
        o.skipped_steps.insert(static_cast<int>(i));
        ctx.note("client", '*', "event check skipped: the client prints no events");
        continue;
      }
      // Keep-alives are the business of the engine's own checks in the keep-alive rules' cases; a
      // protocol step (a login) in such a case is not about them.
      bool adapter_step = c.steps[i].op.find('.') != std::string::npos;
      ctx.begin_step(rule, !adapter_step && matches_rule(rule, keepalive_rules));
      std::string failure;
      try {
        failure = execute_step(c.steps[i], ctx);
      } catch (const case_error& e) {
        // A lenient step that cannot run here (a connection a written finding's session never opened)
        // is passed over like one that failed; any other step's is a malformed case.
        if (!c.steps[i].lenient) throw;
        failure = e.what();
      }
      if (failure.empty()) continue;
      if (c.steps[i].lenient && !ctx.interrupted()) {
        ctx.take_blame();
        ctx.note("engine", '*', "lenient step " + std::to_string(i + 1) + " (line " + std::to_string(c.steps[i].line) +
                                    ") did not go as in the session it was written from: " + failure);
        continue;
      }
      if (ctx.interrupted()) {
        o.interrupted = o.harness_error = true;
        o.failure = "interrupted at step " + std::to_string(i + 1) + " (line " + std::to_string(c.steps[i].line) + ")";
        return o;
      }
      std::string blamed = ctx.take_blame();
      o.failure = failure;
      o.failed_rule = blamed.empty() ? rule : blamed;
      o.failed_index = static_cast<int>(i);
      o.failed_line = c.steps[i].line;
      return o;
    }
  } catch (const case_error& e) {
    o.failure = e.what();
    o.harness_error = true;
  } catch (const std::regex_error& e) {
    o.failure = std::string("bad regular expression in the case: ") + e.what();
    o.harness_error = true;
  } catch (const std::exception& e) {  // e.g. a step argument of the wrong YAML type
    o.failure = std::string("the case could not run: ") + e.what();
    o.harness_error = true;
  }
  return o;
}

void attribute(case_result& r, const test_case& c, const std::vector<std::string>& rules_of_steps,
               const steps_outcome& o, const std::vector<finding>& findings, const rule_book& rules, bool strict,
               const adapter* a) {

  // The case's rules: its list, then the rules its steps, its failure and its findings name.
  r.rules = c.rules;
  auto add = [&](const std::string& id) {
    if (!id.empty() && std::find(r.rules.begin(), r.rules.end(), id) == r.rules.end()) r.rules.push_back(id);
  };
  for (const auto& id : rules_of_steps) add(id);
  add(o.failed_rule);
  for (const auto& f : findings) add(f.rule);

  r.message = o.failure;
  r.failed_rule = o.failed_rule;
  r.failed_step = o.failed_line;
  r.results.clear();
  for (const auto& id : r.rules) {
    rule_result rr{id, verdict::pass, {}, {}, 0};
    auto found = std::find_if(findings.begin(), findings.end(), [&](const finding& f) { return f.rule == id; });
    // The last step of the rule: a rule listed without steps of its own is evaluated by the whole case.
    int last = -1;
    for (std::size_t i = 0; i < rules_of_steps.size(); ++i)
      if (rules_of_steps[i] == id) last = static_cast<int>(i);
    if (last < 0) last = static_cast<int>(c.steps.size()) - 1;
    // Only event checks, all skipped: nothing in this run can show the rule.
    bool checked = false, all_skipped = true;
    for (std::size_t i = 0; i < rules_of_steps.size(); ++i) {
      if (rules_of_steps[i] != id || !checks_something(c.steps[i], a)) continue;
      checked = true;
      all_skipped = all_skipped && o.skipped_steps.contains(static_cast<int>(i));
    }

    if (checked && all_skipped && !o.skipped_steps.empty()) {
      rr.outcome = verdict::skip;
      rr.message = "the client prints no events, and only its events can show this rule";
    } else if (o.harness_error && !o.failure.empty()) {
      rr.outcome = verdict::error;
      rr.message = o.failure;
    } else if (!o.failure.empty() && id == o.failed_rule) {
      rr.outcome = broken(rules, id, strict);
      rr.message = o.failure;
      rr.line = o.failed_line;
    } else if (found != findings.end()) {
      rr.outcome = broken(rules, id, strict);
      rr.message = found->message;
    } else if (!o.failure.empty() && last >= o.failed_index) {
      rr.outcome = verdict::blocked;
      rr.blocked_by = o.failed_rule;
      rr.message = "BLOCKED by " + o.failed_rule + ": " + o.failure;
      rr.line = o.failed_line;
    }
    r.results.push_back(std::move(rr));
  }
  // A harness error may still come with findings made before it: those rules were broken all the same.
  if (o.harness_error)
    for (auto& rr : r.results)
      for (const auto& f : findings)
        if (f.rule == rr.rule) {
          rr.outcome = broken(rules, f.rule, strict);
          rr.message = f.message;
        }

  r.outcome = verdict::pass;
  for (const auto& rr : r.results)
    if (severity(rr.outcome) > severity(r.outcome)) r.outcome = rr.outcome;
  if (r.message.empty())
    for (const auto& rr : r.results)
      if (rr.outcome != verdict::pass) {
        r.message = rr.rule + ": " + rr.message;
        break;
      }
}

}  // namespace parley::conform
