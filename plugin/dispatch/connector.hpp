// connector.hpp — what the scheduler asks of a connector: perform due
// actions, checking current state first, so that a retry or a replay after a
// crash never repeats the external effect (DESIGN.md decision 3). A
// connector may take several due actions at once (Graph $batch); each gets
// its own result.
#pragma once

#include "store/plan_store.hpp"
#include "policy/policy_model.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace reclaim {

struct connector_result {
  enum class outcome { done, already_done, transient, permanent };
  outcome what = outcome::done;
  std::string message;      // the vendor's words on failure; a summary on success
  std::string before_image; // JSON of what was taken away, for restores
  // The vendor asked us to wait this long (429/503 Retry-After): the action's
  // next attempt is due then, instead of the scheduler's own backoff.
  std::optional<std::chrono::milliseconds> retry_after{};
};

class connector {
public:
  virtual ~connector() = default;
  virtual connector_result execute(const action_row &action, const application &app) = 0;

  // How many due actions this connector takes in one call.
  virtual size_t batch_size() const { return 1; }
  // One result per action, in order. The default runs them one by one.
  virtual std::vector<connector_result> execute_batch(const std::vector<action_row> &actions,
                                                      const std::vector<const application *> &apps) {
    std::vector<connector_result> out;
    for (size_t i = 0; i < actions.size(); ++i) out.push_back(execute(actions[i], *apps[i]));
    return out;
  }
  // notify targets (finance, itsm, manager, owner) this connector delivers.
  virtual std::vector<std::string> notify_targets() const { return {}; }
};

} // namespace reclaim
