#include "impl/client/common/event.hpp"

#include <nlohmann/json.hpp>

namespace parley::client {

std::string to_json_line(const event& e) {
  nlohmann::ordered_json j;
  j["event"] = e.type;
  for (const auto& [k, v] : e.fields) j[k] = v;
  if (e.type == "users") j["users"] = e.list;
  else if (!e.list.empty()) j["list"] = e.list;  // e.g. a session's invitees
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace parley::client
