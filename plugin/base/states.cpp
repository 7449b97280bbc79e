// states.cpp — names of the canonical lifecycle states.
#include "base/states.hpp"

#include <array>

namespace reclaim {
namespace {
constexpr std::array<std::string_view, state_count> names = {
    "none",           "active",      "leave",   "transferred", "terminated",
    "contract_ended", "reactivated", "deleted"};
} // namespace

std::string_view state_name(state s) noexcept {
  const auto i = static_cast<int>(s);
  return i >= 0 && i < state_count ? names[static_cast<size_t>(i)] : "invalid";
}

std::optional<state> parse_state(std::string_view name) noexcept {
  for (int i = 0; i < state_count; ++i)
    if (names[static_cast<size_t>(i)] == name) return static_cast<state>(i);
  return std::nullopt;
}

bool is_away(state s) noexcept {
  return s == state::leave || s == state::terminated ||
         s == state::contract_ended || s == state::deleted;
}

} // namespace reclaim
