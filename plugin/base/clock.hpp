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

// "2026-11-27T23:01:02.123Z"
std::string format_utc(time_point t);

// "2026-11-27T23:01:02Z" or with ".123" fraction; nullopt when not UTC ISO 8601.
std::optional<time_point> parse_utc(std::string_view text);

// ISO 8601 duration: PnW, PnDTnHnMnS (fractional seconds allowed), no years
// or months (their length is ambiguous). nullopt when unparsable or negative.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

} // namespace reclaim
