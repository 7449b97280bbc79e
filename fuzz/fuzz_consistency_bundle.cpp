// fuzz_consistency_bundle.cpp — verify_consistency_bundle (`reclaimctl audit
// verify-consistency`) on any JSON value: a mistyped, forged or inconsistent
// bundle is a list of problems, never an exception.
#include "audit/audit_consistency.hpp"
#include "fuzz_support.hpp"

using namespace reclaim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const auto key = audit::parse_verifier_key(fuzz::fuzz_signer().verifier_key());
  const auto b = nlohmann::json::parse(data, data + size, nullptr, false);
  if (b.is_discarded()) return 0;
  bool inconsistent = false;
  const auto problems = audit::verify_consistency_bundle(b, std::string(fuzz::origin), {key}, inconsistent);
  if (inconsistent && problems.size() != 1) std::abort(); // set only when the proof is the only problem
  return 0;
}
