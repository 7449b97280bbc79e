// fuzz_proof_bundle.cpp — verify_bundle (`reclaimctl audit verify-record`)
// on any JSON value: a mistyped or forged bundle is a list of problems,
// never an exception.
#include "audit/audit_verify.hpp"
#include "fuzz_support.hpp"

using namespace reclaim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const auto key = audit::parse_verifier_key(fuzz::fuzz_signer().verifier_key());
  const auto b = nlohmann::json::parse(data, data + size, nullptr, false);
  if (b.is_discarded()) return 0;
  (void)audit::verify_bundle(b, std::string(fuzz::origin), {key});
  return 0;
}
