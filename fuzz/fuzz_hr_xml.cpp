// fuzz_hr_xml.cpp — the HR XML intake (scim/hr_xml.cpp): any bytes either
// become records that name a worker, an event and an idempotency key, or
// are refused with parse_error; nothing else may escape, crash or leak.
#include "scim/hr_xml.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const reclaim::hr::hr_config cfg = [] {
    reclaim::hr::hr_config c;
    c.max_bytes = 1u << 20;
    c.max_workers = 1000;
    return c;
  }();
  try {
    const auto records =
        reclaim::hr::parse(std::string_view(reinterpret_cast<const char *>(data), size), cfg, "sha256:fuzz");
    for (const auto &r : records) {
      if (r.worker_id.empty() || r.key.empty() || r.state == RECLAIM_STATE_NONE || !reclaim::hr::is_kind(r.kind))
        std::abort();
    }
  } catch (const reclaim::hr::parse_error &) {
  }
  return 0;
}
