// Pieces for the session watchers of the line protocols (itp, sslmessager): the lines each connection
// wrote, whole again however a mutation cut or merged its writes, and the words of a line.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "impl/core/line_framer.hpp"

namespace parley::conform {

class written_lines {
public:
  // The lines `bytes` completes on `conn`, without their LF and a CR before it.
  std::vector<std::string> add(const std::string& conn, std::string_view bytes) {
    // Twice the longest line a mutation makes (64 KiB of text); a connection that writes a longer one has
    // lost its framing, and the watcher reads no more of it.
    auto& framer = framers_.try_emplace(conn, core::line_framer_options{.max_line = 128 * 1024}).first->second;
    framer.feed(bytes);
    std::vector<std::string> lines;
    for (auto next = framer.next(); next && *next; next = framer.next()) lines.push_back(std::move((*next)->text));
    return lines;
  }

private:
  std::map<std::string, core::line_framer> framers_;
};

// The words of a line, split at runs of spaces.
inline std::vector<std::string> words_of(std::string_view line, std::size_t max_words = 8) {
  std::vector<std::string> words;
  std::size_t at = 0;
  while (words.size() < max_words) {
    at = line.find_first_not_of(' ', at);
    if (at == std::string_view::npos) break;
    auto end = line.find(' ', at);
    words.emplace_back(line.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
    if (end == std::string_view::npos) break;
    at = end;
  }
  return words;
}

}  // namespace parley::conform
