// group_commit.cpp — the committer thread: takes everything queued (at most
// max_batch changes; no extra wait, what arrives during one commit forms the
// next batch), BEGIN, the updates, reclaim_submit_batch, COMMIT, then
// releases the waiting handlers. A failed batch fails every queued change
// and drops the view, so nothing is built on a change that was not kept.
#include "group_commit.hpp"

#include <chrono>
#include <exception>
#include <thread>
#include <stdexcept>
#include <string>

namespace reclaim::scimd {
namespace {

constexpr std::size_t max_batch = 64;

// A new exception of the same kind (the service answers engine and store
// failures with 503, anything else as an internal error) and message.
std::exception_ptr copy_of(const std::exception_ptr &failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const engine_error &e) {
    return std::make_exception_ptr(engine_error(e.what()));
  } catch (const store_error &e) {
    return std::make_exception_ptr(store_error(e.what()));
  } catch (const std::exception &e) {
    return std::make_exception_ptr(std::runtime_error(e.what()));
  } catch (...) {
    return std::make_exception_ptr(std::runtime_error("the group commit failed"));
  }
}

} // namespace

group_commit::group_commit(const std::filesystem::path &state_dir, engine_lib *engine)
    : store_(state_dir), engine_(engine), thread_([this] { run(); }) {}

group_commit::~group_commit() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

group_commit::viewed group_commit::view(resource_kind kind, const std::string &id, resource_store &read) {
  viewed v;
  {
    std::lock_guard lock(mu_);
    v.generation = generation_;
    auto it = pending_.find(key{kind, id});
    if (it != pending_.end()) {
      v.resource = it->second.first;
      v.queued = true;
      return v;
    }
  }
  // Not queued, and only our caller (holding its lock) queues: the
  // committed store is the view. The committer erases an entry only after
  // its commit, so the row read here is never older than the view.
  v.resource = read.get(kind, id);
  return v;
}

std::future<void> group_commit::commit(std::uint64_t generation, resource_kind kind, stored_resource after,
                                       std::optional<mapped_event> event, std::string actor) {
  auto c = std::make_unique<change>();
  c->kind = kind;
  c->after = std::move(after);
  c->event = std::move(event);
  c->actor = std::move(actor);
  auto done = c->done.get_future();
  {
    std::lock_guard lock(mu_);
    if (generation != generation_) throw store_error("a concurrent change of the resource failed to commit");
    if (stop_) throw store_error("shutting down");
    c->seq = next_seq_++;
    pending_[key{kind, c->after.id}] = {c->after, c->seq};
    queue_.push_back(std::move(c));
  }
  wake_.notify_one();
  return done;
}

void group_commit::drain() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void group_commit::run() {
  // Nothing may leave this thread (std::terminate would end reclaim-scimd
  // with every handler still waiting): a batch that cannot even be taken
  // is failed like one whose commit failed.
  for (;;) {
    std::vector<std::unique_ptr<change>> batch;
    try {
      batch.reserve(max_batch); // so taking changes below cannot throw
    } catch (...) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return; // stop_, nothing left
      while (!queue_.empty() && batch.size() < max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      busy_ = true;
    }
    try {
      write(batch);
    } catch (...) {
      // Only the answering itself can get here (an allocation); a change
      // whose promise was not set answers its handler with broken_promise
      // when the batch is destroyed, which the server turns into an error.
    }
    batch.clear();
    {
      std::lock_guard lock(mu_);
      busy_ = false;
    }
    idle_.notify_all();
  }
}

void group_commit::write(std::vector<std::unique_ptr<change>> &batch) {
  std::exception_ptr failure;
  try {
    store_.begin();
    try {
      std::vector<engine_lib::batch_item> events;
      for (const auto &c : batch) {
        store_.update(c->kind, c->after);
        if (c->event) events.push_back({&*c->event, &c->actor});
      }
      if (engine_ != nullptr) engine_->submit_batch(events, "scim");
      store_.commit();
    } catch (...) {
      store_.rollback();
      throw;
    }
  } catch (...) {
    failure = std::current_exception();
  }
  std::vector<std::unique_ptr<change>> failed;
  {
    std::lock_guard lock(mu_);
    if (failure) {
      // Everything queued after this batch may have been computed on its
      // changes: fail it too, and start a new view.
      while (!queue_.empty()) {
        failed.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      pending_.clear();
      ++generation_;
    } else {
      for (const auto &c : batch) {
        auto it = pending_.find(key{c->kind, c->after.id});
        if (it != pending_.end() && it->second.second == c->seq) pending_.erase(it);
      }
    }
  }
  if (!failure) {
    for (auto &c : batch) c->done.set_value();
    return;
  }
  // Each waiting handler gets an exception of its own (same type, same
  // message): they rethrow and destroy it on their own threads, and one
  // shared exception object is freed by whichever thread finishes last, a
  // race ThreadSanitizer reports.
  for (auto &c : batch) c->done.set_exception(copy_of(failure));
  for (auto &c : failed) c->done.set_exception(copy_of(failure));
}

} // namespace reclaim::scimd
