// fuzz_time.cpp — parse_utc, parse_duration and format_utc (base/clock.cpp):
// a parsed time prints and reads back to itself; any 64-bit millisecond
// count prints without overflow.
#include "base/clock.hpp"

#include <cstdlib>
#include <cstring>

using namespace reclaim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view in(reinterpret_cast<const char *>(data), size);
  if (const auto t = parse_utc(in)) {
    const auto text = format_utc(*t);
    const auto back = parse_utc(text);
    if (!back || *back != *t) std::abort();
  }
  if (const auto d = parse_duration(in)) {
    if (d->count() < 0) std::abort();
    (void)format_utc(from_unix_ms(0) + *d);
  }
  if (size >= 8) {
    int64_t ms = 0;
    std::memcpy(&ms, data, sizeof ms);
    const auto text = format_utc(from_unix_ms(ms));
    if (const auto back = parse_utc(text); back && to_unix_ms(*back) != ms) std::abort();
  }
  return 0;
}
