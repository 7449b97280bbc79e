// clock.cpp — UTC clock, timestamp formatting and ISO 8601 durations.
#include "base/clock.hpp"

#include <atomic>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
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

std::optional<time_point> parse_utc(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (text.size() < 20 || text.back() != 'Z' || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':')
    return std::nullopt;
  auto num = [&](size_t pos, size_t len, int &out) {
    return std::from_chars(text.data() + pos, text.data() + pos + len, out).ec == std::errc{};
  };
  int y, mo, d, h, mi, s, ms = 0;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) || !num(17, 2, s))
    return std::nullopt;
  if (text.size() > 20) {
    if (text[19] != '.' || text.size() != 24 || !num(20, 3, ms)) return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return time_point{std::chrono::sys_days{ymd}} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s} + std::chrono::milliseconds{ms};
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  // P[nW][nD][T[nH][nM][n[.f]S]], units in this order, each at most once;
  // numbers are plain decimals (no sign, exponent, nan or inf).
  if (text.size() < 3 || text[0] != 'P') return std::nullopt;
  static constexpr std::string_view units = "WDHMS";
  static constexpr double scale[] = {7 * 86400.0, 86400.0, 3600.0, 60.0, 1.0};
  double total_s = 0;
  size_t next_unit = 0, i = 1;
  bool in_time = false, any = false, time_component = false;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      next_unit = std::max<size_t>(next_unit, 2);
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start || i == text.size()) return std::nullopt;
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data() + start, text.data() + i, value);
    if (ec != std::errc{} || end != text.data() + i || !std::isfinite(value)) return std::nullopt;
    const auto u = units.find(text[i], next_unit);
    if (u == std::string_view::npos || (u >= 2) != in_time) return std::nullopt;
    if (u != 4 && text.substr(start, i - start).find('.') != std::string_view::npos) return std::nullopt;
    total_s += value * scale[u];
    next_unit = u + 1;
    any = true;
    time_component = time_component || in_time;
    ++i;
  }
  if (!any || (in_time && !time_component) || total_s > 100.0 * 365 * 86400) return std::nullopt;
  return std::chrono::milliseconds{static_cast<int64_t>(total_s * 1000.0 + 0.5)};
}

} // namespace reclaim
