// ldap_entry.cpp — owned entries and DN normalisation through libldap's
// DN parser (ldap_str2dn / ldap_dn2str), never a hand-written one.
#include "ldap_entry.hpp"

#include <algorithm>
#include <ldap.h>

namespace reclaim::ldap {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto &c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool type_less::operator()(std::string_view a, std::string_view b) const noexcept {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const char x = lower(a[i]), y = lower(b[i]);
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
  }
  return a.size() < b.size();
}

const std::vector<std::string> *entry::find(std::string_view name) const {
  auto it = attrs.find(name);
  return it == attrs.end() ? nullptr : &it->second;
}

std::string entry::first(std::string_view name) const {
  const auto *v = find(name);
  return v && !v->empty() ? v->front() : std::string{};
}

void entry::add(std::string_view name, std::string value) {
  // Attribute options (";lang-en", ";binary") do not change the type.
  auto type = name.substr(0, name.find(';'));
  attrs[lower_ascii(type)].push_back(std::move(value));
}

std::optional<std::string> normalize_dn(std::string_view dn) {
  std::string in(dn);
  LDAPDN parsed = nullptr;
  if (ldap_str2dn(in.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS)
    return std::nullopt;
  char *out = nullptr;
  const int rc = ldap_dn2str(parsed, &out, LDAP_DN_FORMAT_LDAPV3);
  ldap_dnfree(parsed);
  if (rc != LDAP_SUCCESS || out == nullptr) return std::nullopt;
  std::string result = lower_ascii(out);
  ldap_memfree(out);
  return result;
}

bool dn_is_under(std::string_view ndn, std::string_view nbase) {
  if (nbase.empty()) return true;
  if (ndn.size() < nbase.size()) return false;
  if (ndn.substr(ndn.size() - nbase.size()) != nbase) return false;
  if (ndn.size() == nbase.size()) return true;
  // The character before the base must be an unescaped RDN separator.
  const size_t sep = ndn.size() - nbase.size() - 1;
  if (ndn[sep] != ',') return false;
  size_t backslashes = 0;
  for (size_t i = sep; i > 0 && ndn[i - 1] == '\\'; --i) ++backslashes;
  return backslashes % 2 == 0;
}

} // namespace reclaim::ldap
