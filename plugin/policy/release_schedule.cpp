// release_schedule.cpp — see release_schedule.hpp. Fields follow crontab(5):
// lists, ranges and steps, month and weekday names, 0 and 7 for Sunday, and
// when both day fields are restricted a day matching either is a release day.
// Next releases are found day by day in local time, then converted to UTC.
#include "policy/release_schedule.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace reclaim {
namespace {

struct field_spec {
  const char *name;
  int lo, hi;                 // hi: 7 for the weekday (7 is Sunday again)
  const char *const *names;   // three-letter names, or nullptr
  int first_named;            // the value of names[0]
};

constexpr const char *month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", nullptr};
constexpr const char *day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", nullptr};
constexpr field_spec fields[] = {{"minute", 0, 59, nullptr, 0},
                                 {"hour", 0, 23, nullptr, 0},
                                 {"day of month", 1, 31, nullptr, 0},
                                 {"month", 1, 12, month_names, 1},
                                 {"day of week", 0, 7, day_names, 0}};

bool fail(std::string *why, std::string message) {
  if (why != nullptr) *why = std::move(message);
  return false;
}

bool digits(std::string_view v, int &out) {
  if (v.empty() || v.size() > 2 ||
      !std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
    return false;
  return std::from_chars(v.data(), v.data() + v.size(), out).ec == std::errc{};
}

// A number or a name of field f, checked against its range.
bool value(std::string_view v, const field_spec &f, int &out, std::string *why) {
  if (f.names != nullptr && v.size() == 3) {
    for (int i = 0; f.names[i] != nullptr; ++i) {
      bool same = true;
      for (size_t k = 0; k < 3; ++k)
        same = same && std::toupper(static_cast<unsigned char>(v[k])) == f.names[i][k];
      if (same) {
        out = f.first_named + i;
        return true;
      }
    }
  }
  if (!digits(v, out)) return fail(why, fmt::format("\"{}\" is not a number{}", v, f.names ? " or a name" : ""));
  if (out < f.lo || out > f.hi) return fail(why, fmt::format("{} is out of range {}-{}", out, f.lo, f.hi));
  return true;
}

// One field: a comma-separated list of *, n, a-b, each optionally /step.
bool parse_field(std::string_view text, const field_spec &f, uint64_t &bits, std::string *why) {
  bits = 0;
  while (true) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (item.empty()) return fail(why, "empty list item");
    int step = 1;
    if (const auto slash = item.find('/'); slash != std::string_view::npos) {
      const auto s = item.substr(slash + 1);
      if (!digits(s, step) || step < 1 || step > f.hi - f.lo)
        return fail(why, fmt::format("step \"{}\" is not a number from 1 to {}", s, f.hi - f.lo));
      item = item.substr(0, slash);
    }
    int a = f.lo, b = f.hi == 7 ? 6 : f.hi;
    if (item != "*") {
      const auto dash = item.find('-');
      if (!value(item.substr(0, dash), f, a, why)) return false;
      if (dash != std::string_view::npos) {
        if (!value(item.substr(dash + 1), f, b, why)) return false;
        if (b < a) return fail(why, fmt::format("range {} runs backwards", item));
      } else if (step == 1) {
        b = a;
      } // "a/step": from a to the end of the range
    }
    for (int i = a; i <= b; i += step) bits |= uint64_t{1} << (i == 7 && f.hi == 7 ? 0 : i);
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

// The day of the month that is the working day (Monday to Friday) nearest
// day n without leaving the month (Quartz's "nW"); 0 when the month has no day n.
unsigned nearest_working_day(date::year_month ym, unsigned n) {
  const unsigned last = static_cast<unsigned>((ym / date::last).day());
  if (n > last) return 0;
  const auto wd = date::weekday(date::year_month_day{ym / date::day(n)}).c_encoding();
  if (wd == 6) return n == 1 ? 3 : n - 1; // Saturday
  if (wd == 0) return n == last ? n - 2 : n + 1; // Sunday
  return n;
}

bool release_day(const release_schedule &s, const date::year_month_day &ymd) {
  const auto m = static_cast<unsigned>(ymd.month());
  const auto d = static_cast<unsigned>(ymd.day());
  if (!s.months[m]) return false;
  if (s.nearest_weekday != 0)
    return d == nearest_working_day(ymd.year() / ymd.month(), static_cast<unsigned>(s.nearest_weekday));
  const bool dom = s.days[d];
  bool dow = s.weekdays[date::weekday(ymd).c_encoding()];
  if (s.nth_weekday != 0) dow = dow && (d - 1) / 7 + 1 == static_cast<unsigned>(s.nth_weekday);
  if (s.any_day || s.any_weekday) return dom && dow;
  return dom || dow;
}

bool parse_hh_mm(std::string_view text, release_schedule &s) {
  int h = -1, m = -1;
  if (text.size() != 5 || text[2] != ':' || !digits(text.substr(0, 2), h) || !digits(text.substr(3, 2), m) ||
      h > 23 || m > 59)
    return false;
  s.minutes.set(static_cast<size_t>(m));
  s.hours.set(static_cast<size_t>(h));
  for (size_t d = 1; d <= 31; ++d) s.days.set(d);
  for (size_t mo = 1; mo <= 12; ++mo) s.months.set(mo);
  s.weekdays.set();
  return true;
}

} // namespace

std::optional<release_schedule> parse_release_schedule(std::string_view text, std::string *why) {
  release_schedule s;
  s.text = std::string(text);
  std::vector<std::string_view> parts;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    const auto end = std::min(text.find_first_of(" \t", i), text.size());
    parts.push_back(text.substr(i, end - i));
    i = end;
  }
  if (parts.size() == 1 && parts[0].find(':') != std::string_view::npos) {
    if (parse_hh_mm(parts[0], s) && parts[0] == text) return s;
    fail(why, "not a time of day HH:MM (00:00 to 23:59)");
    return std::nullopt;
  }
  if (parts.size() != 5) {
    fail(why, fmt::format("has {} field{}; a cron expression has 5 (minute hour day-of-month month "
                          "day-of-week), a daily time is HH:MM", parts.size(), parts.size() == 1 ? "" : "s"));
    return std::nullopt;
  }
  uint64_t bits[5] = {};
  for (size_t i = 0; i < 5; ++i) {
    auto field = parts[i];
    std::string problem;
    if (i == 2 && (field.back() == 'W' || field.back() == 'w')) {
      int n = 0;
      if (!value(field.substr(0, field.size() - 1), fields[2], n, &problem)) {
        fail(why, fmt::format("day of month \"{}\": \"nW\" takes one day: {}", field, problem));
        return std::nullopt;
      }
      s.nearest_weekday = n;
      bits[2] = ~uint64_t{0};
      continue;
    }
    if (i == 4) {
      if (const auto hash = field.find('#'); hash != std::string_view::npos) {
        int nth = 0;
        if (!digits(field.substr(hash + 1), nth) || nth < 1 || nth > 5) {
          fail(why, fmt::format("day of week \"{}\": the n in \"day#n\" must be 1 to 5", field));
          return std::nullopt;
        }
        s.nth_weekday = nth;
        field = field.substr(0, hash);
        if (field.find_first_of(",-/*") != std::string_view::npos) {
          fail(why, fmt::format("day of week \"{}\": \"day#n\" takes one day", parts[i]));
          return std::nullopt;
        }
      }
    }
    if (!parse_field(field, fields[i], bits[i], &problem)) {
      fail(why, fmt::format("{} \"{}\": {}", fields[i].name, parts[i], problem));
      return std::nullopt;
    }
  }
  s.minutes = std::bitset<60>(bits[0]);
  s.hours = std::bitset<24>(bits[1]);
  s.days = std::bitset<32>(bits[2]);
  s.months = std::bitset<13>(bits[3]);
  s.weekdays = std::bitset<7>(bits[4]);
  s.any_day = parts[2][0] == '*';
  s.any_weekday = parts[4][0] == '*';
  if (s.nearest_weekday != 0 && !s.any_weekday) {
    fail(why, "\"nW\" needs \"*\" as the day of week");
    return std::nullopt;
  }
  if (s.nth_weekday != 0 && !s.any_day) {
    fail(why, "\"day#n\" needs \"*\" as the day of month");
    return std::nullopt;
  }
  if (!next_release(s, zone{}, from_unix_ms(0))) {
    fail(why, "names no day that exists (such as 30 February)");
    return std::nullopt;
  }
  return s;
}

std::optional<time_point> next_release(const release_schedule &s, const zone &z, time_point t) {
  using namespace std::chrono;
  // Beyond year 9999 (a hold "until the end of time") there is no calendar to read.
  if (t > from_unix_ms(253402300799999) || t < from_unix_ms(-62135596800000)) return std::nullopt;
  const auto t_s = floor<seconds>(t);
  const auto local_t = z.tz != nullptr ? date::local_seconds{z.tz->to_local(t_s).time_since_epoch()}
                                       : date::local_seconds{(t_s + minutes(z.offset_minutes)).time_since_epoch()};
  const auto first_day = floor<days>(local_t);
  const auto t_minute = duration_cast<minutes>(local_t - first_day).count();
  for (int i = 0; i < 366 * 9; ++i) {
    const auto day = first_day + days(i);
    if (!release_day(s, date::year_month_day{date::sys_days{day.time_since_epoch()}})) continue;
    for (int h = 0; h < 24; ++h) {
      if (!s.hours[static_cast<size_t>(h)]) continue;
      for (int m = 0; m < 60; ++m) {
        if (!s.minutes[static_cast<size_t>(m)]) continue;
        // A candidate more than three hours (any zone's offset change) before t's local time is before t.
        if (i == 0 && h * 60 + m + 180 < t_minute) continue;
        const auto local = day + hours(h) + minutes(m);
        const auto at = z.tz != nullptr ? z.tz->to_sys(local, date::choose::earliest)
                                        : date::sys_seconds{local.time_since_epoch()} - minutes(z.offset_minutes);
        const auto candidate = time_point_cast<time_point::duration>(at);
        if (candidate >= t) return candidate;
      }
    }
  }
  return std::nullopt;
}

time_point next_release(const std::vector<release_schedule> &all, const zone &z, time_point t) {
  std::optional<time_point> best;
  for (const auto &s : all)
    if (const auto at = next_release(s, z, t); at && (!best || *at < *best)) best = at;
  return best.value_or(t);
}

} // namespace reclaim
