#include "impl/proto/securechat/codec.hpp"

#include <array>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "impl/core/overloaded.hpp"
#include "impl/proto/securechat/json_text.hpp"

namespace parley::securechat {
namespace {

using json = nlohmann::json;

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

// Reads the fields of one message; the first problem found is kept and every later read is skipped.
class field_reader {
public:
  explicit field_reader(const json& object) : object_(object) {}

  std::string text(const char* key, std::size_t max) {
    if (!problem_.empty()) return {};
    auto it = object_.find(key);
    if (it == object_.end()) return fail(key, " is missing");
    if (!it->is_string()) return fail(key, " must be a string");
    const auto& value = it->get_ref<const std::string&>();
    if (value.size() > max) return fail(key, " is longer than " + std::to_string(max) + " bytes");
    return value;
  }

  // Present and a string: the value; absent or not a string: nothing (used for fields that are ignored).
  std::optional<std::string> optional_text(const char* key) const {
    auto it = object_.find(key);
    if (it == object_.end() || !it->is_string()) return std::nullopt;
    return it->get_ref<const std::string&>();
  }

  std::string hex(const char* key, std::size_t max) {
    std::string value = text(key, max);
    if (problem_.empty() && (value.empty() || value.size() % 2 != 0 || !is_hex(value)))
      return fail(key, " must be a non-empty, even-length hex string");
    return value;
  }

  std::optional<std::string> nullable_text(const char* key, std::size_t max) {
    if (!problem_.empty()) return std::nullopt;
    auto it = object_.find(key);
    if (it == object_.end()) {
      fail(key, " is missing");
      return std::nullopt;
    }
    if (it->is_null()) return std::nullopt;
    return text(key, max);
  }

  std::vector<user_info> users(const char* key) {
    std::vector<user_info> out;
    if (!problem_.empty()) return out;
    auto it = object_.find(key);
    if (it == object_.end() || !it->is_array()) {
      fail(key, " must be a list");
      return out;
    }
    for (const auto& entry : *it) {
      if (!entry.is_object()) {
        fail(key, " must hold UserInfo objects");
        return {};
      }
      field_reader inner(entry);
      user_info info{inner.text("name", max_name_field), inner.text("public_key", max_public_key)};
      if (!inner.problem_.empty()) {
        fail(key, ": " + inner.problem_);
        return {};
      }
      out.push_back(std::move(info));
    }
    return out;
  }

  const std::string& problem() const { return problem_; }
  const std::string& field() const { return field_; }

private:
  // The first problem wins; `what` follows the field's name in the text ("text must be a string").
  std::string fail(const char* key, const std::string& what) {
    if (problem_.empty()) {
      field_ = key;
      problem_ = key + what;
    }
    return {};
  }

  const json& object_;
  std::string problem_, field_;
};

using builder = message (*)(field_reader&);

struct command_entry {
  std::string_view name;
  builder build;
};

constexpr std::array<command_entry, 10> commands{{
    {"JoinMessage", [](field_reader& f) -> message {
       return msg::join{f.text("name", max_name_field), f.text("signature", max_hex)};
     }},
    {"LeaveMessage", [](field_reader&) -> message { return msg::leave{}; }},
    {"PublicMessage", [](field_reader& f) -> message {
       return msg::public_text{f.text("text", max_text), f.optional_text("from_name")};
     }},
    {"PrivateMessage", [](field_reader& f) -> message {
       return msg::private_text{f.text("to_name", max_name_field), f.hex("encrypted_text", max_hex),
                                f.optional_text("from_name")};
     }},
    {"RoutedPrivateMessage", [](field_reader& f) -> message {
       return msg::routed_private{f.text("to_name", max_name_field), f.hex("encrypted_text", max_hex),
                                  f.text("from_name", max_name_field)};
     }},
    {"RoutedPublicMessage", [](field_reader& f) -> message {
       return msg::routed_public{f.text("text", max_text), f.text("from_name", max_name_field)};
     }},
    {"WelcomeMessage", [](field_reader& f) -> message { return msg::welcome{f.users("users")}; }},
    {"AddUserMessage", [](field_reader& f) -> message {
       return msg::add_user{f.text("name", max_name_field), f.text("public_key", max_public_key)};
     }},
    {"RemoveUserMessage", [](field_reader& f) -> message { return msg::remove_user{f.text("name", max_name_field)}; }},
    {"ErrorMessage", [](field_reader& f) -> message {
       // ref_message_id repeats whatever id the answered message had, even one beyond the id limit (SC-ERR-01).
       return msg::error{f.text("text", max_text), f.nullable_text("ref_message_id", max_message_bytes)};
     }},
}};

// Appends one code point as json.dumps(ensure_ascii=True) does: \uXXXX, with a surrogate pair above U+FFFF.
void append_escaped(std::string& out, std::uint32_t cp) {
  static constexpr char digits[] = "0123456789abcdef";
  auto unit = [&](std::uint32_t u) {  // six characters in one append: fuzzed text escapes most of its bytes
    const char six[] = {'\\', 'u', digits[(u >> 12) & 0xf], digits[(u >> 8) & 0xf], digits[(u >> 4) & 0xf], digits[u & 0xf]};
    out.append(six, sizeof six);
  };
  if (cp > 0xffff) {
    cp -= 0x10000;
    unit(0xd800 + (cp >> 10));
    unit(0xdc00 + (cp & 0x3ff));
  } else {
    unit(cp);
  }
}

// Decodes one UTF-8 sequence at text[i]; advances i. Malformed input yields U+FFFD and one byte.
std::uint32_t next_code_point(std::string_view text, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  int length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 0;
  if (length == 0 || i + length > text.size()) {
    ++i;
    return 0xfffd;
  }
  std::uint32_t cp = length == 1 ? lead : lead & (0x7f >> length);
  for (int k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) {
      ++i;
      return 0xfffd;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < smallest[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    ++i;
    return 0xfffd;
  }
  i += length;
  return cp;
}

// Writes `"key": value` pairs in order, as json.dumps separates them.
class object_writer {
public:
  explicit object_writer(std::string& out) : out_(out) { out_ += '{'; }
  object_writer& text(std::string_view key, std::string_view value) { return raw(key, python_json_string(value)); }
  object_writer& raw(std::string_view key, std::string_view json_value) {
    if (!first_) out_ += ", ";
    first_ = false;
    out_ += python_json_string(key);
    out_ += ": ";
    out_ += json_value;
    return *this;
  }
  void end() { out_ += '}'; }

private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace

std::string python_json_string(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < utf8.size();) {
    // Plain bytes are copied as they are, a run at a time: most text is nothing else.
    std::size_t run = plain_run_end(utf8, i);
    out.append(utf8, i, run - i);
    if (run == utf8.size()) break;
    i = run;
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c >= 0x80) {
      append_escaped(out, next_code_point(utf8, i));
      continue;
    }
    ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: append_escaped(out, c);  // the other controls
    }
  }
  out += '"';
  return out;
}

std::string_view command_name(const message& m) { return commands[m.index()].name; }

decoded decode(std::string_view text) {
  if (nesting_depth(text) > max_depth)
    return decode_failure{decode_error::invalid_json, std::nullopt, {}, {},
                          "nested deeper than " + std::to_string(max_depth) + " levels"};
  json j = parse_json(text);
  if (j.is_discarded()) return decode_failure{decode_error::invalid_json, std::nullopt, {}, {}, "not valid JSON"};
  if (!j.is_object()) return decode_failure{decode_error::not_an_object, std::nullopt, {}, {}, "not a JSON object"};

  decode_failure failure{decode_error::bad_envelope, std::nullopt, {}, {}, {}};
  if (auto it = j.find("id"); it != j.end() && it->is_string()) failure.id = it->get<std::string>();
  auto command = j.find("_command");
  if (command == j.end() || !command->is_string()) {
    failure.field = "_command";
    failure.detail = "_command must be a string";
    return failure;
  }
  failure.command = command->get<std::string>();
  if (!failure.id || failure.id->empty() || failure.id->size() > max_id) {
    failure.field = "id";
    failure.detail = "id must be a string of 1 to " + std::to_string(max_id) + " characters";
    return failure;
  }
  for (const auto& entry : commands) {
    if (entry.name != failure.command) continue;
    field_reader fields(j);
    message body = entry.build(fields);
    if (fields.problem().empty()) return envelope{*failure.id, std::move(body)};
    failure.kind = decode_error::bad_field;
    failure.field = fields.field();
    failure.detail = fields.problem();
    return failure;
  }
  failure.kind = decode_error::unknown_command;
  // Only the start of an unknown name is quoted: the detail goes into an ErrorMessage's bounded text.
  failure.detail = "unknown _command " + python_json_string(failure.command.substr(0, 64));
  return failure;
}

std::string encode(const envelope& e) {
  std::string out;
  object_writer w(out);
  w.text("_command", command_name(e.body)).text("id", e.id);
  std::visit(core::overloaded{
                 [&](const msg::join& m) { w.text("name", m.name).text("signature", m.signature); },
                 [&](const msg::leave&) {},
                 [&](const msg::public_text& m) { w.text("text", m.text); },
                 [&](const msg::private_text& m) { w.text("to_name", m.to_name).text("encrypted_text", m.encrypted_text); },
                 [&](const msg::routed_private& m) {
                   w.text("to_name", m.to_name).text("encrypted_text", m.encrypted_text).text("from_name", m.from_name);
                 },
                 [&](const msg::routed_public& m) { w.text("text", m.text).text("from_name", m.from_name); },
                 [&](const msg::welcome& m) {
                   std::string list = "[";
                   for (const auto& user : m.users) {
                     if (list.size() > 1) list += ", ";
                     object_writer(list).text("name", user.name).text("public_key", user.public_key).end();
                   }
                   w.raw("users", list + "]");
                 },
                 [&](const msg::add_user& m) { w.text("name", m.name).text("public_key", m.public_key); },
                 [&](const msg::remove_user& m) { w.text("name", m.name); },
                 [&](const msg::error& m) {
                   w.text("text", m.text).raw("ref_message_id", m.ref_message_id ? python_json_string(*m.ref_message_id)
                                                                                  : std::string("null"));
                 },
             },
             e.body);
  w.end();
  return out;
}

}  // namespace parley::securechat
