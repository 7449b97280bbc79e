// fuzz_audit_log.cpp — the whole-log verifier (verify_log, behind
// `reclaimctl audit verify`) over files written from the input: parts split
// by "\n=====\n" are the log, its pruned base (.base), the saved state and
// up to four checkpoint files, each "<file name>\n<note bytes>". Problems
// are reported in the result; no exception may escape.
#include "audit/audit_verify.hpp"
#include "fuzz_support.hpp"

#include <algorithm>

using namespace reclaim;
namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view in(reinterpret_cast<const char *>(data), size);
  static const auto key = audit::parse_verifier_key(fuzz::fuzz_signer().verifier_key());
  const auto dir = fuzz::temp_dir();
  const auto log = dir / "audit.jsonl", base = dir / "audit.jsonl.base", state = dir / "state.json",
             cps = dir / "audit.jsonl.checkpoints";
  fs::remove_all(cps);
  fs::create_directories(cps);
  fs::remove(base);
  fs::remove(state);
  const auto parts = fuzz::split_parts(in, 7);
  fuzz::write_file(log, parts[0]);
  if (parts.size() > 1 && !parts[1].empty()) fuzz::write_file(base, parts[1]);
  if (parts.size() > 2 && !parts[2].empty()) fuzz::write_file(state, parts[2]);
  for (size_t i = 3; i < parts.size(); ++i) {
    const auto nl = parts[i].find('\n');
    std::string name(parts[i].substr(0, nl));
    // One path component: no separator, no "." or "..", not empty.
    std::replace(name.begin(), name.end(), '/', '_');
    std::replace(name.begin(), name.end(), '\0', '_');
    if (name.empty() || name == "." || name == ".." || name.size() > 200) name = "x" + std::to_string(i);
    fuzz::write_file(cps / name, nl == std::string_view::npos ? std::string_view() : parts[i].substr(nl + 1));
  }
  audit::verify_options o;
  o.log = log;
  o.checkpoint_dir = cps;
  o.origin = std::string(fuzz::origin);
  o.keys = {key};
  o.state_file = state; // read when present; written when the log verifies
  o.max_gap = std::chrono::hours(1);
  const auto r = audit::verify_log(o);
  if (r.errors() > r.problems.size()) std::abort();
  return 0;
}
