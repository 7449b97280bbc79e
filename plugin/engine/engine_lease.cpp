// engine_lease.cpp — the per-process engine lease (flock on a file of one's
// own). flock, not fcntl locks: they belong to the open file, so another
// thread of the same process probing a peer's file cannot release our own.
#include "engine/engine_lease.hpp"

#include "base/private_files.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <stdexcept>
#include <sys/file.h>
#include <unistd.h>

namespace reclaim {

engine_lease::engine_lease(const std::filesystem::path &state_dir) {
  const auto dir = state_dir / "engines";
  files::ensure_private_dir(dir);
  std::random_device rd;
  name_ = fmt::format("{}-{:08x}{:08x}.lock", ::getpid(), rd(), rd());
  path_ = dir / name_;
  // Locked under a name peers do not probe, then renamed: a peer must never
  // find the file unlocked and take its owner for dead.
  const auto tmp = dir / (name_ + ".new");
  fd_ = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error(fmt::format("{}: {}", tmp.string(), std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0 || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int e = errno;
    ::close(fd_);
    ::unlink(tmp.c_str());
    throw std::runtime_error(fmt::format("{}: {}", path_.string(), std::strerror(e)));
  }
}

engine_lease::~engine_lease() {
  ::unlink(path_.c_str());
  ::close(fd_);
}

int live_engines(const std::filesystem::path &state_dir, const std::string &own, int *dead) noexcept {
  int live = 0;
  try {
    std::error_code ec;
    for (const auto &e : std::filesystem::directory_iterator(state_dir / "engines", ec)) {
      const auto name = e.path().filename().string();
      if (name == own || !name.ends_with(".lock")) continue;
      const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0) continue; // removed meanwhile
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
        // Its process is gone: nobody can lock this file again (only its
        // owner ever locked it, and it is unlinked while we hold it).
        ::unlink(e.path().c_str());
        if (dead) ++*dead;
      } else {
        ++live;
      }
      ::close(fd);
    }
  } catch (...) {
  }
  return live;
}

} // namespace reclaim
