// group_commit.hpp — group commit of resource updates (issue 16): request
// handlers compute a change against view() and wait in commit(); one
// committer thread writes everything queued in one scim.sqlite3 transaction
// (its own connection) and one reclaim_submit_batch, then releases them all.
// Changes not yet committed are kept in a write-through view, so a second
// change of the same resource builds on the first.
#pragma once

#include "engine_lib.hpp"
#include "resource_store.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace reclaim::scimd {

class group_commit {
public:
  // Opens a second connection on <state_dir>/scim.sqlite3 for the writes.
  // engine may be null (tests without events).
  group_commit(const std::filesystem::path &state_dir, engine_lib *engine);
  ~group_commit(); // commits what is queued, then joins the committer
  group_commit(const group_commit &) = delete;
  group_commit &operator=(const group_commit &) = delete;

  struct viewed {
    std::optional<stored_resource> resource;
    std::uint64_t generation = 0; // pass to commit()
    bool queued = false;          // resource is a change not yet durable
  };
  // The resource as the queued changes leave it; `read` is the committed
  // store (the caller's connection, under the caller's lock).
  viewed view(resource_kind kind, const std::string &id, resource_store &read);

  // Queues the update (and its event) and waits until both are durable.
  // Callers serialise view()+commit() (the service's lock) but release that
  // lock while waiting: commit() returns a future to wait on. Throws
  // store_error when the view it was computed on was dropped by a failed batch.
  std::future<void> commit(std::uint64_t generation, resource_kind kind, stored_resource after,
                           std::optional<mapped_event> event, std::string actor);

  // Waits until nothing is queued or being committed (writes that bypass
  // the committer call it first, under the service's lock).
  void drain();

private:
  struct change {
    resource_kind kind;
    stored_resource after;
    std::optional<mapped_event> event;
    std::string actor;
    std::uint64_t seq = 0;
    std::promise<void> done;
  };
  using key = std::pair<resource_kind, std::string>;

  resource_store store_;
  engine_lib *engine_;
  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<std::unique_ptr<change>> queue_;
  std::map<key, std::pair<stored_resource, std::uint64_t>> pending_; // resource, seq of its last change
  std::uint64_t next_seq_ = 1;
  std::uint64_t generation_ = 1;
  bool busy_ = false, stop_ = false;
  std::thread thread_;

  void run();
  void write(std::vector<std::unique_ptr<change>> &batch);
};

} // namespace reclaim::scimd
