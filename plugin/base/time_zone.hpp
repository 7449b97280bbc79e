// time_zone.hpp — time zones for calendar dates (contract end dates): UTC,
// a fixed offset (+01:00) or an IANA name (Europe/Berlin) from the system's
// time-zone database (Debian tzdata), read through Howard Hinnant's date
// library (libhowardhinnant-date), because Debian 12's libstdc++ has no
// std::chrono time-zone database yet.
#pragma once

#include "base/clock.hpp"

#include <optional>
#include <string>

namespace date {
class time_zone;
}

namespace reclaim {

struct zone {
  std::string name = "UTC";
  int offset_minutes = 0;              // a fixed offset
  const date::time_zone *tz = nullptr; // a named zone (owned by the database)
};

// UTC, Z, ±HH:MM (up to ±14:00) or an IANA zone name; nullopt otherwise.
std::optional<zone> parse_zone(const std::string &text);

// When calendar day `day` ends in zone z: local midnight of the next day,
// as UTC (in a daylight-saving gap, the first instant after it).
time_point end_of_day(const zone &z, std::chrono::sys_days day);

} // namespace reclaim
