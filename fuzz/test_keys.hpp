// The test keys of fuzz/keys/, compiled into the fuzzers that need them (fuzz/CMakeLists.txt writes
// their definitions from the .pem files at configure time).
//
// Why not read fuzz/keys/ at run time: OSS-Fuzz and ClusterFuzzLite build in one container and fuzz,
// prune and measure coverage in others, from a copy of $OUT alone. A path into the source tree does not
// exist there, and a file beside the executable is one more thing every runner and every person who
// reproduces a crash must carry along. Compiled in, a fuzzer binary is all it takes.
#pragma once

#include <span>
#include <string_view>

namespace parley::fuzz {

struct test_key {
  std::string_view name;         // the file's name without ".pem": "alice", "server"
  std::string_view private_pem;  // the file's text, a PKCS#8 PEM private key
};

// fuzz/keys/<name>.pem for every user (not the .public.pem halves), sorted by name as key_store::names()
// lists them: alice, bob, carol, dave, erin.
std::span<const test_key> user_keys();

// fuzz/keys/multiparty/server.pem: the multiparty server's key pair.
std::string_view multiparty_server_key();

}  // namespace parley::fuzz
