#include "impl/proto/multiparty/login.hpp"

#include <gtest/gtest.h>

#include "impl/core/crypto/digest.hpp"

namespace parley::multiparty {
namespace {

struct keys {
  core::pkey server = *core::pkey::generate_rsa(2048);
  core::pkey alice = *core::pkey::generate_rsa(2048);
  core::pkey bob = *core::pkey::generate_rsa(2048);
};
const keys& k() {
  static keys all;
  return all;
}
core::pkey public_of(const core::pkey& key) { return *core::pkey::from_public_pem(key.public_pem()); }

TEST(MultipartyLogin, FullExchangeDerivesTheSameKeysOnBothSides) {
  login_secrets secrets;
  auto request = make_login_req(k().alice, "alice", public_of(k().server), 1'700'000'000'000, secrets);
  ASSERT_TRUE(request);
  EXPECT_GT(request->size(), min_frame + 256);  // ends with etk: 256 bytes for the RSA-2048 server key
  auto h = *decode_header(*request);
  EXPECT_EQ(h.type, static_cast<std::uint16_t>(msg_type::login_req));
  EXPECT_EQ(h.len, request->size());
  EXPECT_EQ(h.uid, uid_of(k().alice));

  auto opened = open_login_req(k().server, *request);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->name, "alice");
  EXPECT_EQ(opened->timestamp_ms, 1'700'000'000'000u);
  EXPECT_TRUE(verify_login(public_of(k().alice), *opened));
  EXPECT_FALSE(verify_login(public_of(k().bob), *opened));

  auto server_random = core::random_bytes(32);
  std::vector<directory_entry> dir{{"alice", uid_of(k().alice), public_of(k().alice)},
                                   {"bob", uid_of(k().bob), public_of(k().bob)}};
  auto response = make_login_res(opened->tk, *request, server_random, dir);
  ASSERT_TRUE(response);
  auto got = open_login_res(secrets.tk, *response);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->request_hash, core::sha256(*request));
  ASSERT_EQ(got->directory.size(), 2u);
  EXPECT_EQ(got->directory[1].name, "bob");
  EXPECT_EQ(got->directory[1].uid, uid_of(k().bob));

  auto client = *derive_keys(secrets.client_random, got->server_random, secrets.request);
  auto server = *derive_keys(opened->client_random, server_random, *request);
  EXPECT_TRUE(client.to_server == server.to_server);
  EXPECT_TRUE(client.to_client == server.to_client);
  EXPECT_FALSE(client.to_server == client.to_client);
  EXPECT_EQ(client.to_server.key().size(), 32u);
}

TEST(MultipartyLogin, OnlyTheServerKeyOpensTheRequestAndTamperingIsCaught) {
  login_secrets secrets;
  auto request = *make_login_req(k().alice, "alice", public_of(k().server), 1, secrets);
  EXPECT_FALSE(open_login_req(k().bob, request));  // etk is for the server's key only
  auto t = request;
  t[30] ^= 1;  // inside the encrypted payload
  EXPECT_FALSE(open_login_req(k().server, t));
  auto u = request;
  u[23] ^= 1;  // the claimed uid: part of the AAD
  EXPECT_FALSE(open_login_req(k().server, u));
}

TEST(MultipartyLogin, SignatureCoversNameRandomTimeAndKey) {
  login_secrets secrets;
  auto request = *make_login_req(k().alice, "alice", public_of(k().server), 5, secrets);
  auto opened = *open_login_req(k().server, request);
  auto forged = opened;
  forged.timestamp_ms = 6;
  EXPECT_FALSE(verify_login(public_of(k().alice), forged));
  forged = opened;
  forged.name = "bob";
  EXPECT_FALSE(verify_login(public_of(k().alice), forged));
  forged = opened;
  forged.tk[0] ^= 1;
  EXPECT_FALSE(verify_login(public_of(k().alice), forged));
}

TEST(MultipartyLogin, ResponseMustBeUnderTheRequestsKey) {
  login_secrets secrets;
  auto request = *make_login_req(k().alice, "alice", public_of(k().server), 5, secrets);
  auto response = *make_login_res(core::random_bytes(32), request, core::random_bytes(32), {});
  EXPECT_FALSE(open_login_res(secrets.tk, response));
}

}  // namespace
}  // namespace parley::multiparty
