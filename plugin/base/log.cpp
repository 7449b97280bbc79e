// log.cpp — hands a formatted line to the host's sink; a throwing or
// failing sink must never take the engine down.
#include "base/log.hpp"

namespace reclaim {

void logger::write(log_level l, const std::string &message) const noexcept {
  if (!enabled(l)) return;
  try {
    sink_(static_cast<int>(l), message.c_str(), payload_);
  } catch (...) {
  }
}

} // namespace reclaim
