// process.hpp — run helper programs (slapadd, slaptest, reclaimctl) from tests
// and wait for processes that are not our children. Tests start daemons
// (slapd forks and its parent exits), so the test process makes itself a
// child subreaper: the daemon is re-parented to us and can be reaped by pid.
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace reclaim::test {

struct process_result {
  int exit_code = -1;     // exit status, or 128 + signal, or -1 on timeout
  std::string out;        // everything the program wrote to stdout
  std::string err;        // everything the program wrote to stderr
  bool timed_out = false;

  // stdout and stderr together, for messages.
  std::string output() const { return out + err; }
};

// Runs argv[0] (searched in PATH) with extra "NAME=value" environment
// entries, collects its output and waits at most timeout (then kills it).
process_result run_process(const std::vector<std::string> &argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds(60),
                           const std::vector<std::string> &extra_env = {});

// Starts argv with stdout and stderr appended to log_path and returns at
// once with the child's pid (no waiting).
pid_t spawn_process(const std::vector<std::string> &argv, const std::string &log_path);

// Waits for a child (or adopted orphan) to exit; returns its exit code
// (128 + signal when killed), or -1 if it is still running after timeout.
int wait_process(pid_t pid, std::chrono::milliseconds timeout);

// True while pid names a process that has not exited (zombies count as
// exited).
bool process_alive(pid_t pid);

// Makes this process the reaper of its orphaned descendants (Linux
// PR_SET_CHILD_SUBREAPER). Idempotent.
void become_subreaper();

// Quotes argv for messages: "slapd -f '/tmp/x y/slapd.conf'".
std::string describe_command(const std::vector<std::string> &argv);

} // namespace reclaim::test
