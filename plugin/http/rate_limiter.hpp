// rate_limiter.hpp — a token bucket per connector instance, sized from the
// vendor's published limit (config or the type's documented default), which
// pauses everyone when the vendor answers 429/503 with Retry-After and
// adapts its rate (AIMD: halve on a refusal, add back slowly), so the
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
  // The vendor refused a request for its rate (429/503): its budget is
  // spent, whatever config says. Multiplicative decrease: the rate is halved
  // (once per second at most, so one crowded moment counts once; never below
  // 1/64 of the configured rate) and the start-up probing ends.
  void throttled();
  // `cost` tokens' worth of requests were accepted. Additive increase: the
  // rate grows by cost/10 per second, up to the configured rate (back from
  // half in ~5 s of traffic). Until the first refusal (slow start: the
  // vendor's bucket may not be full) each acceptance adds `cost` tokens,
  // so the allowance doubles per round trip from one second's worth up to
  // the burst.
  void accepted(double cost);
  // Tokens left now (for tests and metrics).
  double available();
  // The rate now (tokens per second; <= 0 unlimited).
  double rate();

private:
  using clock = std::chrono::steady_clock;
  void refill(clock::time_point t);
  std::mutex mu_;
  double max_rate_, rate_, burst_, tokens_;
  bool probing_ = true;
  clock::time_point last_, paused_until_{}, halved_at_{};
};

} // namespace reclaim::http
