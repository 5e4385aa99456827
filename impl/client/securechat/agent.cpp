#include "impl/client/securechat/agent.hpp"

#include <cstdlib>

#include "impl/core/crypto/sign.hpp"
#include "impl/core/encoding.hpp"
#include "impl/proto/securechat/codec.hpp"
#include "impl/proto/securechat/crypto.hpp"

namespace parley::securechat {
namespace {

// One text for every decryption failure: a reply that varied with the reason would make a better
// padding oracle than the one the seed already forces on us (spec §11).
constexpr const char* decryption_failed = "Decryption failed";

event make(std::string type, std::vector<std::pair<std::string, std::string>> fields = {}) {
  return {std::move(type), std::move(fields), {}};
}

constexpr const char* help_text =
    "commands: TEXT (public) | /pm NAME TEXT (end-to-end encrypted) | /users | /keys | /raw JSON | /quit";

}  // namespace

agent::agent(agent_options options) : options_(std::move(options)) {
  if (!options_.make_id) options_.make_id = new_message_id;
}

std::optional<std::string> agent::join_signature() const {
  if (faulty(client_fault::sign_compact_json)) {
    // The fault signs JSON as JSON.stringify writes it, without the space json.dumps puts after the colon.
    std::string compact = "{\"name\":" + python_json_string(options_.name) + "}";
    auto signature = core::sign(options_.key, core::signature_scheme::rsa_pkcs1_sha256, as_bytes(compact));
    if (!signature) return std::nullopt;
    return core::to_hex(*signature);
  }
  auto signature = sign_join(options_.key, options_.name);  // SC-CLIENT-02
  if (!signature) return std::nullopt;
  return *signature;
}

void agent::on_open(agent_output& out) {
  auto signature = join_signature();
  if (!signature) {
    out.events.push_back(make("error", {{"code", "key"}, {"text", "cannot sign the join with this key"}}));
    out.close = finished_ = true;
    return;
  }
  send(encode({id(), msg::join{options_.name, *signature}}), out);
}

void agent::on_message(std::string_view text, agent_output& out) {
  auto d = decode(text);
  if (auto* failure = std::get_if<decode_failure>(&d)) {
    // SC-CLIENT-11: what a server sends never crashes the client; the fault dies of it. No other client
    // case sends a message that does not decode, so the fault breaks that rule alone.
    if (faulty(client_fault::crash_on_garbage)) std::abort();
    // Nothing to answer: replying to a server's garbage with errors helps nobody.
    out.events.push_back(make("unknown", {{"message", std::string(text)}, {"problem", failure->detail}}));
    return;
  }
  auto& e = std::get<envelope>(d);
  if (auto* welcome = std::get_if<msg::welcome>(&e.body)) {
    if (welcomed_) return;
    welcomed_ = true;
    event ev = make("users", {{"reason", "welcome"}, {"name", options_.name}});
    for (const auto& user : welcome->users) {
      learn(user.name, user.public_key, false, out);
      ev.list.push_back(user.name);
    }
    out.events.push_back(std::move(ev));
    while (!queued_commands_.empty() && !finished_) {
      std::string line = std::move(queued_commands_.front());
      queued_commands_.pop_front();
      run_command(line, out);
    }
    return;
  }
  if (auto* error = std::get_if<msg::error>(&e.body)) {
    out.events.push_back(make("error", {{"code", "server"}, {"text", error->text},
                                        {"ref", error->ref_message_id.value_or("")}}));
    return;
  }
  if (!welcomed_) {
    // SC-CLIENT-01: nothing but Welcome or ErrorMessage is accepted before the Welcome.
    out.events.push_back(make("unknown", {{"message", std::string(text)}, {"problem", "before the Welcome"}}));
    return;
  }
  if (auto* add = std::get_if<msg::add_user>(&e.body)) return learn(add->name, add->public_key, true, out);
  if (auto* remove = std::get_if<msg::remove_user>(&e.body)) {
    // SC-CLIENT-04: a user we never heard of is ignored; SC-CLIENT-05: a known one is forgotten.
    auto known = users_.find(remove->name);
    if (known == users_.end()) {
      if (faulty(client_fault::drop_on_unknown_remove)) {
        out.events.push_back(make("disconnected", {{"reason", "a stranger was removed"}}));
        out.close = finished_ = true;
      }
      return;
    }
    out.events.push_back(make("left", {{"name", remove->name}}));
    if (!faulty(client_fault::keep_removed_user)) users_.erase(known);
    return;
  }
  if (auto* pub = std::get_if<msg::routed_public>(&e.body)) {
    bool known = users_.contains(pub->from_name);
    out.events.push_back(make("public", {{"from", pub->from_name}, {"text", pub->text}, {"known", known ? "true" : "false"}}));
    if (!known && !faulty(client_fault::accept_unknown_sender))
      send(encode({id(), msg::error{"Unknown sender", e.id}}), out);  // SC-CLIENT-08
    return;
  }
  if (auto* priv = std::get_if<msg::routed_private>(&e.body)) {
    auto plain = decrypt_private_text(options_.key, priv->encrypted_text);
    if (!plain) {
      out.events.push_back(make("error", {{"code", "decrypt"}, {"text", "a private message from " + priv->from_name + " could not be decrypted"}}));
      std::optional<std::string> ref = e.id;
      if (faulty(client_fault::decrypt_error_without_ref)) ref.reset();
      send(encode({id(), msg::error{decryption_failed, ref}}), out);  // SC-CLIENT-07
      return;
    }
    // SC-CLIENT-06: the text, with who sent it.
    const std::string& shown = faulty(client_fault::show_ciphertext) ? priv->encrypted_text : *plain;
    out.events.push_back(make("private", {{"from", priv->from_name}, {"text", shown}}));
    return;
  }
  out.events.push_back(make("unknown", {{"message", std::string(text)}, {"problem", "not a message for clients"}}));
}

void agent::on_command(std::string_view line, agent_output& out) {
  if (finished_) return;
  if (!welcomed_ && !faulty(client_fault::send_before_welcome)) {
    queued_commands_.emplace_back(line);
    return;
  }
  run_command(line, out);
}

void agent::on_closed(agent_output& out) {
  if (!finished_) out.events.push_back(make("disconnected", {{"reason", welcomed_ ? "the server closed the connection" : "refused"}}));
  finished_ = true;
}

void agent::run_command(std::string_view line, agent_output& out) {
  if (line.empty()) return;
  if (line == "/quit") {
    send(encode({id(), msg::leave{}}), out);  // SC-CLIENT-10: the last message this client sends
    out.events.push_back(make("goodbye"));
    if (faulty(client_fault::talk_after_leave)) return;  // the fault: no close, and the session goes on
    out.close = finished_ = true;
    return;
  }
  if (line == "/users") {
    event e = make("users", {{"reason", "asked"}});
    for (const auto& [name, user] : users_) e.list.push_back(name);
    out.events.push_back(std::move(e));
    return;
  }
  if (line == "/keys") {
    for (const auto& [name, user] : users_) out.events.push_back(make("key", {{"name", name}, {"fingerprint", user.key.fingerprint()}}));
    return;
  }
  if (line == "/help") {
    out.events.push_back(make("help", {{"text", help_text}}));
    return;
  }
  if (line.starts_with("/raw ")) {
    send(std::string(line.substr(5)), out);
    return;
  }
  if (line.starts_with("/pm ")) {
    std::string_view rest = line.substr(4);
    auto space = rest.find(' ');
    if (space == std::string_view::npos || space == 0) {
      out.events.push_back(make("error", {{"code", "usage"}, {"text", "/pm NAME TEXT"}}));
      return;
    }
    send_private(std::string(rest.substr(0, space)), rest.substr(space + 1), out);
    return;
  }
  if (line.starts_with("/")) {
    out.events.push_back(make("error", {{"code", "usage"}, {"text", "unknown command; " + std::string(help_text)}}));
    return;
  }
  send(encode({id(), msg::public_text{std::string(line), std::nullopt}}), out);
}

void agent::send_private(const std::string& to, std::string_view text, agent_output& out) {
  auto it = users_.find(to);
  if (it == users_.end()) {  // SC-CLIENT-05: nothing is sent to a user we do not know (or who left)
    out.events.push_back(make("error", {{"code", "unknown_user"}, {"text", to + " is not online"}}));
    return;
  }
  std::size_t most = max_private_text(it->second.key);
  if (text.size() > most && faulty(client_fault::truncate_long_private)) text = text.substr(0, most);
  auto sealed = encrypt_private_text(it->second.key, text);
  if (!sealed) {  // SC-CLIENT-09: one RSA block at most, never split
    out.events.push_back(make("error", {{"code", "too_long"}, {"text", "a private message to " + to + " holds at most " +
                                                                           std::to_string(max_private_text(it->second.key)) + " bytes"}}));
    return;
  }
  send(encode({id(), msg::private_text{to, *sealed, std::nullopt}}), out);
  out.events.push_back(make("private_sent", {{"to", to}, {"text", std::string(text)}}));
}

void agent::learn(const std::string& name, const std::string& pem, bool announce, agent_output& out) {
  auto key = core::pkey::from_public_pem(pem);
  if (!key || !acceptable_key(*key)) {
    out.events.push_back(make("error", {{"code", "bad_key"}, {"text", "the key announced for " + name + " is not an RSA key of 2048 bits or more"}}));
    users_.erase(name);
    return;
  }
  auto it = users_.find(name);
  bool changed = it != users_.end() && it->second.key.fingerprint() != key->fingerprint();
  // SC-CLIENT-03: an AddUser for a known user replaces its key (the fault only says that it did).
  if (!changed || !faulty(client_fault::keep_old_key)) users_[name] = {*key, pem};
  if (!announce) return;
  if (changed) out.events.push_back(make("key_changed", {{"name", name}, {"fingerprint", key->fingerprint()}}));
  else out.events.push_back(make("joined", {{"name", name}, {"fingerprint", key->fingerprint()}}));
}

}  // namespace parley::securechat
