// rate_limiter.hpp — a token bucket per connector instance, sized from the
// vendor's published limit in config (e.g. Graph's write budget), which
// pauses everyone when the vendor answers 429/503 with Retry-After, so the
// client slows down instead of collecting more throttles.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace reclaim::http {

// The longest pause a vendor's Retry-After may impose, in either form.
inline constexpr std::chrono::milliseconds max_retry_after{std::chrono::hours(24)};

// Retry-After: delta-seconds or an HTTP-date (parsed with curl_getdate);
// nullopt when absent or unreadable. A date in the past gives 0; both forms
// are capped at max_retry_after.
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string &value);

class rate_limiter {
public:
  // rate tokens per second, at most burst saved up; rate <= 0: unlimited.
  rate_limiter(double rate, double burst);

  // Blocks until `cost` tokens are available (and any pause is over).
  void acquire(double cost = 1);
  // The vendor asked us to wait: nobody sends before now + d.
  void pause_for(std::chrono::milliseconds d);
  // Tokens left now (for tests and metrics).
  double available();

private:
  using clock = std::chrono::steady_clock;
  void refill(clock::time_point t);
  std::mutex mu_;
  double rate_, burst_, tokens_;
  clock::time_point last_, paused_until_{};
};

} // namespace reclaim::http
