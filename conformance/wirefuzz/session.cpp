#include "conformance/wirefuzz/session.hpp"

#include <thread>

#include "conformance/engine/case_run.hpp"
#include "conformance/engine/client_health.hpp"
#include "impl/cli/process.hpp"

namespace parley::wirefuzz {

conform::step session_step(const conform::step& s, double cap_ms) {
  conform::step out = s;
  // A silence or a pause only gives the target time to answer: a fifth of the cap is enough for that.
  bool pause = s.op == "wait" || s.op == "expect_silence" || s.op == "expect_none";
  if (pause) out.within = {std::to_string(static_cast<long long>(cap_ms / 5))};
  else if (s.op.starts_with("expect") && s.op != "expect_alive") out.within = {std::to_string(static_cast<long long>(cap_ms))};
  return out;
}

namespace {

// A pattern that a mutation made huge (a captured 64 KiB text substituted into it) is not matched: the
// standard library's regex compiler recurses per character and would overflow the stack.
bool too_long_to_match(const conform::step& st, const conform::case_context& ctx) {
  for (const auto& m : st.matches)
    if (ctx.substitute(m, true).size() > 4096) return true;
  return false;
}

// A client is judged after the engine, as its server, ended the connection: a client must survive that too.
// The check waits briefly for a client on its way down; one still running afterwards is then stopped.
void judge_client(cli::process& client, conform::case_context& ctx, session_outcome& out) {
  auto until = clock_type::now() + millis(100);
  while (client.running() && clock_type::now() < until) std::this_thread::sleep_for(millis(5));
  std::string log = ctx.client_output_tail(64 * 1024);
  out.client_crash = conform::client_crash(client, log);
  out.client_log = log.size() > 4000 ? log.substr(log.size() - 4000) : log;
  client.stop(millis(200));
}

}  // namespace

session_outcome run_session(const conform::adapter& a, const conform::run_settings& s, const conform::test_case& c,
                            const std::string& host, unsigned short port, const std::string& suffix) {
  session_outcome out;
  conform::case_context ctx(a, s, a.real_timing(), host, port);
  ctx.use_suffix(suffix);
  ctx.watch_sessions();
  bool client_role = c.role == conform::role::client;
  if (auto problem = a.begin_case(ctx, false); !problem.empty()) {
    ++out.unrunnable_steps;
    return out;
  }
  if (client_role && !ctx.listen().empty()) {
    ++out.unrunnable_steps;
    a.end_case(ctx);
    return out;
  }
  for (const auto& original : c.steps) {
    if (s.interrupted && s.interrupted->load()) break;
    conform::step st = session_step(original, 100 * s.time_scale);
    try {
      if (!st.matches.empty() && too_long_to_match(st, ctx)) {
        ++out.unrunnable_steps;
        continue;
      }
      ctx.begin_step(st.rule.empty() ? c.rules.front() : st.rule, false);
      if (!conform::execute_step(st, ctx).empty()) ++out.failed_steps;
      ctx.take_blame();
    } catch (const std::exception&) {  // case_error, a regex made odd by a mutation, a YAML type
      ++out.unrunnable_steps;
    }
  }
  ctx.drain(clock_type::now() + millis(20));
  // A new user, served while this session's connections are still open: a server that one session's
  // half-sent line or open handshake blocks serves nobody meanwhile, and recovers once the session ends.
  // Only with probe steps of the adapter's own, which log in a user no session uses: a preflight logs in
  // one of the session's own users, whom the target rightly refuses while the session holds them.
  if (!client_role && !a.probe_steps().empty()) {
    try {
      out.stalled = conform::probe_target(ctx);
    } catch (const std::exception& e) {
      out.stalled = e.what();
    }
  }
  ctx.end_sessions(!client_role);
  ctx.take_watch_findings();
  if (auto* client = ctx.client()) judge_client(*client, ctx, out);
  a.end_case(ctx);
  out.findings = ctx.take_findings();
  out.record = ctx.take_record();
  out.wire = ctx.take_wire();
  return out;
}

std::string probe(const conform::adapter& a, const conform::run_settings& s, const std::string& host,
                  unsigned short port, const std::string& suffix) {
  conform::case_context ctx(a, s, a.real_timing(), host, port);
  ctx.use_suffix(suffix);
  if (auto problem = a.begin_case(ctx, false); !problem.empty()) return problem;
  std::string problem;
  try {
    problem = conform::probe_target(ctx);
  } catch (const std::exception& e) {
    problem = e.what();
  }
  ctx.end_sessions(true);
  a.end_case(ctx);
  return problem;
}

}  // namespace parley::wirefuzz
