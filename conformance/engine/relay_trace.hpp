// What the session watchers share: a relayed message traced back to the connections of the session that
// sent what it carries, and judged against the sender the relay names.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>

namespace parley::conform {

struct relay_origin {
  bool rightful = false;  // a connection logged in as the relay's sender sent it
  std::string other;      // else one logged in as someone else: "a#0 (logged in as bob)"
  std::string anonymous;  // else one that never tried to log in
};

// `sent`: per connection, what it sent; `names`: per connection, whom it is logged in as; `tried`: whether
// a connection without a name sent a login (its answer may have come unread, so it is neither). `as`
// words the identity in `other` ("logged in as", "joined as"). Nothing found: what another client of a
// shared server sent, which is not judged.
template <class Item>
relay_origin trace_relay(const Item& item, const std::string& sender, const std::map<std::string, std::set<Item>>& sent,
                         const std::map<std::string, std::string>& names,
                         const std::function<bool(const std::string&)>& tried, const std::string& as) {
  relay_origin origin;
  for (const auto& [conn, items] : sent) {
    if (!items.contains(item)) continue;
    auto name = names.find(conn);
    if (name == names.end()) {
      if (!tried(conn)) origin.anonymous = conn;
    } else if (name->second == sender) {
      origin.rightful = true;
    } else {
      origin.other = conn + " (" + as + " " + name->second + ")";
    }
  }
  return origin;
}

}  // namespace parley::conform
