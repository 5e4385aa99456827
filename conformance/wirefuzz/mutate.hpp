// Mutations of a case's exchange, at every layer the case's steps describe: the bytes of a write, its
// framing (terminators, splits, merged writes, sizes), its grammar (tokens, names and numbers at their
// bounds, another user's name), and the session's state (steps dropped, repeated, swapped, moved to
// another connection, a login skipped, a connection closed midway).
//
// Protocol steps (securechat.join, multiparty.send, ...) are mutated in their arguments, and the adapter
// builds their bytes when the session runs: a mutated join is signed again, a mutated frame sealed again,
// so the mutation reaches the parser behind the signature or the tag. ${var} names are never cut.
#pragma once

#include <string>
#include <vector>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/case.hpp"
#include "conformance/wirefuzz/model.hpp"
#include "conformance/wirefuzz/random.hpp"

namespace parley::wirefuzz {

class mutator {
public:
  mutator(const conform::adapter& a, fuzz_model m) : adapter_(a), model_(std::move(m)) {}

  // Applies one to four mutations to the steps of `c`. Returns what each did, for the report.
  std::vector<std::string> mutate(conform::test_case& c, fuzz_random& r) const;

private:
  // Each returns "" when it does not apply to `c` (the caller tries another), else what it did.
  std::string mutate_token(conform::test_case& c, fuzz_random& r) const;
  std::string mutate_bytes(conform::test_case& c, fuzz_random& r) const;
  std::string grow(conform::test_case& c, fuzz_random& r) const;
  std::string change_terminator(conform::test_case& c, fuzz_random& r) const;
  std::string split(conform::test_case& c, fuzz_random& r) const;
  std::string merge(conform::test_case& c, fuzz_random& r) const;
  std::string mutate_number(conform::test_case& c, fuzz_random& r) const;
  std::string change_state(conform::test_case& c, fuzz_random& r) const;
  std::string claim_sender(conform::test_case& c, fuzz_random& r) const;
  std::string reframe(conform::test_case& c, fuzz_random& r) const;
  std::string spoil_crypto(conform::test_case& c, fuzz_random& r) const;
  std::string mutate_sealed_bytes(conform::test_case& c, fuzz_random& r) const;

  std::string replacement(fuzz_random& r, bool printable_only) const;

  const conform::adapter& adapter_;
  fuzz_model model_;
};

// The places of a case's steps that hold text: a send's text, or a protocol step's argument such as a
// name, a text or a payload.
struct text_site {
  std::size_t step;
  std::string key;  // "" for the step's own text, else the argument's name
};
std::vector<text_site> text_sites(const conform::test_case& c);

// Gives every step of `c` its own copy of its arguments: a copied case shares its steps' argument maps
// with the original (conform::step_args), so a case must own them before anything is changed.
void detach(conform::test_case& c);

// Splits text at spaces; ${var} names stay whole.
std::vector<std::string> tokens_of(const std::string& text);

}  // namespace parley::wirefuzz
