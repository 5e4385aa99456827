// A case back to YAML (parley-fuzz writes its findings as cases). Every string is double-quoted, so a
// text such as "no", "~" or "12" stays the text it was; bytes that YAML cannot carry go as hex.
#include <algorithm>

#include <yaml-cpp/yaml.h>

#include "conformance/engine/case.hpp"
#include "impl/core/encoding.hpp"

namespace parley::conform {
namespace {

bool plain_text(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

void emit_node(YAML::Emitter& out, const YAML::Node& node) {
  if (node.IsMap()) {
    out << YAML::Flow << YAML::BeginMap;
    for (auto kv : node) {
      out << YAML::Key << kv.first.as<std::string>() << YAML::Value;
      emit_node(out, kv.second);
    }
    out << YAML::EndMap;
  } else if (node.IsSequence()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& item : node) emit_node(out, item);
    out << YAML::EndSeq;
  } else if (node.IsScalar()) {
    out << YAML::DoubleQuoted << node.Scalar();
  } else {
    out << YAML::Null;
  }
}

void key_text(YAML::Emitter& out, const char* key, const std::string& value) {
  out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
}

void emit_engine_step(YAML::Emitter& out, const step& s) {
  out << YAML::Flow << YAML::BeginMap;
  key_text(out, "conn", s.conn);
  if (!s.text.empty() || s.op == "send_raw" || s.op == "client_input") {
    if (s.op == "send_raw" && !plain_text(s.text))
      key_text(out, "hex", core::to_hex(byte_view(reinterpret_cast<const std::uint8_t*>(s.text.data()), s.text.size())));
    else
      key_text(out, s.op == "send_raw" ? "bytes" : "text", s.text);
  }
  if (s.matches.size() == 1) key_text(out, "match", s.matches.front());
  if (s.matches.size() > 1) {
    out << YAML::Key << "any_of" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& m : s.matches) out << YAML::DoubleQuoted << m;
    out << YAML::EndSeq;
  }
  for (auto [key, list] : {std::pair{"capture", &s.capture}, std::pair{"skip", &s.skip}}) {
    if (list->empty()) continue;
    out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& item : *list) out << YAML::DoubleQuoted << item;
    out << YAML::EndSeq;
  }
  if (s.icase) out << YAML::Key << "icase" << YAML::Value << true;
  if (s.repeat != 1) out << YAML::Key << "repeat" << YAML::Value << s.repeat;
  if (!s.prefix.empty()) key_text(out, "prefix", s.prefix);
  if (!s.split_at.empty()) {
    out << YAML::Key << "split_at" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (auto at : s.split_at) out << at;
    out << YAML::EndSeq;
  }
  for (auto [key, d] : {std::pair{"within", &s.within}, std::pair{"not_before", &s.not_before},
                        std::pair{"gap", &s.gap}, std::pair{"delay", &s.delay}})
    if (!d->empty()) key_text(out, key, d->text);
  if (s.close_kind != "any") key_text(out, "kind", s.close_kind);
  if (!s.from.empty()) key_text(out, "from", s.from);
  if (!s.rule.empty()) key_text(out, "rule", s.rule);
  if (s.while_open) out << YAML::Key << "while_open" << YAML::Value << true;
  if (s.lenient) out << YAML::Key << "lenient" << YAML::Value << true;
  out << YAML::EndMap;
}

void emit_adapter_step(YAML::Emitter& out, const step& s) {
  YAML::Node args = s.args.IsMap() ? YAML::Clone(s.args) : YAML::Node(YAML::NodeType::Map);
  args["conn"] = s.conn;
  if (!s.rule.empty()) args["rule"] = s.rule;
  args.remove("lenient");
  out << YAML::Flow << YAML::BeginMap;
  for (auto kv : args) {
    out << YAML::Key << kv.first.as<std::string>() << YAML::Value;
    emit_node(out, kv.second);
  }
  if (s.lenient) out << YAML::Key << "lenient" << YAML::Value << true;
  out << YAML::EndMap;
}

}  // namespace

std::string to_yaml(const test_case& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  key_text(out, "id", c.id);
  out << YAML::Key << "rules" << YAML::Value << YAML::Flow << c.rules;
  if (!c.description.empty()) key_text(out, "description", c.description);
  if (c.role == role::client) key_text(out, "role", "client");
  if (c.fresh) out << YAML::Key << "fresh" << YAML::Value << true;
  if (!c.timer_vars.empty()) out << YAML::Key << "timers" << YAML::Value << YAML::Flow << c.timer_vars;
  else if (c.timers) out << YAML::Key << "timers" << YAML::Value << true;
  if (!c.profile.empty()) key_text(out, "profile", c.profile);
  if (!c.suffix.empty()) key_text(out, "suffix", c.suffix);
  if (c.watch) out << YAML::Key << "watch" << YAML::Value << true;
  out << YAML::Key << "steps" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : c.steps) {
    out << YAML::BeginMap << YAML::Key << s.op << YAML::Value;
    if (s.op.find('.') != std::string::npos) emit_adapter_step(out, s);
    else emit_engine_step(out, s);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace parley::conform
