// journal.cpp — runs reclaimctl and parses its JSON event list
// (nlohmann-json). Missing optional keys read as "", so a report shows what
// the tool printed rather than failing on the parse.
#include "journal.hpp"

#include "process.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace reclaim::test {
namespace {

using clock = std::chrono::steady_clock;

std::string text_of(const nlohmann::json &object, const char *key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return {};
  }
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::chrono::milliseconds env_ms(const char *name, long fallback) {
  const char *value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::chrono::milliseconds(fallback);
  }
  return std::chrono::milliseconds(std::strtol(value, nullptr, 10));
}

journal_event to_event(const nlohmann::json &object) {
  journal_event e;
  e.raw = object;
  const auto seq = object.find("seq");
  if (seq != object.end() && seq->is_number_integer()) {
    e.seq = seq->get<std::int64_t>();
  }
  e.time = text_of(object, "time");
  e.subject_id = text_of(object, "subject_id");
  e.subject_name = text_of(object, "subject_name");
  e.source = text_of(object, "source");
  e.previous_state = text_of(object, "previous_state");
  e.state = text_of(object, "state");
  e.idempotency_key = text_of(object, "idempotency_key");
  e.actor = text_of(object, "actor");
  const auto attributes = object.find("attributes");
  if (attributes != object.end()) {
    e.attributes = *attributes;
  }
  return e;
}

} // namespace

std::string journal_event::describe() const {
  std::ostringstream s;
  s << "#" << seq << " " << source << " " << previous_state << " -> " << state << " id="
    << subject_id << " name=\"" << subject_name << "\" key=" << idempotency_key;
  if (!actor.empty()) {
    s << " actor=\"" << actor << "\"";
  }
  return s.str();
}

std::string describe(const std::vector<journal_event> &events) {
  if (events.empty()) {
    return "  (no events)\n";
  }
  std::string text;
  for (const auto &e : events) {
    text += "  " + e.describe() + "\n";
  }
  return text;
}

std::chrono::milliseconds default_timeout() { return env_ms("RECLAIM_TEST_TIMEOUT_MS", 10000); }
std::chrono::milliseconds default_quiet() { return env_ms("RECLAIM_TEST_QUIET_MS", 300); }

journal::journal(std::filesystem::path reclaimctl, std::filesystem::path config)
    : reclaimctl_(std::move(reclaimctl)), config_(std::move(config)) {}

bool journal::try_read(std::vector<journal_event> &out, std::string &error) const {
  const std::vector<std::string> argv = {reclaimctl_.string(), "--config", config_.string(),
                                         "events", "list", "--json"};
  const auto r = run_process(argv, std::chrono::seconds(30));
  if (r.exit_code != 0) {
    error = describe_command(argv) + " exited " + std::to_string(r.exit_code) + ": " + r.output();
    return false;
  }
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(r.out);
  } catch (const std::exception &e) {
    error = describe_command(argv) + " printed no JSON (" + e.what() + "): " + r.out;
    return false;
  }
  if (!parsed.is_array()) {
    error = describe_command(argv) + " printed JSON that is not an array: " + r.out;
    return false;
  }
  out.clear();
  for (const auto &item : parsed) {
    out.push_back(to_event(item));
  }
  // reclaimctl lists events in the order they happened (entryCSN time and
  // order), which is what per-subject order is checked against; seq is the
  // order of arrival, which concurrent callbacks can invert.
  return true;
}

std::vector<journal_event> journal::read() const {
  std::vector<journal_event> events;
  std::string error;
  if (!try_read(events, error)) {
    throw std::runtime_error(error);
  }
  return events;
}

std::vector<journal_event> journal::wait_readable(std::chrono::milliseconds timeout) const {
  const auto deadline = clock::now() + timeout;
  std::vector<journal_event> events;
  std::string error;
  while (!try_read(events, error)) {
    if (clock::now() >= deadline) {
      throw std::runtime_error("journal not readable after " + std::to_string(timeout.count()) +
                               " ms: " + error);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return events;
}

std::int64_t journal::last_seq() const {
  std::int64_t last = 0;
  for (const auto &e : read()) last = std::max(last, e.seq);
  return last;
}

std::int64_t journal::settled_seq(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::int64_t last = last_seq();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::int64_t now_seq = last_seq();
    if (now_seq == last || std::chrono::steady_clock::now() > deadline) return now_seq;
    last = now_seq;
  }
}

std::vector<journal_event> journal::wait_after(std::int64_t after, std::size_t count,
                                               std::chrono::milliseconds timeout,
                                               std::chrono::milliseconds quiet) const {
  const auto newer = [after](std::vector<journal_event> events) {
    events.erase(std::remove_if(events.begin(), events.end(),
                                [after](const journal_event &e) { return e.seq <= after; }),
                 events.end());
    return events;
  };
  const auto deadline = clock::now() + timeout;
  std::vector<journal_event> events;
  std::string error;
  for (;;) {
    if (try_read(events, error) && newer(events).size() >= count) {
      break;
    }
    if (clock::now() >= deadline) {
      break; // the caller's assertion shows what did (not) arrive
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::this_thread::sleep_for(quiet);
  return newer(read());
}

} // namespace reclaim::test
