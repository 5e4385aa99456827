// The reference client's planted faults, without a hub: the test plays the server by hand (it opens the
// client's login_req with the server key and seals the frames the client receives), so each fault is seen
// doing exactly its one wrong thing while the same input, without the fault, is handled as spec §13 says.
#include "impl/client/multiparty/faults.hpp"

#include <gtest/gtest.h>

#include <set>

#include "impl/client/multiparty/agent.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/crypto/test_keys.hpp"

namespace parley::multiparty {
namespace {

constexpr std::uint64_t clock_ms = 1'800'000'000'000;

using core::testing::key_of;
using core::testing::public_of;

// One client, and the server's side of its connection done by hand.
class FaultyClient {
public:
  explicit FaultyClient(client_fault fault)
      : agent_({.name = "alice", .key = key_of("alice"), .server_public = public_of(key_of("server")),
                .unix_ms = [] { return clock_ms; }, .fault = fault}) {
    agent_output out;
    agent_.on_open(out);
    login_req_ = out.sends.at(0);
    request_ = *open_login_req(key_of("server"), as_bytes(login_req_));
  }

  const login_request& request() const { return request_; }
  agent& client() { return agent_; }

  // The server's login_res; `wrong_hash` answers another login_req.
  agent_output log_in(bool wrong_hash = false) {
    bytes server_random = core::random_bytes(32);
    std::vector<directory_entry> directory{entry("alice"), entry("bob")};
    std::string answered = login_req_ + (wrong_hash ? "x" : "");
    auto frame = make_login_res(request_.tk, as_bytes(answered), server_random, directory);
    keys_ = *derive_keys(request_.client_random, server_random, as_bytes(login_req_));
    return receive(as_chars(*frame));
  }

  // A server frame under k_s2c with the next sqn.
  agent_output send(msg_type type, std::string_view payload, session_id sid = 0, user_id uid = 0) {
    header h{.type = static_cast<std::uint16_t>(type), .sqn = ++sqn_, .sid = sid, .uid = uid};
    return receive(as_chars(*seal_frame(keys_.to_client, direction::to_client, h, as_bytes(payload))));
  }

  agent_output type(const std::string& line) {
    agent_output out;
    agent_.on_command(line, out);
    return out;
  }

  static directory_entry entry(const std::string& name) {
    return {name, uid_of(key_of(name)), public_of(key_of(name))};
  }

private:
  agent_output receive(std::string_view frame) {
    agent_output out;
    agent_.on_data(frame, out);
    return out;
  }

  agent agent_;
  std::string login_req_;
  login_request request_;
  session_keys keys_;
  std::uint16_t sqn_ = 1;  // the login_res was 1
};

TEST(MultipartyClientFaults, EveryFaultHasANameAndTheRulesItBreaks) {
  std::set<std::string_view> names;
  for (const auto& f : all_client_faults()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_TRUE(f.rules.starts_with("MP-CLIENT-")) << f.name;
    EXPECT_EQ(client_fault_from_name(f.name), f.value);
  }
  EXPECT_FALSE(client_fault_from_name("no-such-fault"));
}

TEST(MultipartyClientFaults, StaleTimestampIsFiveMinutesOld) {
  EXPECT_EQ(FaultyClient(client_fault::none).request().timestamp_ms, clock_ms);
  EXPECT_EQ(FaultyClient(client_fault::stale_timestamp).request().timestamp_ms, clock_ms - 300'000);
}

TEST(MultipartyClientFaults, SendBeforeLoginSendsWhatIsTypedDuringTheLogin) {
  EXPECT_TRUE(FaultyClient(client_fault::none).type("/status").sends.empty());  // MP-CLIENT-01
  EXPECT_EQ(FaultyClient(client_fault::send_before_login).type("/status").sends.size(), 1u);
}

TEST(MultipartyClientFaults, SkipRequestHashLogsInOnAnAnswerToAnotherRequest) {
  FaultyClient honest(client_fault::none);
  EXPECT_TRUE(honest.log_in(true).close);  // MP-CLIENT-03
  FaultyClient faulty(client_fault::skip_request_hash);
  EXPECT_FALSE(faulty.log_in(true).close);
  EXPECT_TRUE(faulty.client().logged_in());
}

TEST(MultipartyClientFaults, NoStatusAnswerLeavesTheKeepaliveUnanswered) {
  FaultyClient honest(client_fault::none);
  honest.log_in();
  EXPECT_EQ(honest.send(msg_type::status_req, "").sends.size(), 1u);  // MP-CLIENT-06
  FaultyClient faulty(client_fault::no_status_answer);
  faulty.log_in();
  EXPECT_TRUE(faulty.send(msg_type::status_req, "").sends.empty());
}

TEST(MultipartyClientFaults, SkipBadFramesStaysOnAfterAnInitReq) {
  FaultyClient honest(client_fault::none);
  honest.log_in();
  EXPECT_TRUE(honest.send(msg_type::init_req, "").close);  // MP-CLIENT-05
  FaultyClient faulty(client_fault::skip_bad_frames);
  faulty.log_in();
  EXPECT_FALSE(faulty.send(msg_type::init_req, "").close);
}

TEST(MultipartyClientFaults, SendLongTextSendsWhatMustBeRefused) {
  auto invite = [](FaultyClient& c) {
    c.log_in();
    std::string bob = id_to_hex(FaultyClient::entry("bob").uid), alice = id_to_hex(FaultyClient::entry("alice").uid);
    c.send(msg_type::invite_req, bob + "\n" + alice + "\n", 0xa1, FaultyClient::entry("bob").uid);
    c.type("/accept 00000000000000a1");
  };
  std::string line = "/msg 00000000000000a1 " + std::string(2049, 'x');
  FaultyClient honest(client_fault::none);
  invite(honest);
  EXPECT_TRUE(honest.type(line).sends.empty());  // MP-CLIENT-09
  FaultyClient faulty(client_fault::send_long_text);
  invite(faulty);
  EXPECT_EQ(faulty.type(line).sends.size(), 1u);
}

TEST(MultipartyClientFaults, CrashOnGarbageDiesOfAPayloadItCannotParse) {
  user_id bob = FaultyClient::entry("bob").uid;
  // MP-CLIENT-13: a msg_req whose lines are not parts is answered 'cannot decrypt' (MP-CLIENT-08), and the
  // session goes on.
  FaultyClient honest(client_fault::none);
  honest.log_in();
  EXPECT_EQ(honest.send(msg_type::msg_req, "GET / HTTP/1.1\r\n", 0xa1, bob).sends.size(), 1u);
  EXPECT_FALSE(honest.send(msg_type::init_res, "OK\nzz\n", 0xa2).close);
  EXPECT_EQ(honest.send(msg_type::status_req, "").sends.size(), 1u);
  // The fault lives through well-formed payloads and dies of the first it cannot parse.
  FaultyClient faulty(client_fault::crash_on_garbage);
  faulty.log_in();
  EXPECT_EQ(faulty.send(msg_type::msg_req, id_to_hex(bob) + " AAAA\n", 0xa1, bob).sends.size(), 1u);
  EXPECT_FALSE(faulty.send(msg_type::init_res, "OK\nzz\n", 0xa2).close);
  EXPECT_DEATH(faulty.send(msg_type::msg_req, "GET / HTTP/1.1\r\n", 0xa1, bob), "");
}

}  // namespace
}  // namespace parley::multiparty
