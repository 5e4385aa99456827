// Pieces for the session watchers of the line protocols (itp, sslmessager): the lines each connection
// wrote, whole again however a mutation cut or merged its writes, and the words of a line.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace parley::conform {

class written_lines {
public:
  // The lines `bytes` completes on `conn`, without their LF and a CR before it.
  std::vector<std::string> add(const std::string& conn, std::string_view bytes) {
    std::string& held = held_[conn];
    held.append(bytes);
    std::vector<std::string> lines;
    for (auto lf = held.find('\n'); lf != std::string::npos; lf = held.find('\n')) {
      std::string line = held.substr(0, lf);
      if (line.ends_with('\r')) line.pop_back();
      lines.push_back(std::move(line));
      held.erase(0, lf + 1);
    }
    // A line that never ends is no message; a mutation's 64 KiB of it need not be kept.
    if (held.size() > 64 * 1024) held.clear();
    return lines;
  }

private:
  std::map<std::string, std::string> held_;
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
