// JSON text to a nlohmann::json value, in a translation unit of its own so that fuzz builds can leave the
// third-party lexer out of coverage instrumentation (fuzz/coverage-ignorelist.txt): its per-character
// branches are nlohmann's, not the codec's, and instrumented they cost half of every fuzz input.
#pragma once

#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace parley::securechat {

// The value; a discarded one (is_discarded()) when the text is not strict JSON. Never throws.
nlohmann::json parse_json(std::string_view text);

}  // namespace parley::securechat
