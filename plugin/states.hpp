// states.hpp — the canonical lifecycle states every source maps to
// (DESIGN.md "One vocabulary"). Names are the ones used in config, journal,
// reclaimctl and the C ABI's reclaim_state enum, which shares the numbers.
#pragma once

#include <optional>
#include <string_view>

namespace reclaim {

enum class state : int {
  none = 0,
  active = 1,
  leave = 2,
  transferred = 3,
  terminated = 4,
  contract_ended = 5,
  reactivated = 6,
  deleted = 7,
};

inline constexpr int state_count = 8;

std::string_view state_name(state s) noexcept;
std::optional<state> parse_state(std::string_view name) noexcept;

// A person who is "away" in this state and becomes active again is
// reactivated (rehire, return from leave).
bool is_away(state s) noexcept;

} // namespace reclaim
