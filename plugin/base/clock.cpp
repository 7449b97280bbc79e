// clock.cpp — UTC clock, timestamp formatting and ISO 8601 durations.
// Dates are converted with civil-date arithmetic on 64-bit integers (H.
// Hinnant's days_from_civil / civil_from_days), not fmt's chrono, which goes
// through nanoseconds and overflows outside 1678-2262.
#include "base/clock.hpp"

#include <atomic>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace reclaim {
namespace {

std::atomic<int64_t> fixed_ms{INT64_MIN};
constexpr int64_t ms_per_day = 86'400'000;

struct civil {
  int64_t y;
  unsigned m, d;
};

civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                 // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);          // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                               // [0, 11]
  const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

unsigned month_days(int64_t y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

// text[pos, pos+len) as a decimal of exactly len digits.
bool fixed_digits(std::string_view text, size_t pos, size_t len, int &out) {
  out = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

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
  const int64_t ms = to_unix_ms(t);
  int64_t days = ms / ms_per_day, rest = ms % ms_per_day;
  if (rest < 0) {
    rest += ms_per_day;
    --days;
  }
  const auto c = civil_from_days(days);
  const auto year = c.y >= 0 && c.y <= 9999 ? fmt::format("{:04}", c.y) : fmt::format("{:+05}", c.y);
  return fmt::format("{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year, c.m, c.d, rest / 3'600'000,
                     rest / 60'000 % 60, rest / 1000 % 60, rest % 1000);
}

std::optional<time_point> parse_utc(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if ((text.size() != 20 && text.size() != 24) || text.back() != 'Z' || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':' || (text.size() == 24 && text[19] != '.'))
    return std::nullopt;
  int y, mo, d, h, mi, s, ms = 0;
  if (!fixed_digits(text, 0, 4, y) || !fixed_digits(text, 5, 2, mo) || !fixed_digits(text, 8, 2, d) ||
      !fixed_digits(text, 11, 2, h) || !fixed_digits(text, 14, 2, mi) || !fixed_digits(text, 17, 2, s) ||
      (text.size() == 24 && !fixed_digits(text, 20, 3, ms)))
    return std::nullopt;
  if (y < min_utc_year || y > max_utc_year || mo < 1 || mo > 12 || d < 1 ||
      static_cast<unsigned>(d) > month_days(y, static_cast<unsigned>(mo)) || h > 23 || mi > 59 || s > 59)
    return std::nullopt;
  const int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return from_unix_ms(days * ms_per_day + ((h * 60 + mi) * 60 + s) * int64_t{1000} + ms);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  // P[nW][nD][T[nH][nM][n[.f]S]], units in this order, each at most once;
  // numbers are digits with an optional fraction of digits (no sign,
  // exponent, nan or inf), the fraction only on the seconds.
  if (text.size() < 3 || text[0] != 'P') return std::nullopt;
  static constexpr std::string_view units = "WDHMS";
  static constexpr double scale[] = {7 * 86400.0, 86400.0, 3600.0, 60.0, 1.0};
  static constexpr double max_s = 100.0 * 365 * 86400;
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
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
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == start) return std::nullopt;
    bool fraction = false;
    if (i < text.size() && text[i] == '.') {
      fraction = true;
      const size_t dot = ++i;
      while (i < text.size() && is_digit(text[i])) ++i;
      if (i == dot) return std::nullopt;
    }
    if (i == text.size()) return std::nullopt;
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data() + start, text.data() + i, value);
    if (ec != std::errc{} || end != text.data() + i || !std::isfinite(value)) return std::nullopt;
    const auto u = units.find(text[i], next_unit);
    if (u == std::string_view::npos || (u >= 2) != in_time) return std::nullopt;
    if (u != 4 && fraction) return std::nullopt;
    total_s += value * scale[u];
    if (!(total_s <= max_s)) return std::nullopt; // also inf and nan
    next_unit = u + 1;
    any = true;
    time_component = time_component || in_time;
    ++i;
  }
  if (!any || (in_time && !time_component)) return std::nullopt;
  return std::chrono::milliseconds{static_cast<int64_t>(total_s * 1000.0 + 0.5)};
}

std::string format_duration(std::chrono::milliseconds d) {
  if (d.count() < 0) return "-" + format_duration(-d);
  int64_t ms = d.count();
  const int64_t days = ms / 86'400'000;
  ms %= 86'400'000;
  const int64_t hours = ms / 3'600'000, minutes = ms / 60'000 % 60, seconds = ms / 1000 % 60, frac = ms % 1000;
  std::string out = "P";
  if (days > 0) out += std::to_string(days) + "D";
  if (hours == 0 && minutes == 0 && seconds == 0 && frac == 0) return days > 0 ? out : "PT0S";
  out += "T";
  if (hours > 0) out += std::to_string(hours) + "H";
  if (minutes > 0) out += std::to_string(minutes) + "M";
  if (seconds > 0 || frac > 0) {
    out += std::to_string(seconds);
    if (frac > 0) {
      auto f = std::to_string(1000 + frac).substr(1);
      while (f.back() == '0') f.pop_back();
      out += "." + f;
    }
    out += "S";
  }
  return out;
}

} // namespace reclaim
