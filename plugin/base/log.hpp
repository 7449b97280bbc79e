// log.hpp — the engine's log: lines go to the host's callback (slapd's
// plugin log, reclaimctl's stderr), never to stdout, filtered by level.
#pragma once

#include <fmt/format.h>
#include <string>

namespace reclaim {

enum class log_level : int { error = 0, warning = 1, info = 2, debug = 3 };

using log_sink = void (*)(int level, const char *message, void *payload);

class logger {
public:
  logger() = default;
  logger(log_sink sink, void *payload, log_level max)
      : sink_(sink), payload_(payload), max_(max) {}

  void set_level(log_level max) { max_ = max; }
  bool enabled(log_level l) const { return sink_ && l <= max_; }
  void write(log_level l, const std::string &message) const noexcept;

  template <typename... Args>
  void log(log_level l, fmt::format_string<Args...> f, Args &&...args) const {
    if (enabled(l)) write(l, fmt::format(f, std::forward<Args>(args)...));
  }

private:
  log_sink sink_ = nullptr;
  void *payload_ = nullptr;
  log_level max_ = log_level::info;
};

} // namespace reclaim
