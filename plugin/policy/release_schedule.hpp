// release_schedule.hpp — when staged actions are released ([scheduler].batch_times):
// a daily "HH:MM" or a 5-field cron expression ("0 2 * * MON") with two Quartz
// extensions, "1W" (the working day nearest the 1st: the first working day of
// the month) and "MON#1" (the first Monday), read in [scheduler].time_zone.
// Debian has no C or C++ cron-expression library, so this is a small strict
// parser (docs/policy.md, "Release schedules").
#pragma once

#include "base/clock.hpp"
#include "base/time_zone.hpp"

#include <bitset>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reclaim {

struct release_schedule {
  std::string text;
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;     // 1..31
  std::bitset<13> months;   // 1..12
  std::bitset<7> weekdays;  // 0 = Sunday
  bool any_day = true;      // day-of-month field starts with "*"
  bool any_weekday = true;  // day-of-week field starts with "*"
  int nearest_weekday = 0;  // "<n>W": the working day nearest day n (0: none)
  int nth_weekday = 0;      // "<day>#<n>": the n-th such weekday of the month (0: none)
};

// The schedule, or nullopt with *why naming the field and the problem.
std::optional<release_schedule> parse_release_schedule(std::string_view text, std::string *why);

// The first release at or after t in zone z (a local time skipped by a
// daylight-saving change releases at the first instant after the gap; one
// repeated releases once, at its first occurrence), or nullopt when there is
// none in the next nine years (such as "0 2 30 2 *").
std::optional<time_point> next_release(const release_schedule &s, const zone &z, time_point t);

// The earliest next_release of several; t itself when none has one.
time_point next_release(const std::vector<release_schedule> &all, const zone &z, time_point t);

} // namespace reclaim
