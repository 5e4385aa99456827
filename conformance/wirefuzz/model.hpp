// What the mutators know of a protocol's grammar: its tokens (the libFuzzer dictionary fuzz/dict/P.dict),
// how its names and numbers look and where their bounds are, and whether it speaks lines.
#pragma once

#include <string>
#include <vector>

#include "conformance/engine/adapter.hpp"

namespace parley::wirefuzz {

struct fuzz_model {
  std::vector<std::string> tokens;          // commands, keywords, field names
  std::string name_alphabet;                // the characters of a valid name
  std::vector<std::size_t> name_lengths;    // lengths at and around the name rule's bounds
  std::vector<std::string> numbers;         // numbers at the bounds of the fields that hold them
  std::vector<std::size_t> long_lengths;    // sizes at and around the line, text and frame limits
  std::vector<std::string> odd_bytes;       // bytes and UTF-8 sequences a parser must survive
  bool lines = false;                       // a `send` becomes a line: its terminator can be mutated
  std::vector<std::string> terminators;     // for line protocols: LF variants to try
  // The argument by which a protocol step names the sender of the frame it builds (multiparty: uid, with the
  // case's ${bob_uid} and so on); "" where the sender is whoever logged in on the connection.
  std::string sender_field;
  // The protocol step that writes a message in frames built by hand (securechat: securechat.ws_frame, a
  // WebSocket frame's flags, opcode, mask and length); "" where messages have no frame layer of their own.
  std::string frame_step;
  // Arguments of the protocol's signing and sealing steps that make the signature or tag wrong while the
  // rest stays as built: the "deliberately invalid" share of crypto-aware mutations.
  struct spoiler {
    std::string op;                   // the protocol step, e.g. multiparty.send
    std::string key;                  // its argument, e.g. tag
    std::vector<std::string> values;  // what spoils it, e.g. bad
  };
  std::vector<spoiler> spoilers;
  // Sealing steps whose plaintext may be any bytes, carried as hex because YAML text cannot hold them: the
  // mutator edits the plaintext byte by byte and the adapter seals it, so the bytes reach the parser behind
  // the tag. Where the frame header states a length, its argument and the values at its bounds.
  struct sealed_text {
    std::string op;                          // e.g. multiparty.send
    std::string text_key, hex_key;           // e.g. payload, payload_hex
    std::string length_key;                  // e.g. len; "" where no length is written
    std::vector<std::string> length_values;  // e.g. 0, 23, 24, 35, 36, 65535
  };
  std::vector<sealed_text> sealed_texts;
};

// The model of the adapter's protocol; the dictionary is the one compiled into parley-fuzz.
fuzz_model model_for(const conform::adapter& a);

// Reads a libFuzzer dictionary: one "quoted token" per line (optionally name="token"), \xNN and \\ \"
// escapes, # comments.
std::vector<std::string> parse_dictionary(const std::string& text);

}  // namespace parley::wirefuzz
