#include "impl/proto/securechat/json_text.hpp"

#include <nlohmann/json.hpp>

namespace parley::securechat {

nlohmann::json parse_json(std::string_view text) {
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace parley::securechat
