#include <gtest/gtest.h>

#include "impl/core/crypto/x509.hpp"
#include "impl/core/crypto/aes.hpp"
#include "impl/core/crypto/chacha.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/crypto/pkey.hpp"
#include "impl/core/crypto/rsa_cipher.hpp"
#include "impl/core/crypto/sign.hpp"
#include "impl/core/encoding.hpp"

namespace parley::core {
namespace {

const pkey& rsa_key() {
  static const pkey key = *pkey::generate_rsa(2048);
  return key;
}

TEST(Hkdf, MatchesRfc5869TestCase1) {
  auto ikm = *from_hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  auto salt = *from_hex("000102030405060708090a0b0c");
  auto info = *from_hex("f0f1f2f3f4f5f6f7f8f9");
  auto okm = hkdf_sha256(ikm, salt, info, 42);
  ASSERT_TRUE(okm);
  EXPECT_EQ(to_hex(*okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// Case 2 takes three expand blocks; case 3 has neither salt nor info.
TEST(Hkdf, MatchesRfc5869TestCases2And3) {
  bytes ikm, salt, info;
  for (int i = 0; i < 80; ++i) {
    ikm.push_back(static_cast<std::uint8_t>(i));
    salt.push_back(static_cast<std::uint8_t>(0x60 + i));
    info.push_back(static_cast<std::uint8_t>(0xb0 + i));
  }
  auto okm = hkdf_sha256(ikm, salt, info, 82);
  ASSERT_TRUE(okm);
  EXPECT_EQ(to_hex(*okm),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c"
            "2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
  auto empty = hkdf_sha256(bytes(22, 0x0b), {}, {}, 42);
  ASSERT_TRUE(empty);
  EXPECT_EQ(to_hex(*empty),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  EXPECT_FALSE(hkdf_sha256(ikm, salt, info, 255 * 32 + 1));
}

// A key kept for many records gives what the one-shot functions give, record after record, and a forged
// record in between does not upset the next one.
TEST(ChaCha20Poly1305Key, MatchesTheOneShotFunctionsRecordAfterRecord) {
  auto key = random_bytes(chacha_key_size);
  chacha20_poly1305_key sealer(key), opener(key);
  for (std::uint8_t n = 0; n < 5; ++n) {
    bytes nonce(chacha_nonce_size, n);
    auto text = "record " + std::to_string(n);
    auto sealed = sealer.seal(nonce, as_bytes("aad"), as_bytes(text));
    ASSERT_TRUE(sealed);
    EXPECT_EQ(*sealed, *chacha20_poly1305_seal(key, nonce, as_bytes("aad"), as_bytes(text)));
    auto forged = *sealed;
    forged[0] ^= 1;
    EXPECT_EQ(opener.open(nonce, as_bytes("aad"), forged).error(), errc::authentication_failed);
    EXPECT_EQ(to_string(*opener.open(nonce, as_bytes("aad"), *sealed)), text);
  }
  chacha20_poly1305_key copy(opener);
  EXPECT_EQ(to_string(*copy.open(bytes(chacha_nonce_size, 0), as_bytes("aad"),
                                 *chacha20_poly1305_seal(key, bytes(chacha_nonce_size, 0), as_bytes("aad"), as_bytes("x")))),
            "x");
  EXPECT_EQ(chacha20_poly1305_key(bytes(16)).seal(bytes(chacha_nonce_size), {}, {}).error(), errc::invalid_key);
}

TEST(Sha256, MatchesKnownDigest) {
  EXPECT_EQ(to_hex(sha256(as_bytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AesGcm, RoundTripsAndDetectsTampering) {
  auto key = random_bytes(32);
  auto nonce = random_bytes(gcm_nonce_size);
  auto sealed = aes_gcm_seal(key, nonce, as_bytes("aad"), as_bytes("secret text"));
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), 11 + gcm_tag_size);
  EXPECT_EQ(to_string(*aes_gcm_open(key, nonce, as_bytes("aad"), *sealed)), "secret text");

  EXPECT_EQ(aes_gcm_open(key, nonce, as_bytes("AAD"), *sealed).error(), errc::authentication_failed);
  auto flipped = *sealed;
  flipped[0] ^= 1;
  EXPECT_EQ(aes_gcm_open(key, nonce, as_bytes("aad"), flipped).error(), errc::authentication_failed);
  EXPECT_EQ(aes_gcm_open(key, nonce, {}, bytes(5)).error(), errc::authentication_failed);
  EXPECT_EQ(aes_gcm_seal(bytes(7), nonce, {}, {}).error(), errc::invalid_key);
}

// multiparty's MTP truncates the tag to 12 bytes; a 12-byte tag is the first 12 bytes of the full one.
TEST(AesGcm, TwelveByteTags) {
  auto key = random_bytes(32);
  auto nonce = random_bytes(gcm_nonce_size);
  auto full = *aes_gcm_seal(key, nonce, as_bytes("h"), as_bytes("text"));
  auto short_tag = aes_gcm_seal(key, nonce, as_bytes("h"), as_bytes("text"), 12);
  ASSERT_TRUE(short_tag);
  EXPECT_EQ(short_tag->size(), 4u + 12u);
  EXPECT_TRUE(std::equal(short_tag->begin(), short_tag->end(), full.begin()));
  EXPECT_EQ(to_string(*aes_gcm_open(key, nonce, as_bytes("h"), *short_tag, 12)), "text");
  auto flipped = *short_tag;
  flipped.back() ^= 1;
  EXPECT_EQ(aes_gcm_open(key, nonce, as_bytes("h"), flipped, 12).error(), errc::authentication_failed);
  EXPECT_EQ(aes_gcm_seal(key, nonce, {}, {}, 8).error(), errc::invalid_key);
}

// The GCM paper's test case 14 (McGrew and Viega): a zero AES-256 key and nonce, one zero block.
TEST(AesGcm, MatchesGcmSpecTestCase14) {
  bytes key(32, 0), nonce(gcm_nonce_size, 0), block(16, 0);
  auto sealed = aes_gcm_seal(key, nonce, {}, block);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(to_hex(*sealed), "cea7403d4d606b6e074ec5d3baf39d18" "d0d1c8a799996bf0265b98b5d48ab919");
  aes_gcm_key kept(key);
  EXPECT_EQ(*kept.seal(nonce, {}, block), *sealed);
}

// A key kept for many frames gives what the one-shot functions give, frame after frame, at both tag sizes;
// a forged frame in between does not upset the next one; copies and moves keep the key.
TEST(AesGcmKey, MatchesTheOneShotFunctionsFrameAfterFrame) {
  for (std::size_t key_size : {16u, 32u}) {
    auto key = random_bytes(key_size);
    aes_gcm_key sealer(key), opener(key);
    EXPECT_TRUE(std::equal(sealer.key().begin(), sealer.key().end(), key.begin(), key.end()));
    for (std::uint8_t n = 0; n < 6; ++n) {
      bytes nonce(gcm_nonce_size, n);
      std::size_t tag = n % 2 ? 12 : 16;
      auto text = "frame " + std::to_string(n);
      auto sealed = sealer.seal(nonce, as_bytes("aad"), as_bytes(text), tag);
      ASSERT_TRUE(sealed);
      EXPECT_EQ(*sealed, *aes_gcm_seal(key, nonce, as_bytes("aad"), as_bytes(text), tag));
      auto forged = *sealed;
      forged.back() ^= 1;
      EXPECT_EQ(opener.open(nonce, as_bytes("aad"), forged, tag).error(), errc::authentication_failed);
      EXPECT_EQ(to_string(*opener.open(nonce, as_bytes("aad"), *sealed, tag)), text);
    }
    aes_gcm_key copy(opener);
    aes_gcm_key moved(std::move(opener));
    bytes nonce(gcm_nonce_size, 9);
    auto sealed = *aes_gcm_seal(key, nonce, {}, as_bytes("x"));
    EXPECT_EQ(to_string(*copy.open(nonce, {}, sealed)), "x");
    EXPECT_EQ(to_string(*moved.open(nonce, {}, sealed)), "x");
    EXPECT_TRUE(copy == moved);
    aes_gcm_key assigned;
    EXPECT_EQ(assigned.seal(nonce, {}, {}).error(), errc::invalid_key);
    assigned = copy;
    EXPECT_EQ(to_string(*assigned.open(nonce, {}, sealed)), "x");
  }
  EXPECT_EQ(aes_gcm_key(bytes(24)).seal(bytes(gcm_nonce_size), {}, {}).error(), errc::invalid_key);
  EXPECT_EQ(aes_gcm_key(bytes(32)).seal(bytes(8), {}, {}).error(), errc::invalid_key);
  EXPECT_EQ(aes_gcm_key(bytes(32)).open(bytes(gcm_nonce_size), {}, bytes(5)).error(), errc::authentication_failed);
}

// RFC 8439 section 2.8.2: the AEAD test vector (tag and the first block of ciphertext).
TEST(ChaCha20Poly1305, MatchesRfc8439Vector) {
  auto key = *from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  auto nonce = *from_hex("070000004041424344454647");
  auto aad = *from_hex("50515253c0c1c2c3c4c5c6c7");
  std::string text = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
                     "sunscreen would be it.";
  auto sealed = chacha20_poly1305_seal(key, nonce, aad, as_bytes(text));
  ASSERT_TRUE(sealed);
  ASSERT_EQ(sealed->size(), text.size() + chacha_tag_size);
  auto hex = to_hex(*sealed);
  EXPECT_EQ(hex.substr(0, 32), "d31a8d34648e60db7b86afbc53ef7ec2");
  EXPECT_EQ(hex.substr(hex.size() - 32), "1ae10b594f09e26a7e902ecbd0600691");
  EXPECT_EQ(to_string(*chacha20_poly1305_open(key, nonce, aad, *sealed)), text);

  auto flipped = *sealed;
  flipped.back() ^= 1;
  EXPECT_EQ(chacha20_poly1305_open(key, nonce, aad, flipped).error(), errc::authentication_failed);
  EXPECT_EQ(chacha20_poly1305_open(key, nonce, {}, *sealed).error(), errc::authentication_failed);
  EXPECT_EQ(chacha20_poly1305_open(key, nonce, aad, bytes(3)).error(), errc::authentication_failed);
  EXPECT_EQ(chacha20_poly1305_seal(bytes(16), nonce, {}, {}).error(), errc::invalid_key);
}

TEST(AesEcb, RoundTripsWithPkcs7Padding) {
  auto key = random_bytes(16);
  auto ct = aes_ecb_encrypt(key, as_bytes("sixteen byte msg"));
  ASSERT_TRUE(ct);
  EXPECT_EQ(ct->size(), 32u);  // a full block of padding
  EXPECT_EQ(to_string(*aes_ecb_decrypt(key, *ct)), "sixteen byte msg");
  EXPECT_FALSE(aes_ecb_decrypt(key, bytes(15)));
}

TEST(Rsa, OaepAndPkcs1RoundTripAndRejectWrongKey) {
  auto other = *pkey::generate_rsa(1024);
  for (auto padding : {rsa_padding::oaep_sha256, rsa_padding::pkcs1_v15}) {
    auto ct = rsa_encrypt(rsa_key(), padding, as_bytes("session key"));
    ASSERT_TRUE(ct);
    EXPECT_EQ(to_string(*rsa_decrypt(rsa_key(), padding, *ct)), "session key");
    EXPECT_FALSE(rsa_decrypt(other, padding, *ct));
  }
  auto too_long = bytes(300);
  EXPECT_EQ(rsa_encrypt(rsa_key(), rsa_padding::oaep_sha256, too_long).error(), errc::crypto_failure);
}

TEST(Sign, RsaAndEd25519VerifyAndRejectForgeries) {
  auto ed = *pkey::generate_ed25519();
  struct {
    const pkey* key;
    signature_scheme scheme;
  } cases[] = {{&rsa_key(), signature_scheme::rsa_pkcs1_sha256}, {&ed, signature_scheme::ed25519}};
  for (auto c : cases) {
    auto sig = sign(*c.key, c.scheme, as_bytes("{\"name\": \"alice\"}"));
    ASSERT_TRUE(sig);
    auto pub = *pkey::from_public_pem(c.key->public_pem());
    EXPECT_TRUE(verify(pub, c.scheme, as_bytes("{\"name\": \"alice\"}"), *sig));
    EXPECT_EQ(verify(pub, c.scheme, as_bytes("{\"name\": \"mallory\"}"), *sig).error(),
              errc::authentication_failed);
    EXPECT_EQ(sign(pub, c.scheme, as_bytes("x")).error(), errc::invalid_key);  // public half cannot sign
  }
  EXPECT_EQ(sign(ed, signature_scheme::rsa_pkcs1_sha256, as_bytes("x")).error(), errc::invalid_key);
}

TEST(Pkey, PublicDerAndPemRoundTrip) {
  auto der = rsa_key().public_der();
  auto back = pkey::from_public_der(der);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->has_private());
  EXPECT_EQ(back->public_der(), der);
  EXPECT_EQ(back->bits(), 2048);
  EXPECT_EQ(back->fingerprint(), rsa_key().fingerprint());
  auto trailing = der;
  trailing.push_back(0);
  EXPECT_EQ(pkey::from_public_der(trailing).error(), errc::invalid_key);
  // Not one DER SEQUENCE spanning the input: turned away before OpenSSL, as a truncated key is.
  EXPECT_EQ(pkey::from_public_der(bytes(der.begin(), der.end() - 1)).error(), errc::invalid_key);
  EXPECT_EQ(pkey::from_public_der(as_bytes("ABCD")).error(), errc::invalid_key);
  EXPECT_EQ(pkey::from_public_der(bytes{0x30, 0x80}).error(), errc::invalid_key);
  EXPECT_EQ(pkey::from_public_pem("not a key").error(), errc::invalid_key);
  EXPECT_TRUE(pkey::from_private_pem(rsa_key().private_pem())->has_private());
}

}  // namespace
}  // namespace parley::core

namespace parley::core {
namespace {

TEST(X509, PublicKeyPinIsTheHashOfTheSpki) {
  auto key = pkey::generate_ed25519();
  ASSERT_TRUE(key);
  auto cert = make_self_signed_certificate(*key, "localhost", 1);
  ASSERT_TRUE(cert);
  EXPECT_EQ(*public_key_pin(*cert), to_hex(sha256(key->public_der())));
  EXPECT_NE(*public_key_pin(*cert), *certificate_pin(*cert));
  EXPECT_FALSE(public_key_pin("not a certificate"));
}

}  // namespace
}  // namespace parley::core
