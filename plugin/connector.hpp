// connector.hpp — what the scheduler asks of a connector: perform one
// action, checking current state first, so that a retry or a replay after a
// crash never repeats the external effect (DESIGN.md decision 3).
#pragma once

#include "plan_store.hpp"
#include "policy_config.hpp"

#include <string>

namespace reclaim {

struct connector_result {
  enum class outcome { done, already_done, transient, permanent };
  outcome what = outcome::done;
  std::string message;      // the vendor's words on failure; a summary on success
  std::string before_image; // JSON of what was taken away, for restores
};

class connector {
public:
  virtual ~connector() = default;
  virtual connector_result execute(const action_row &action, const application &app) = 0;
};

} // namespace reclaim
