// fuzz_packed_modify.cpp — unpack_modify (intake/ldap_intake.cpp), the
// engine queue's packed form of a modify: truncated input is a
// runtime_error; what unpacks packs back to the bytes it was read from (but the
// replicated flag, which any non-zero word sets).
#include "intake/ldap_intake.hpp"

#include <cstdlib>
#include <stdexcept>

using namespace reclaim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view in(reinterpret_cast<const char *>(data), size);
  ldap::change c;
  try {
    c = ldap::unpack_modify(in);
  } catch (const std::runtime_error &) {
    return 0;
  }
  if (c.dn.empty()) return 0; // pack_modify refuses a modify without a DN
  const auto again = ldap::pack_modify(c);
  // The first word is the replicated flag: any non-zero value reads as 1.
  if (again.size() < 4 || again.size() > in.size() || in.substr(4, again.size() - 4) != again.substr(4))
    std::abort();
  return 0;
}
