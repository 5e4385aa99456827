#include "impl/core/line_framer.hpp"

#include <cstring>

namespace parley::core {
namespace {

// The first CR or LF: the first LF, then a CR before it, each found by memchr at memory speed (a loop of
// our own costs a branch per byte, and find_first_of searches its set once per byte).
std::size_t first_cr_or_lf(std::string_view text) {
  if (text.empty()) return std::string_view::npos;
  const char* begin = text.data();
  auto* lf = static_cast<const char*>(std::memchr(begin, '\n', text.size()));
  std::size_t before_lf = lf ? static_cast<std::size_t>(lf - begin) : text.size();
  auto* cr = static_cast<const char*>(std::memchr(begin, '\r', before_lf));
  if (cr) return static_cast<std::size_t>(cr - begin);
  return lf ? before_lf : std::string_view::npos;
}

}  // namespace

result<std::optional<framed_line>> line_framer::next() {
  if (poisoned_) return errc::line_too_long;
  std::string_view rest = std::string_view(pending_).substr(consumed_);
  std::size_t end = options_.lone_cr_terminates ? first_cr_or_lf(rest) : rest.find('\n');

  if (end == std::string_view::npos) {
    // A trailing '\r' may be the first half of "\r\n"; it is not content yet, so it does not count.
    std::size_t content = rest.size() - (!rest.empty() && rest.back() == '\r' ? 1 : 0);
    if (content > options_.max_line) {
      poisoned_ = true;
      return errc::line_too_long;
    }
    // Compact once the consumed prefix dominates, so a long-lived stream does not grow.
    if (consumed_ > 0 && consumed_ >= pending_.size() / 2) {
      pending_.erase(0, consumed_);
      consumed_ = 0;
    }
    return std::optional<framed_line>{};
  }

  framed_line line;
  std::size_t terminator_size = 1;
  std::size_t content = end;
  if (rest[end] == '\n') {
    if (end > 0 && rest[end - 1] == '\r') content = end - 1;
  } else if (end + 1 < rest.size() && rest[end + 1] == '\n') {
    terminator_size = 2;  // '\r' found first by find_first_of, and it is a CRLF
  }
  // Otherwise a lone '\r' ends the line now, even at the end of the buffer: waiting for a '\n' that may
  // never come would leave the command unanswered. If the '\n' arrives later it makes an empty line.
  if (content > options_.max_line) {
    poisoned_ = true;
    return errc::line_too_long;
  }
  line.text.assign(rest.substr(0, content));
  line.terminator.assign(rest.substr(content, end + terminator_size - content));
  consumed_ += end + terminator_size;
  if (consumed_ == pending_.size()) {
    pending_.clear();
    consumed_ = 0;
  }
  return std::optional<framed_line>{std::move(line)};
}

}  // namespace parley::core
