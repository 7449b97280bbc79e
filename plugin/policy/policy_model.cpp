// policy_model.cpp — names and lookups of the policy vocabulary.
#include "policy/policy_model.hpp"

#include <array>

namespace reclaim {
namespace {
constexpr std::array<std::string_view, 9> action_names = {
    "suspend_access",     "revoke_access", "reclaim_licence", "downgrade_licence",
    "transfer_ownership", "notify",        "resume_access",   "grant_access",
    "assign_licence"};
} // namespace

std::string_view tier_name(tier t) {
  switch (t) {
  case tier::critical: return "critical";
  case tier::standard: return "standard";
  case tier::low: return "low";
  }
  return "?";
}

std::string_view action_kind_name(action_kind k) {
  return action_names[static_cast<size_t>(k)];
}

std::optional<action_kind> parse_action_kind(std::string_view name) {
  for (size_t i = 0; i < action_names.size(); ++i)
    if (action_names[i] == name) return static_cast<action_kind>(i);
  return std::nullopt;
}

bool touches_data(action_kind k) {
  return k == action_kind::reclaim_licence || k == action_kind::transfer_ownership;
}

const sku *application::find_sku(std::string_view sku_id) const {
  for (const auto &s : skus)
    if (s.id == sku_id) return &s;
  return nullptr;
}

const application *policy_config::find_app(std::string_view app_id) const {
  for (const auto &a : applications)
    if (a.id == app_id) return &a;
  return nullptr;
}

} // namespace reclaim
