// journal.hpp — reads reclaim's journal the way an operator does, through
// `reclaimctl --config TOML events list --json`, and polls it: journalling is
// asynchronous, so tests wait for the expected events and then for a quiet
// period in which nothing else may appear.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace reclaim::test {

struct journal_event {
  std::int64_t seq = 0;
  std::string time;
  std::string subject_id;
  std::string subject_name;
  std::string source;
  std::string previous_state;
  std::string state;
  std::string idempotency_key;
  std::string actor; // "" when null
  nlohmann::json attributes;
  nlohmann::json raw; // the whole object as reclaimctl printed it

  std::string describe() const; // one line for messages
};

std::string describe(const std::vector<journal_event> &events);

// Default waits, overridable by RECLAIM_TEST_TIMEOUT_MS / RECLAIM_TEST_QUIET_MS.
std::chrono::milliseconds default_timeout();
std::chrono::milliseconds default_quiet();

class journal {
public:
  journal(std::filesystem::path reclaimctl, std::filesystem::path config);

  // The whole journal; throws std::runtime_error with reclaimctl's output
  // when it fails or prints something that is not a JSON array of events.
  std::vector<journal_event> read() const;
  // As read(), but reports failure through error instead of throwing.
  bool try_read(std::vector<journal_event> &out, std::string &error) const;

  // Polls until read() succeeds (the plugin has created the journal).
  std::vector<journal_event> wait_readable(std::chrono::milliseconds timeout = default_timeout()) const;

  // The highest seq in the journal, 0 when empty.
  std::int64_t last_seq() const;
  // last_seq() once two reads 50 ms apart agree: the plugin journals a
  // change shortly after the client got its result, so a mark taken right
  // after an operation must wait for that operation's event.
  std::int64_t settled_seq(std::chrono::milliseconds timeout = default_timeout()) const;

  // Polls until at least count events with seq > after exist (or timeout),
  // then keeps reading for the quiet period and returns every event with
  // seq > after, in seq order. The caller asserts the exact list.
  std::vector<journal_event> wait_after(std::int64_t after, std::size_t count,
                                        std::chrono::milliseconds timeout = default_timeout(),
                                        std::chrono::milliseconds quiet = default_quiet()) const;

private:
  std::filesystem::path reclaimctl_;
  std::filesystem::path config_;
};

} // namespace reclaim::test
