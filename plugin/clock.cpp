// clock.cpp — UTC clock, timestamp formatting and ISO 8601 durations.
#include "clock.hpp"

#include <atomic>
#include <charconv>
#include <fmt/chrono.h>
#include <fmt/format.h>

namespace reclaim {
namespace {
std::atomic<int64_t> fixed_ms{INT64_MIN};
} // namespace

time_point now() {
  const int64_t f = fixed_ms.load(std::memory_order_relaxed);
  if (f != INT64_MIN) return from_unix_ms(f);
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now());
}

void set_fixed_now(std::optional<time_point> fixed) {
  fixed_ms.store(fixed ? to_unix_ms(*fixed) : INT64_MIN);
}

time_point from_unix_ms(int64_t ms) {
  return time_point{std::chrono::milliseconds{ms}};
}

int64_t to_unix_ms(time_point t) { return t.time_since_epoch().count(); }

std::string format_utc(time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto ms = (t - secs).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", secs, ms);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.size() < 3 || text[0] != 'P') return std::nullopt;
  double total_s = 0;
  bool in_time = false, any = false;
  size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++i;
      continue;
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
    if (ec != std::errc{} || end == text.data() + text.size() || value < 0)
      return std::nullopt;
    i = static_cast<size_t>(end - text.data());
    const char unit = text[i++];
    double scale = 0;
    if (!in_time && unit == 'W') scale = 7 * 86400.0;
    else if (!in_time && unit == 'D') scale = 86400.0;
    else if (in_time && unit == 'H') scale = 3600.0;
    else if (in_time && unit == 'M') scale = 60.0;
    else if (in_time && unit == 'S') scale = 1.0;
    else return std::nullopt;
    total_s += value * scale;
    any = true;
  }
  if (!any || total_s > 100.0 * 365 * 86400) return std::nullopt;
  return std::chrono::milliseconds{static_cast<int64_t>(total_s * 1000.0 + 0.5)};
}

} // namespace reclaim
