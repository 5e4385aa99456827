#include "conformance/engine/rules.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace parley::conform {

const rule* rule_book::find(const std::string& id) const {
  for (const auto& r : rules)
    if (r.id == id) return &r;
  return nullptr;
}

rule_book load_rules(const std::string& json_text, const std::string& origin) {
  auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("rules") || !doc["rules"].is_array())
    throw std::runtime_error(origin + ": not a rules document");
  rule_book book;
  book.protocol = doc.value("protocol", "");
  for (const auto& r : doc["rules"]) {
    if (!r.is_object() || !r.contains("id") || !r.contains("level"))
      throw std::runtime_error(origin + ": every rule needs id and level");
    rule out;
    out.id = r["id"].get<std::string>();
    out.level = r["level"].get<std::string>();
    if (out.level != "MUST" && out.level != "SHOULD" && out.level != "MAY")
      throw std::runtime_error(origin + ": " + out.id + " has level " + out.level);
    out.summary = r.value("summary", "");
    out.seed_section = r.value("seed_section", "");
    out.section = r.value("section", "");
    out.testable = r.value("testable", true);
    out.untestable_reason = r.value("untestable_reason", "");
    book.rules.push_back(std::move(out));
  }
  return book;
}

}  // namespace parley::conform
