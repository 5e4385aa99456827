// The peerchat/2 contact list (spec §8.3, PC-TRUST-01): user name -> the Ed25519 key trusted for it. The
// list itself is a pure value the agent consults and changes; reading and writing its file is the
// program's job (load_contacts / save_contacts), so the agent never does I/O.
//
// File format: one `name ed25519:<64 lower-case hex>` per line; empty lines and lines starting with '#'
// are skipped. A later line for the same name replaces an earlier one.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "impl/core/result.hpp"
#include "impl/proto/peerchat/rendezvous.hpp"

namespace parley::peerchat {

class contact_list {
public:
  // errc::invalid_name or errc::bad_key for a bad line; `bad_line` (when given) receives its 1-based number.
  static result<contact_list> parse(std::string_view text, std::size_t* bad_line = nullptr);
  std::string serialize() const;  // sorted by name, one line each

  std::optional<public_key> find(std::string_view name) const;
  void set(const std::string& name, const public_key& key);
  bool erase(std::string_view name);  // false when there was no entry
  std::size_t size() const noexcept { return entries_.size(); }

private:
  std::map<std::string, public_key, std::less<>> entries_;
};

// A missing file is an empty list. Other read failures: the OS error; a bad line: as parse().
result<contact_list> load_contacts(const std::string& path, std::size_t* bad_line = nullptr);
// Writes a temporary file (mode 0600) and renames it over `path`, so a crash never leaves half a list.
std::error_code save_contacts(const std::string& path, const contact_list& list);

}  // namespace parley::peerchat
