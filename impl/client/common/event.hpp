// What a reference client shows its user, for every protocol. In script mode each event is printed as one
// JSON object: {"event": type, <fields>..., "users": [list]} for a users event, and "list": [list] for any
// other event that carries one.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::client {

struct event {
  std::string type;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::string> list;

  std::string field(std::string_view name) const {
    for (const auto& [k, v] : fields)
      if (k == name) return v;
    return {};
  }
};

// The script-mode form: one JSON object, fields in order. Invalid UTF-8 from a peer is replaced.
std::string to_json_line(const event& e);

}  // namespace parley::client
