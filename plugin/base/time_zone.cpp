// time_zone.cpp — see time_zone.hpp. Fixed offsets are parsed here; names
// are looked up once, at config load, in the system's tzdata.
#include "base/time_zone.hpp"

#include <charconv>
#include <date/tz.h>

namespace reclaim {
namespace {

bool two_digits(const std::string &s, size_t at, int &out) {
  const char *b = s.data() + at;
  return at + 2 <= s.size() && std::isdigit(static_cast<unsigned char>(b[0])) &&
         std::isdigit(static_cast<unsigned char>(b[1])) && std::from_chars(b, b + 2, out).ec == std::errc{};
}

} // namespace

std::optional<zone> parse_zone(const std::string &text) {
  if (text == "UTC" || text == "Z") return zone{};
  int h = 0, m = 0;
  if (text.size() == 6 && (text[0] == '+' || text[0] == '-') && text[3] == ':') {
    if (two_digits(text, 1, h) && two_digits(text, 4, m) && h <= 14 && m < 60 && (h < 14 || m == 0))
      return zone{text, (text[0] == '-' ? -1 : 1) * (h * 60 + m), nullptr};
    return std::nullopt;
  }
  // Names look like Area/Location (a few, like "UTC" or "EST5EDT", have no
  // slash); anything with characters tzdata never uses is not looked up.
  if (text.empty() || text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") !=
                          std::string::npos || text.find("..") != std::string::npos || text[0] == '/')
    return std::nullopt;
  try {
    return zone{text, 0, date::locate_zone(text)};
  } catch (const std::exception &) {
    return std::nullopt;
  }
}

time_point end_of_day(const zone &z, std::chrono::sys_days day) {
  const auto next = day + std::chrono::days(1);
  if (z.tz == nullptr)
    return time_point{next} - std::chrono::minutes(z.offset_minutes);
  const auto local = date::local_days{next.time_since_epoch()};
  return std::chrono::time_point_cast<time_point::duration>(z.tz->to_sys(local, date::choose::earliest));
}

} // namespace reclaim
