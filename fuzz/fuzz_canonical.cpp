// fuzz_canonical.cpp — the RFC 8785 checker and writer (canonical_json.cpp)
// against each other and nlohmann's parser: a line the checker accepts is
// valid JSON that the writer reproduces byte for byte, and whatever the
// writer produces from an object the checker accepts.
#include "audit/canonical_json.hpp"

#include <cstdlib>

using namespace reclaim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view in(reinterpret_cast<const char *>(data), size);
  std::vector<audit::member_span> top;
  const auto err = audit::check_canonical(in, &top);
  for (const auto &m : top) {
    (void)audit::unescape(m.key);
    if (m.value.size() >= 2 && m.value.front() == '"') (void)audit::unescape(m.value.substr(1, m.value.size() - 2));
  }
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (err.empty()) {
    if (j.is_discarded() || audit::canonical(j) != in) std::abort();
    return 0;
  }
  if (!j.is_object()) return 0; // audit records are objects; the checker takes nothing else
  try {
    const auto out = audit::canonical(j);
    const auto again = audit::check_canonical(out);
    // The checker stops at 64 levels of nesting; the writer does not.
    if (!again.empty() && again.find("nesting too deep") == std::string::npos) std::abort();
  } catch (const audit::canonical_error &) {
  }
  return 0;
}
