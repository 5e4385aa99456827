// What the peerchat steps share: argument helpers and the per-case state.
#include <any>

#include "conformance/adapters/peerchat/steps.hpp"

namespace parley::conform::peerchat_engine {

std::string arg(const step& s, const case_context& ctx, const char* key, const char* fallback) {
  if (!s.args.IsMap() || !s.args[key]) {
    if (!fallback) throw case_error(s.op + " needs '" + key + "' (line " + std::to_string(s.line) + ")");
    return ctx.substitute(fallback);
  }
  return ctx.substitute(s.args[key].as<std::string>());
}

bool flag(const step& s, const char* key, bool fallback) {
  return s.args.IsMap() && s.args[key] ? s.args[key].as<bool>() : fallback;
}

double number(const step& s, const case_context& ctx, const char* key, double fallback) {
  if (!s.args.IsMap() || !s.args[key]) return fallback;
  return ctx.ms(duration_expr{s.args[key].as<std::string>()}, fallback);
}

chat_state& state(case_context& ctx) {
  auto& slot = ctx.objects()["peerchat.state"];
  if (!slot.has_value()) slot = std::make_shared<chat_state>();
  return *std::any_cast<std::shared_ptr<chat_state>&>(slot);
}

pc::identity& identity_of(chat_state& st, const std::string& label) {
  auto& slot = st.identities[label];
  if (!slot) {
    auto made = pc::identity::generate();
    if (!made) throw case_error("cannot make an Ed25519 key: " + made.error().message());
    slot = std::make_shared<pc::identity>(std::move(*made));
  }
  return *slot;
}

udp_peer& peer_of(case_context& ctx, const step& s) {
  auto& st = state(ctx);
  if (!st.peer) throw case_error(s.op + " before peerchat.start_chat (line " + std::to_string(s.line) + ")");
  return *st.peer;
}

}  // namespace parley::conform::peerchat_engine
