// fuzz_release_schedule.cpp — parse_release_schedule ([scheduler].batch_times)
// and next_release: any input is a schedule or a reason, never an exception;
// a schedule's next release in UTC and in Europe/Berlin is at or after the
// time asked, and asking again at that release returns the same instant.
#include "policy/release_schedule.hpp"

#include <cstdlib>
#include <cstdint>
#include <string>

using namespace reclaim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view in(reinterpret_cast<const char *>(data), size);
  // The time asked is a hash of the input, from about 1940 to 2160.
  uint64_t h = 1469598103934665603u;
  for (unsigned char c : in) h = (h ^ c) * 1099511628211u;
  const int64_t ms = 1'800'000'000'000 - 3'000'000'000'000 + static_cast<int64_t>(h % 7'000'000'000'000);
  std::string why;
  const auto s = parse_release_schedule(in, &why);
  if (!s) {
    if (why.empty()) std::abort();
    return 0;
  }
  static const auto berlin = parse_zone("Europe/Berlin");
  const zone zones[] = {zone{}, berlin.value_or(zone{})};
  const auto t = from_unix_ms(ms);
  for (const auto &z : zones) {
    const auto next = next_release(*s, z, t);
    if (!next) continue;
    if (*next < t) std::abort();
    const auto again = next_release(*s, z, *next);
    if (!again || *again != *next) std::abort();
  }
  return 0;
}
