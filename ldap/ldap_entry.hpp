// ldap_entry.hpp — an owned copy of a directory entry (DN plus string
// values keyed by lower-cased attribute type) and DN comparison helpers.
// Hosts hand entries across the C ABI as borrowed arrays; the engine keeps
// this copy so nothing it holds points into the host's memory.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reclaim::ldap {

// Orders attribute types ASCII-case-insensitively, and finds them by
// string_view without building a lower-cased copy first.
struct type_less {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

struct entry {
  std::string dn;
  std::map<std::string, std::vector<std::string>, type_less> attrs; // key lower-cased

  const std::vector<std::string> *find(std::string_view name) const;
  // The first value of an attribute, or "".
  std::string first(std::string_view name) const;
  void add(std::string_view name, std::string value);
};

std::string lower_ascii(std::string_view s);

// Canonical, lower-cased form of a DN (parsed by libldap), or nullopt when
// the DN does not parse.
std::optional<std::string> normalize_dn(std::string_view dn);

// True when normalised dn equals base or lies below it.
bool dn_is_under(std::string_view ndn, std::string_view nbase);

} // namespace reclaim::ldap
