// states.hpp — the canonical lifecycle states every source maps to
// (DESIGN.md "One vocabulary"). Names are the ones used in config, journal,
// reclaimctl and the C ABI's reclaim_state enum, which shares the numbers.
#pragma once

#include "reclaim/reclaim.h"

#include <optional>
#include <string_view>

namespace reclaim {

enum class state : int {
  none = RECLAIM_STATE_NONE,
  active = RECLAIM_STATE_ACTIVE,
  leave = RECLAIM_STATE_LEAVE,
  transferred = RECLAIM_STATE_TRANSFERRED,
  terminated = RECLAIM_STATE_TERMINATED,
  contract_ended = RECLAIM_STATE_CONTRACT_ENDED,
  reactivated = RECLAIM_STATE_REACTIVATED,
  deleted = RECLAIM_STATE_DELETED,
};

// The protocol pieces (ldap/, scim/) speak the public header's reclaim_state;
// the numbers are the same, so these only change the type.
constexpr reclaim_state to_abi(state s) noexcept { return static_cast<reclaim_state>(s); }
constexpr state from_abi(reclaim_state s) noexcept { return static_cast<state>(s); }

inline constexpr int state_count = 8;

std::string_view state_name(state s) noexcept;
std::optional<state> parse_state(std::string_view name) noexcept;

// A person who is "away" in this state and becomes active again is
// reactivated (rehire, return from leave).
bool is_away(state s) noexcept;

} // namespace reclaim
