// csn.cpp — parsing and stepping back entryCSN values.
#include "csn.hpp"

#include <charconv>
#include <fmt/format.h>

namespace reclaim::ldap {
namespace {

bool digits(std::string_view s, int &out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

} // namespace

std::optional<csn> parse_csn(std::string_view text) {
  // 20261127230108.669444Z#000000#000#000000
  if (text.size() < 22 || text[14] != '.' || text[21] != 'Z') return std::nullopt;
  int y, mo, d, h, mi, s, us;
  if (!digits(text.substr(0, 4), y) || !digits(text.substr(4, 2), mo) ||
      !digits(text.substr(6, 2), d) || !digits(text.substr(8, 2), h) ||
      !digits(text.substr(10, 2), mi) || !digits(text.substr(12, 2), s) ||
      !digits(text.substr(15, 6), us))
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y},
                                        std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  csn out;
  out.time = std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} +
             std::chrono::seconds{s} + std::chrono::milliseconds{us / 1000};
  out.micros = std::string(text.substr(15, 6));
  // "#count#sid#mod"
  const auto first = text.find('#', 21);
  const auto second = first == std::string_view::npos ? first : text.find('#', first + 1);
  const auto third = second == std::string_view::npos ? second : text.find('#', second + 1);
  if (second != std::string_view::npos && third != std::string_view::npos) {
    const auto sid = text.substr(second + 1, third - second - 1);
    std::from_chars(sid.data(), sid.data() + sid.size(), out.server_id, 16);
  }
  return out;
}

std::string csn_minus(std::string_view text, std::chrono::milliseconds margin) {
  const auto c = parse_csn(text);
  if (!c) return {};
  // Civil-date arithmetic, not fmt's chrono: that converts to nanoseconds
  // and overflows outside 1678..2262, while a CSN may say year 0000 or 9999.
  const auto t = c->time - margin;
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss<std::chrono::milliseconds> hms{t - day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return {};
  return fmt::format("{:04d}{:02d}{:02d}{:02d}{:02d}{:02d}.{:03d}000Z#000000#000#000000", year,
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

} // namespace reclaim::ldap
