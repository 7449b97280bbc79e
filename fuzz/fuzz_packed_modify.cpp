// fuzz_packed_modify.cpp — unpack_modify (intake/ldap_intake.cpp), the
// engine queue's packed form of a modify: truncated input is a
// runtime_error; what unpacks packs back to the bytes it was read from.
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
  if (again.empty() || in.substr(0, again.size()) != again) std::abort();
  return 0;
}
