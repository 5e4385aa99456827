#include "impl/server/multiparty/hub.hpp"

#include <gtest/gtest.h>

#include "impl/core/crypto/test_keys.hpp"

namespace parley::multiparty {
namespace {

using core::testing::key_of;
using core::testing::public_of;

// A client written against the codec only: what the hub must interoperate with.
struct client {
  std::string name;
  core::conn_id conn;
  session_keys keys;
  sequence out, in;
  user_id uid() const { return uid_of(key_of(name)); }
};

class MultipartyHub : public ::testing::Test {
protected:
  explicit MultipartyHub(fault f = fault::none)
      : hub_({.server_key = key_of("server"),
              .users = {{"alice", uid_of(key_of("alice")), public_of(key_of("alice"))},
                        {"bob", uid_of(key_of("bob")), public_of(key_of("bob"))},
                        {"carol", uid_of(key_of("carol")), public_of(key_of("carol"))}},
              .status_interval = millis(1000),
              .status_timeout = millis(300),
              .unix_ms = [] { return std::uint64_t{1'800'000'000'000}; },
              .planted = f}) {}

  client login(const std::string& name, core::conn_id conn, std::uint64_t at = 1'800'000'000'000) {
    core::actions a;
    hub_.on_connect(conn, "t", now_, a);
    login_secrets secrets;
    auto request = *make_login_req(key_of(name), name, public_of(key_of("server")), at, secrets);
    hub_.on_data(conn, as_chars(request), now_, a);
    take(a);
    client c{name, conn, {}, {}, {}};
    auto raw = inbox_[conn];
    inbox_[conn].clear();
    if (raw.size() != 1) return c;
    auto response = open_login_res(secrets.tk, as_bytes(raw[0]));
    EXPECT_TRUE(response);
    EXPECT_EQ(response->directory.size(), 3u);
    c.keys = *derive_keys(secrets.client_random, response->server_random, secrets.request);
    c.out.next_to_send();
    c.in.accept(1);
    return c;
  }

  void send(client& c, msg_type type, session_id sid, std::string_view payload, bool corrupt_tag = false,
            std::optional<std::uint16_t> sqn = std::nullopt) {
    header h{.type = static_cast<std::uint16_t>(type), .sqn = sqn ? *sqn : *c.out.next_to_send(), .sid = sid, .uid = c.uid()};
    auto frame = *seal_frame(c.keys.to_server, direction::to_server, h, as_bytes(payload));
    if (corrupt_tag) frame.back() ^= 1;
    core::actions a;
    hub_.on_data(c.conn, as_chars(frame), now_, a);
    take(a);
  }

  // Frames the hub sent to `c` since the last call, opened and sequence-checked.
  std::vector<opened_frame> received(client& c) {
    std::vector<opened_frame> frames;
    for (const auto& raw : inbox_[c.conn]) {
      auto f = open_frame(c.keys.to_client, direction::to_client, as_bytes(raw));
      EXPECT_TRUE(f) << "a frame that does not open";
      if (!f) continue;
      EXPECT_TRUE(c.in.accept(f->h.sqn)) << "server sqn out of order";
      frames.push_back(*f);
    }
    inbox_[c.conn].clear();
    return frames;
  }
  opened_frame only(client& c, msg_type type) {
    auto got = received(c);
    EXPECT_EQ(got.size(), 1u);
    if (got.empty()) return {};
    EXPECT_EQ(got[0].h.type, static_cast<std::uint16_t>(type));
    return got[0];
  }
  static std::string text(const opened_frame& f) { return std::string(as_chars(f.payload)); }
  bool closed(core::conn_id conn) const { return closed_.contains(conn); }

  void advance(millis by) {
    now_ += by;
    core::actions a;
    while (auto wake = hub_.next_wake()) {
      if (*wake > now_) break;
      hub_.on_timer(now_, a);
    }
    take(a);
  }

  // alice creates a session with bob and carol, both accept.
  session_id live_session(client& alice, client& bob, client& carol) {
    send(alice, msg_type::init_req, 0, uid_lines({bob.uid(), carol.uid()}));
    auto res = only(alice, msg_type::init_res);
    received(bob), received(carol);
    send(bob, msg_type::invite_res, res.h.sid, "Accept");
    send(carol, msg_type::invite_res, res.h.sid, "Accept");
    received(alice);
    return res.h.sid;
  }

  hub hub_;
  time_point now_{};

  void take(core::actions& a) {
    for (auto& action : a.take()) {
      if (auto* s = std::get_if<core::send_action>(&action)) {
        EXPECT_FALSE(closed_.contains(s->conn)) << "sent after close";
        inbox_[s->conn].push_back(s->bytes);
      } else if (auto* c = std::get_if<core::close_action>(&action)) {
        closed_.insert(c->conn);
      } else if (std::holds_alternative<core::crash_action>(action)) {
        crashed_ = true;
      }
    }
  }
  std::map<core::conn_id, std::vector<std::string>> inbox_;
  bool crashed_ = false;  // a planted fault asked for the process to exit

private:
  std::set<core::conn_id> closed_;
};

TEST_F(MultipartyHub, LoginGivesKeysThatWorkBothWays) {
  auto alice = login("alice", 1);
  send(alice, msg_type::status_req, 0, "");
  auto res = only(alice, msg_type::status_res);
  EXPECT_EQ(text(res), "Online");
  EXPECT_EQ(res.h.uid, 0u);
  EXPECT_FALSE(closed(1));
}

TEST_F(MultipartyHub, LoginFailuresCloseSilently) {
  login("alice", 1, 1'800'000'000'000 - 121'000);  // stale
  EXPECT_TRUE(closed(1));
  login("alice", 2);
  login("alice", 3);  // already online
  EXPECT_TRUE(closed(3));
  EXPECT_FALSE(closed(2));
  core::actions a;
  hub_.on_connect(4, "t", now_, a);
  bytes junk = encode_header({.type = 0x0500, .len = 36, .sqn = 1});
  junk.resize(36);
  hub_.on_data(4, as_chars(junk), now_, a);  // a login_req that is nothing but a header
  ASSERT_EQ(a.list().size(), 1u);
  EXPECT_TRUE(std::holds_alternative<core::close_action>(a.list()[0]));
}

TEST_F(MultipartyHub, AConnectionThatNeverLogsInIsClosed) {
  core::actions a;
  hub_.on_connect(7, "t", now_, a);
  hub_.on_data(7, "\x01\x00\x05\x00\x01\x00", now_, a);  // the start of a 256-byte frame, then nothing
  advance(millis(1299));  // the login timeout is the status interval plus the answer timeout
  EXPECT_FALSE(closed(7));
  advance(millis(1));
  EXPECT_TRUE(closed(7));
}

TEST_F(MultipartyHub, AReplayedLoginIsRefusedEvenAfterTheUserLeft) {
  core::actions a;
  hub_.on_connect(1, "t", now_, a);
  login_secrets secrets;
  auto request = *make_login_req(key_of("bob"), "bob", public_of(key_of("server")), 1'800'000'000'000, secrets);
  hub_.on_data(1, as_chars(request), now_, a);
  hub_.on_close(1, now_, a);  // bob leaves; an eavesdropper replays his login_req
  take(a);
  inbox_.clear();
  hub_.on_connect(2, "t", now_, a);
  hub_.on_data(2, as_chars(request), now_, a);
  take(a);
  EXPECT_TRUE(closed(2));
  EXPECT_TRUE(inbox_[2].empty());
  login("bob", 3);  // a fresh login of his own still works
  EXPECT_FALSE(closed(3));
}

TEST_F(MultipartyHub, FrameErrorsCloseTheConnection) {
  auto alice = login("alice", 1);
  send(alice, msg_type::status_req, 0, "", /*corrupt_tag=*/true);
  EXPECT_TRUE(closed(1));
  auto bob = login("bob", 2);
  send(bob, msg_type::status_req, 0, "", false, 2);
  send(bob, msg_type::status_req, 0, "", false, 2);  // replayed sqn
  EXPECT_TRUE(closed(2));
  auto carol = login("carol", 3);
  send(carol, msg_type::init_res, 0, "OK");  // a server-only type
  EXPECT_TRUE(closed(3));
}

TEST_F(MultipartyHub, SessionInvitesMembershipAndRouting) {
  auto alice = login("alice", 1);
  auto bob = login("bob", 2);
  auto carol = login("carol", 3);
  send(alice, msg_type::init_req, 0, uid_lines({bob.uid(), carol.uid()}));
  auto res = only(alice, msg_type::init_res);
  ASSERT_NE(res.h.sid, 0u);
  EXPECT_EQ(text(res), "OK\n" + id_to_hex(bob.uid()) + " invited\n" + id_to_hex(carol.uid()) + " invited\n");
  auto invite = only(bob, msg_type::invite_req);
  EXPECT_EQ(invite.h.uid, alice.uid());
  EXPECT_EQ(text(invite), uid_lines({alice.uid(), bob.uid(), carol.uid()}));
  received(carol);

  send(bob, msg_type::invite_res, res.h.sid, "Accept");
  send(carol, msg_type::invite_res, res.h.sid, "Deny");
  auto answers = received(alice);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(text(answers[1]), "Deny");
  EXPECT_EQ(answers[1].h.uid, carol.uid());
  EXPECT_EQ(hub_.members(res.h.sid), (std::vector<user_id>{std::min(alice.uid(), bob.uid()), std::max(alice.uid(), bob.uid())}));

  auto line = *seal_part(public_of(key_of("bob")), bob.uid(), res.h.sid, alice.uid(), "for bob");
  send(alice, msg_type::msg_req, res.h.sid, line);
  EXPECT_EQ(text(only(alice, msg_type::msg_res)), "OK 1");
  auto forwarded = only(bob, msg_type::msg_req);
  EXPECT_EQ(text(forwarded), line);  // unchanged, byte for byte
  auto parts = *parse_message_parts(text(forwarded));
  EXPECT_EQ(*open_part(key_of("bob"), res.h.sid, forwarded.h.uid, parts[0].part), "for bob");
  send(bob, msg_type::msg_res, res.h.sid, "OK");
  auto ack = only(alice, msg_type::msg_res);
  EXPECT_EQ(ack.h.uid, bob.uid());

  // carol declined: a part for her is refused and nothing is forwarded.
  auto to_carol = *seal_part(public_of(key_of("carol")), carol.uid(), res.h.sid, alice.uid(), "x");
  send(alice, msg_type::msg_req, res.h.sid, to_carol);
  EXPECT_EQ(text(only(alice, msg_type::msg_res)), "not a member: " + id_to_hex(carol.uid()));
  EXPECT_TRUE(received(carol).empty());
  send(carol, msg_type::msg_req, res.h.sid, line);
  EXPECT_EQ(text(only(carol, msg_type::msg_res)), "not a member");
  send(carol, msg_type::invite_res, res.h.sid, "Accept");  // too late: her Deny counted
  EXPECT_EQ(text(only(carol, msg_type::invite_res)), "already answered");
  send(alice, msg_type::invite_res, res.h.sid, "Accept");
  EXPECT_EQ(text(only(alice, msg_type::invite_res)), "not invited");
}

TEST_F(MultipartyHub, OfflineInviteesAreReported) {
  auto alice = login("alice", 1);
  auto bob = login("bob", 2);
  client carol{"carol", 0, {}, {}, {}};
  send(alice, msg_type::init_req, 0, uid_lines({bob.uid(), carol.uid()}));
  EXPECT_EQ(text(only(alice, msg_type::init_res)),
            "OK\n" + id_to_hex(bob.uid()) + " invited\n" + id_to_hex(carol.uid()) + " offline\n");
  send(alice, msg_type::init_req, 0, uid_lines({0x1234}));
  auto bad = only(alice, msg_type::init_res);
  EXPECT_EQ(bad.h.sid, 0u);
  EXPECT_EQ(text(bad), "unknown user 0000000000001234");
}

TEST_F(MultipartyHub, OnlyTheCreatorClosesAndClosedStaysClosed) {
  auto alice = login("alice", 1);
  auto bob = login("bob", 2);
  auto carol = login("carol", 3);
  session_id sid = live_session(alice, bob, carol);
  send(bob, msg_type::close_req, sid, "");
  EXPECT_EQ(text(only(bob, msg_type::close_res)), "not the creator");
  send(alice, msg_type::close_req, sid, "");
  EXPECT_EQ(text(only(alice, msg_type::close_res)), "OK");
  auto note = only(bob, msg_type::close_req);
  EXPECT_EQ(note.h.uid, alice.uid());
  received(carol);
  auto line = *seal_part(public_of(key_of("bob")), bob.uid(), sid, alice.uid(), "late");
  send(alice, msg_type::msg_req, sid, line);
  EXPECT_EQ(text(only(alice, msg_type::msg_res)), "session closed");
  send(alice, msg_type::init_req, 0, uid_lines({bob.uid()}));
  EXPECT_NE(only(alice, msg_type::init_res).h.sid, sid);  // never reused
}

TEST_F(MultipartyHub, SilentClientsAreAskedThenDropped) {
  auto alice = login("alice", 1);
  auto bob = login("bob", 2);
  advance(millis(1000));
  only(alice, msg_type::status_req);
  received(bob);
  send(alice, msg_type::status_res, 0, "Online");
  advance(millis(300));
  EXPECT_FALSE(closed(1));
  EXPECT_TRUE(closed(2));
  send(alice, msg_type::status_req, 0, id_to_hex(bob.uid()));
  EXPECT_EQ(text(only(alice, msg_type::status_res)), "Offline");
}

TEST_F(MultipartyHub, OnlyAStatusResAnswersTheStatusReq) {
  auto alice = login("alice", 1);
  advance(millis(1000));
  only(alice, msg_type::status_req);
  // Other frames are processed normally, but they are no answer (MP-STATUS-04).
  send(alice, msg_type::status_req, 0, "");
  EXPECT_EQ(text(only(alice, msg_type::status_res)), "Online");
  advance(millis(299));
  EXPECT_FALSE(closed(1));
  advance(millis(1));
  EXPECT_TRUE(closed(1));
}

TEST_F(MultipartyHub, AnAnsweredStatusReqRestartsTheSilenceTimer) {
  auto alice = login("alice", 1);
  advance(millis(1000));
  only(alice, msg_type::status_req);
  advance(millis(200));
  send(alice, msg_type::status_res, 0, "Online");
  advance(millis(999));
  EXPECT_TRUE(received(alice).empty());
  advance(millis(1));
  only(alice, msg_type::status_req);
  EXPECT_FALSE(closed(1));
}

class MultipartyHubMsgAfterClose : public MultipartyHub {
protected:
  MultipartyHubMsgAfterClose() : MultipartyHub(fault::msg_after_close) {}
};

TEST_F(MultipartyHubMsgAfterClose, RoutesInAClosedSession) {
  auto alice = login("alice", 1);
  auto bob = login("bob", 2);
  auto carol = login("carol", 3);
  auto sid = live_session(alice, bob, carol);
  send(alice, msg_type::close_req, sid, "");
  received(alice), received(bob), received(carol);
  send(alice, msg_type::msg_req, sid, *seal_part(public_of(key_of("bob")), bob.uid(), sid, alice.uid(), "late"));
  EXPECT_EQ(text(only(alice, msg_type::msg_res)), "OK 1");
  only(bob, msg_type::msg_req);
}

class MultipartyHubSkipTag : public MultipartyHub {
protected:
  MultipartyHubSkipTag() : MultipartyHub(fault::skip_tag_check) {}
};

TEST_F(MultipartyHubSkipTag, AcceptsABadTag) {
  auto alice = login("alice", 1);
  send(alice, msg_type::status_req, 0, "", /*corrupt_tag=*/true);
  EXPECT_FALSE(closed(1));
  EXPECT_EQ(text(only(alice, msg_type::status_res)), "Online");
}

class MultipartyHubCrashingAnswer : public MultipartyHub {
protected:
  MultipartyHubCrashingAnswer() : MultipartyHub(fault::crash_on_255_byte_answer) {}
};

TEST_F(MultipartyHubCrashingAnswer, OnlyA255ByteAnswerCrashesTheServer) {
  auto alice = login("alice", 1);
  auto bob = login("bob", 2);
  send(alice, msg_type::init_req, 0, uid_lines({bob.uid()}));
  auto sid = only(alice, msg_type::init_res).h.sid;
  received(bob);
  // One byte shorter or longer: a malformed answer, refused as always.
  for (std::size_t size : {254u, 256u}) {
    send(bob, msg_type::invite_res, sid, std::string(size, 'A'));
    EXPECT_EQ(text(only(bob, msg_type::invite_res)), "malformed request") << size;
    EXPECT_FALSE(crashed_) << size;
  }
  send(bob, msg_type::invite_res, sid, std::string(crash_answer_bytes, 'A'));
  EXPECT_TRUE(crashed_);
}

}  // namespace
}  // namespace parley::multiparty
