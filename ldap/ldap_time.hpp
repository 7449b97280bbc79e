// ldap_time.hpp — the instant type the LDAP pieces use: UTC milliseconds,
// the same type as the engine's reclaim::time_point, declared here so that
// ldap/ needs nothing from plugin/ (docs/architecture.md).
#pragma once

#include <chrono>

namespace reclaim::ldap {

using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

} // namespace reclaim::ldap
