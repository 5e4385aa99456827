// securechat's ten messages (spec/securechat/spec.md §4). Plain data: the codec checks every field's type
// and limits, the hub checks what depends on state (names in the key store, who is online).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace parley::securechat {

inline constexpr unsigned short default_port = 8765;          // SC-CONN-02
// SC-CONN-04: the original's effective limit, its WebSocket library's default (1 MiB).
inline constexpr std::size_t max_message_bytes = 1024 * 1024;
inline constexpr int max_depth = 16;                          // SC-MSG-05
inline constexpr std::size_t max_id = 64;                     // SC-MSG-01
// Public text, bytes of UTF-8. Even when every byte of it becomes a six-byte escape, a RoutedPublicMessage
// of this much text stays under 1 MiB, so a receiver with the original's limit can always read it.
inline constexpr std::size_t max_text = 128 * 1024;
inline constexpr std::size_t max_hex = 2048;                  // encrypted_text and signature: RSA-8192 at most
inline constexpr std::size_t max_name_field = 256;            // any name field; the name rule itself is the hub's
inline constexpr std::size_t max_public_key = 16 * 1024;

struct user_info {
  std::string name;
  std::string public_key;  // SPKI PEM text
  bool operator==(const user_info&) const = default;
};

namespace msg {
struct join {  // JoinMessage
  std::string name;
  std::string signature;  // hex; the hub checks the hex form, so bad hex is "Invalid signature"
};
struct leave {};  // LeaveMessage
struct public_text {  // PublicMessage
  std::string text;
  std::optional<std::string> claimed_from;  // a from_name the client put in; ignored (SC-PUB-02)
};
struct private_text {  // PrivateMessage
  std::string to_name;
  std::string encrypted_text;
  std::optional<std::string> claimed_from;  // ignored (SC-PRIV-02)
};
struct routed_private {  // RoutedPrivateMessage
  std::string to_name, encrypted_text, from_name;
};
struct routed_public {  // RoutedPublicMessage
  std::string text, from_name;
};
struct welcome {  // WelcomeMessage
  std::vector<user_info> users;
};
struct add_user {  // AddUserMessage
  std::string name, public_key;
};
struct remove_user {  // RemoveUserMessage
  std::string name;
};
struct error {  // ErrorMessage
  std::string text;
  std::optional<std::string> ref_message_id;  // null when the offending message had no readable id
};
}  // namespace msg

using message = std::variant<msg::join, msg::leave, msg::public_text, msg::private_text, msg::routed_private,
                             msg::routed_public, msg::welcome, msg::add_user, msg::remove_user, msg::error>;

// A message with its id, as on the wire.
struct envelope {
  std::string id;
  message body;
};

}  // namespace parley::securechat
