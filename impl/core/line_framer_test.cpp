#include "impl/core/line_framer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace parley::core {
namespace {

std::vector<std::string> frame_in_chunks(std::string_view wire, std::size_t chunk, line_framer_options options,
                                         bool* too_long = nullptr) {
  line_framer framer(options);
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < wire.size(); at += chunk) {
    framer.feed(wire.substr(at, chunk));
    for (;;) {
      auto next = framer.next();
      if (!next) {
        if (too_long) *too_long = true;
        return lines;
      }
      if (!*next) break;
      lines.push_back((*next)->text + "|" + (*next)->terminator);
    }
  }
  return lines;
}

struct vector {
  std::string_view wire;
  std::vector<std::string> lines;  // text|terminator
  bool lone_cr = false;
};

const vector vectors[] = {
    {"IDENT alice\n", {"IDENT alice|\n"}},
    {"IDENT alice\r\n", {"IDENT alice|\r\n"}},
    {"A\nB\r\nC\n", {"A|\n", "B|\r\n", "C|\n"}},
    {"\n\n", {"|\n", "|\n"}},
    {"partial", {}},
    {"A\rB\n", {"A\rB|\n"}},
    {"A\rB\n", {"A|\r", "B|\n"}, true},
    {"A\r\nB\r", {"A|\r\n", "B|\r"}, true},
    {"A\r\r\n", {"A|\r"}, true},
};

// Every vector must frame identically whole, split at every offset, and one byte at a time. With lone CRs
// a CRLF cut between reads adds an empty line, so there only the texts of non-empty lines must agree.
TEST(LineFramer, FramesVectorsRegardlessOfChunking) {
  // text|terminator -> text, empty lines dropped (the terminator of a split CRLF depends on the cut).
  auto non_empty = [](const std::vector<std::string>& lines) {
    std::vector<std::string> texts;
    for (const auto& l : lines)
      if (!l.starts_with("|")) texts.push_back(l.substr(0, l.find('|')));
    return texts;
  };
  for (const auto& v : vectors) {
    line_framer_options options{.max_line = 64, .lone_cr_terminates = v.lone_cr};
    for (std::size_t chunk = 1; chunk <= v.wire.size(); ++chunk) {
      auto lines = frame_in_chunks(v.wire, chunk, options);
      if (v.lone_cr) EXPECT_EQ(non_empty(lines), non_empty(v.lines)) << v.wire << " chunk " << chunk;
      else EXPECT_EQ(lines, v.lines) << v.wire << " chunk " << chunk;
    }
  }
}

TEST(LineFramer, AcceptsLineOfExactlyMaxLength) {
  std::string wire = std::string(8, 'x') + "\r\n";
  bool too_long = false;
  auto lines = frame_in_chunks(wire, 1, {.max_line = 8}, &too_long);
  EXPECT_FALSE(too_long);
  ASSERT_EQ(lines.size(), 1u);
}

TEST(LineFramer, RejectsPendingBytesBeyondMaxWithoutWaitingForTerminator) {
  line_framer framer({.max_line = 8});
  framer.feed("123456789");
  EXPECT_EQ(framer.next().error(), errc::line_too_long);
  // Poisoned: a later terminator does not resynchronise a stream that lost its framing.
  framer.feed("\n");
  EXPECT_EQ(framer.next().error(), errc::line_too_long);
}

TEST(LineFramer, RejectsCompleteLineBeyondMax) {
  bool too_long = false;
  frame_in_chunks("123456789\n", 10, {.max_line = 8}, &too_long);
  EXPECT_TRUE(too_long);
}

TEST(LineFramer, KeepsMemoryBoundedOverManyLines) {
  line_framer framer({.max_line = 16});
  for (int i = 0; i < 10000; ++i) {
    framer.feed("PONG\nPO");
    framer.feed("NG\n");
    while (auto next = framer.next()) {
      if (!*next) break;
    }
    ASSERT_LE(framer.pending_size(), 16u);
  }
}

}  // namespace
}  // namespace parley::core
