// rate_limiter.cpp — token bucket with a shared pause and an adaptive rate.
// Waiting happens outside the lock (sleep, then try again), so a pause or a
// halving set by one thread's 429 holds back every other thread of the same
// connector too.
#include "http/rate_limiter.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <thread>

namespace reclaim::http {

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string &value) {
  const auto b = value.find_first_not_of(" \t");
  if (b == std::string::npos) return std::nullopt;
  const auto v = value.substr(b, value.find_last_not_of(" \t\r\n") - b + 1);
  const long long cap_secs = max_retry_after.count() / 1000;
  if (v.find_first_not_of("0123456789") == std::string::npos) {
    long long secs = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
    if (ec == std::errc::result_out_of_range) return max_retry_after; // all digits, just very many
    if (ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
    return std::chrono::milliseconds(std::min(secs, cap_secs) * 1000);
  }
  const time_t when = curl_getdate(v.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  const auto now = std::chrono::system_clock::now();
  const time_t now_t = std::chrono::system_clock::to_time_t(now);
  if (when <= now_t) return std::chrono::milliseconds(0);
  // Compared in seconds first: a year-9999 date in system_clock's
  // nanoseconds would overflow.
  if (when - now_t >= cap_secs) return max_retry_after;
  const auto at = std::chrono::system_clock::from_time_t(when);
  if (at <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
}

rate_limiter::rate_limiter(double rate, double burst)
    : max_rate_(rate), rate_(rate), burst_(std::max(burst, 1.0)),
      tokens_(rate > 0 ? std::min(std::max(burst, 1.0), std::max(rate, 1.0)) : std::max(burst, 1.0)),
      last_(clock::now()) {
  // Slow start only where the burst is more than one second's worth: with
  // burst <= rate (Google's 1/s, burst 1) a bonus token would let a request
  // follow the previous one at once.
  probing_ = rate > 0 && burst_ > std::max(rate, 1.0);
}

void rate_limiter::refill(clock::time_point t) {
  const double secs = std::chrono::duration<double>(t - last_).count();
  tokens_ = std::min(burst_, tokens_ + secs * rate_);
  last_ = t;
}

void rate_limiter::acquire(double cost) {
  for (;;) {
    clock::duration wait{};
    {
      std::lock_guard lock(mu_);
      const auto t = clock::now();
      if (t < paused_until_) {
        wait = paused_until_ - t;
      } else if (rate_ <= 0) {
        return;
      } else {
        refill(t);
        if (tokens_ >= cost) {
          tokens_ -= cost;
          return;
        }
        wait = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>((cost - tokens_) / rate_));
      }
    }
    std::this_thread::sleep_for(std::max(wait, clock::duration(std::chrono::microseconds(200))));
  }
}

void rate_limiter::pause_for(std::chrono::milliseconds d) {
  std::lock_guard lock(mu_);
  paused_until_ = std::max(paused_until_, clock::now() + d);
  tokens_ = 0; // start slowly after the pause
  last_ = paused_until_;
}

void rate_limiter::throttled() {
  std::lock_guard lock(mu_);
  probing_ = false;
  if (max_rate_ <= 0) return;
  const auto t = clock::now();
  if (halved_at_ != clock::time_point{} && t - halved_at_ < std::chrono::seconds(1)) return;
  halved_at_ = t;
  refill(std::max(t, last_));
  rate_ = std::max(rate_ / 2, max_rate_ / 64);
  tokens_ = 0;
}

void rate_limiter::accepted(double cost) {
  std::lock_guard lock(mu_);
  if (max_rate_ <= 0) return;
  rate_ = std::min(max_rate_, rate_ + cost / 10);
  if (probing_) tokens_ = std::min(burst_, tokens_ + cost);
}

double rate_limiter::available() {
  std::lock_guard lock(mu_);
  refill(std::max(clock::now(), last_));
  return tokens_;
}

double rate_limiter::rate() {
  std::lock_guard lock(mu_);
  return rate_;
}

} // namespace reclaim::http
