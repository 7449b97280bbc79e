// csn.hpp — OpenLDAP change sequence numbers (entryCSN):
// "YYYYmmddHHMMSS.ffffffZ#count#sid#mod". They order changes as strings,
// carry the originating server id, and let catch-up ask the directory for
// "everything changed since".
#pragma once

#include "ldap_time.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace reclaim::ldap {

struct csn {
  time_point time{};       // millisecond precision is enough to step back
  std::string micros;      // the six fraction digits as written
  unsigned server_id = 0;  // the third field (hex)
};

std::optional<csn> parse_csn(std::string_view text);

// The smallest CSN at (text's time - margin), for an ordering filter
// (entryCSN>=...). Returns "" when text is not a CSN.
std::string csn_minus(std::string_view text, std::chrono::milliseconds margin);

} // namespace reclaim::ldap
