// The codec's per-character scans of JSON text, in a translation unit of its own so that fuzz builds
// leave them out of coverage instrumentation (fuzz/coverage-ignorelist.txt): a comparison per byte tells
// libFuzzer nothing about the codec (what the codec does with the byte that ends a scan is instrumented
// where it is decided), and instrumented they cost half of every fuzz input.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace parley::securechat {

// The value; a discarded one (is_discarded()) when the text is not strict JSON. Never throws.
// The third-party lexer's branches are nlohmann's, not the codec's.
nlohmann::json parse_json(std::string_view text);

// The deepest nesting of objects and arrays, counted before parsing so a hostile message cannot make the
// parser (or the destructor of what it built) recurse without bound. Brackets inside strings do not count.
int nesting_depth(std::string_view text) noexcept;

// From `from`, the end of the run of bytes json.dumps(ensure_ascii=True) copies as they are: printable
// ASCII other than '"' and '\\'. text.size() when the run reaches the end.
std::size_t plain_run_end(std::string_view text, std::size_t from) noexcept;

}  // namespace parley::securechat
