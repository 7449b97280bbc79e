// ldap_mapping.cpp — evaluates the configured state rules against an entry.
#include "ldap_mapping.hpp"

#include <algorithm>
#include <charconv>

namespace reclaim::ldap {
namespace {

template <typename T> bool parse_number(std::string_view s, T &out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

bool value_matches(const state_rule &rule, const std::string &value, time_point at) {
  switch (rule.kind) {
  case state_rule::test::equals:
    return std::find(rule.values.begin(), rule.values.end(), lower_ascii(value)) !=
           rule.values.end();
  case state_rule::test::present:
    return true;
  case state_rule::test::bits_set: {
    // userAccountControl is a signed 32-bit INTEGER in AD; accept both forms.
    int64_t v = 0;
    return parse_number(value, v) && (static_cast<uint64_t>(v) & rule.mask) == rule.mask;
  }
  case state_rule::test::expired_days: {
    int64_t days = 0;
    if (!parse_number(value, days) || days < 0) return false; // -1: never expires
    const auto today = std::chrono::floor<std::chrono::days>(at).time_since_epoch().count();
    return days <= today;
  }
  }
  return false;
}

} // namespace

bool rule_matches(const state_rule &rule, const entry &e, time_point at) {
  const auto *values = e.find(rule.attribute);
  if (values == nullptr) return false;
  return std::any_of(values->begin(), values->end(),
                     [&](const std::string &v) { return value_matches(rule, v, at); });
}

bool in_scope(const mapping_config &cfg, const entry &e) {
  const auto ndn = normalize_dn(e.dn);
  return ndn && dn_is_under(*ndn, cfg.base_norm);
}

bool is_person(const mapping_config &cfg, const entry &e) {
  const auto *classes = e.find("objectClass");
  if (classes == nullptr) return false;
  return std::any_of(classes->begin(), classes->end(), [&](const std::string &c) {
    const auto lc = lower_ascii(c);
    return std::find(cfg.person_classes.begin(), cfg.person_classes.end(), lc) !=
           cfg.person_classes.end();
  });
}

reclaim_state map_state(const mapping_config &cfg, const entry &e, time_point at) {
  if (const auto ndn = normalize_dn(e.dn)) {
    for (const auto &leavers : cfg.leavers_norm)
      if (dn_is_under(*ndn, leavers)) return cfg.leavers_state;
  }
  for (const auto &rule : cfg.rules)
    if (rule_matches(rule, e, at)) return rule.result;
  return cfg.default_state;
}

std::string transfer_key(const mapping_config &cfg, const entry &e) {
  std::string key;
  for (const auto &name : cfg.transfer_attributes) {
    key += lower_ascii(name);
    key += '=';
    if (const auto *values = e.find(name)) {
      std::vector<std::string> sorted;
      for (const auto &v : *values) sorted.push_back(lower_ascii(v)); // LDAP compares these ignoring case
      std::sort(sorted.begin(), sorted.end());
      for (const auto &v : sorted) {
        key += v;
        key += '\x1f';
      }
    }
    key += '\x1e';
  }
  return key;
}

std::vector<std::string> needed_attributes(const mapping_config &cfg) {
  if (!cfg.needed.empty()) return cfg.needed;
  std::vector<std::string> names{"objectClass", "entryUUID", "entryCSN"};
  auto add = [&](const std::string &n) {
    const auto ln = lower_ascii(n);
    for (const auto &have : names)
      if (lower_ascii(have) == ln) return;
    names.push_back(n);
  };
  for (const auto &r : cfg.rules) add(r.attribute);
  for (const auto &t : cfg.transfer_attributes) add(t);
  for (const auto &x : cfg.extra_attributes) add(x);
  return names;
}

} // namespace reclaim::ldap
