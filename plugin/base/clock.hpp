// clock.hpp — UTC time for the whole engine: one clock that tests can set
// without sleeping, ISO 8601 timestamps and durations (PT5M, P30D).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reclaim {

using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

// Now, in UTC milliseconds. Tests may pin it with set_fixed_now().
time_point now();
void set_fixed_now(std::optional<time_point> fixed);

time_point from_unix_ms(int64_t ms);
int64_t to_unix_ms(time_point t);

// "2026-11-27T23:01:02.123Z". Defined for every time_point (civil-date
// arithmetic, no overflow); a year outside 0000-9999 is written in the ISO
// 8601 expanded form ("+10000-01-01T...", "-0001-12-31T..."), which
// parse_utc refuses.
std::string format_utc(time_point t);

// The range parse_utc accepts: 1970-01-01T00:00:00.000Z to
// 9999-12-31T23:59:59.999Z (a non-negative Unix time with a 4-digit year).
inline constexpr int min_utc_year = 1970;
inline constexpr int max_utc_year = 9999;

// "2026-11-27T23:01:02Z" or with a ".123" fraction: every field exactly its
// digits (no sign, no space), a valid date and time, a year in
// [min_utc_year, max_utc_year]; nullopt otherwise. format_utc of the result
// reads back to the same time_point.
std::optional<time_point> parse_utc(std::string_view text);

// ISO 8601 duration: PnW, PnDTnHnMnS (fractional seconds allowed), no years
// or months (their length is ambiguous). nullopt when unparsable, negative
// or longer than 100 years (so no value can overflow the milliseconds).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The ISO 8601 form parse_duration reads: "P8DT3H", "PT6S", "PT0.25S";
// negative values as "-" and the form of their magnitude.
std::string format_duration(std::chrono::milliseconds d);

} // namespace reclaim
