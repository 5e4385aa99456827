#include "impl/client/peerchat/contacts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace parley::peerchat {

result<contact_list> contact_list::parse(std::string_view text, std::size_t* bad_line) {
  contact_list list;
  std::size_t number = 0;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto fail = [&](errc e) -> result<contact_list> {
      if (bad_line) *bad_line = number;
      return e;
    };
    auto sp = line.find(' ');
    if (sp == std::string_view::npos) return fail(errc::bad_key);
    std::string_view name = line.substr(0, sp);
    if (!valid_name(name)) return fail(errc::invalid_name);
    auto key = parse_public_key(line.substr(sp + 1));
    if (!key) return fail(errc::bad_key);
    list.set(std::string(name), *key);
  }
  return list;
}

std::string contact_list::serialize() const {
  std::string text;
  for (const auto& [name, key] : entries_) text += name + " " + format_public_key(key) + "\n";
  return text;
}

std::optional<public_key> contact_list::find(std::string_view name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void contact_list::set(const std::string& name, const public_key& key) { entries_[name] = key; }

bool contact_list::erase(std::string_view name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

result<contact_list> load_contacts(const std::string& path, std::size_t* bad_line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return contact_list{};
    return std::error_code(errno, std::generic_category());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return contact_list::parse(text.str(), bad_line);
}

std::error_code save_contacts(const std::string& path, const contact_list& list) {
  std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return {errno, std::generic_category()};
  std::string text = list.serialize();
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::error_code error(errno, std::generic_category());
      ::close(fd);
      ::unlink(temporary.c_str());
      return error;
    }
    done += static_cast<std::size_t>(n);
  }
  int synced = ::fsync(fd);
  int sync_error = errno;
  if (::close(fd) != 0 || synced != 0) {
    std::error_code error(synced != 0 ? sync_error : errno, std::generic_category());
    ::unlink(temporary.c_str());
    return error;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::error_code error(errno, std::generic_category());
    ::unlink(temporary.c_str());
    return error;
  }
  return {};
}

}  // namespace parley::peerchat
