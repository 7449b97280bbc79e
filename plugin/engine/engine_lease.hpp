// engine_lease.hpp — which processes run the engine on one state_dir. Each
// process that plans and dispatches holds an exclusive flock on its own file
// in <state_dir>/engines/; a process killed -9 loses it at once (the kernel
// drops the lock), so the others can tell a live peer from a dead one.
#pragma once

#include <filesystem>
#include <string>

namespace reclaim {

class engine_lease {
public:
  // Creates and locks <state_dir>/engines/<pid>-<random>.lock.
  explicit engine_lease(const std::filesystem::path &state_dir);
  ~engine_lease(); // unlinks and unlocks
  engine_lease(const engine_lease &) = delete;
  engine_lease &operator=(const engine_lease &) = delete;

  const std::string &name() const { return name_; }

private:
  std::filesystem::path path_;
  std::string name_;
  int fd_ = -1;
};

// Live engine processes on the state_dir other than the one named own
// (empty: count all). Files of dead ones are removed; adds their number to
// *dead when given. Never throws (a directory that cannot be read counts as
// no peers).
int live_engines(const std::filesystem::path &state_dir, const std::string &own, int *dead = nullptr) noexcept;

} // namespace reclaim
