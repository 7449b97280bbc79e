// reclaimctl_forget.hpp — the body of `reclaimctl audit forget SUBJECT`:
// refuse under a legal hold, scrub the person from every SQLite store under
// state_dir (secure_delete, VACUUM, WAL truncated), delete their pseudonym
// and key, and record the forget without personal data (docs/audit.md).
#pragma once

#include "base/log.hpp"
#include "config/config.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace reclaim::ctl {

// A forget reclaim will not do (a legal hold, open actions, an ambiguous
// DN): exit code 2, nothing changed.
class forget_refused : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct forget_report {
  std::string subject_id;
  std::string pseudonym; // the forgotten random pseudonym ("" when none was held)
  int64_t events = 0, plans = 0, actions = 0, other_rows = 0;
  bool legacy_key = false; // an hs256 key of an older log was deleted too
};

// subject: the subject id (entryUUID) or a DN in any spelling. Throws
// forget_refused, std::out_of_range (unknown subject) or another
// std::exception; in each case nothing was changed.
forget_report forget_person(const config &cfg, const std::string &subject, const std::string &actor,
                            const logger &log, std::chrono::milliseconds outbox_wait = std::chrono::seconds(10));

} // namespace reclaim::ctl
