// process.cpp — fork/exec with pipes and timeouts for the test harness. Only
// async-signal-safe calls run between fork and exec; the environment for the
// child is prepared before forking.
#include "process.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace reclaim::test {
namespace {

using clock = std::chrono::steady_clock;

std::vector<char *> to_c_argv(const std::vector<std::string> &argv) {
  std::vector<char *> result;
  result.reserve(argv.size() + 1);
  for (const auto &arg : argv) {
    result.push_back(const_cast<char *>(arg.c_str()));
  }
  result.push_back(nullptr);
  return result;
}

std::vector<std::string> merged_environment(const std::vector<std::string> &extra) {
  std::vector<std::string> env;
  for (char **entry = environ; *entry != nullptr; ++entry) {
    std::string item(*entry);
    const auto equals = item.find('=');
    if (equals == std::string::npos) {
      continue;
    }
    const auto name = item.substr(0, equals + 1);
    bool overridden = false;
    for (const auto &e : extra) {
      overridden = overridden || e.rfind(name, 0) == 0;
    }
    if (!overridden) {
      env.push_back(std::move(item));
    }
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

[[noreturn]] void exec_child(const std::vector<std::string> &argv, char **envp) {
  auto c_argv = to_c_argv(argv);
  ::execvpe(c_argv[0], c_argv.data(), envp);
  static const char message[] = "exec failed\n";
  (void)!::write(2, message, sizeof message - 1);
  ::_exit(127);
}

} // namespace

std::string describe_command(const std::vector<std::string> &argv) {
  std::string text;
  for (const auto &arg : argv) {
    if (!text.empty()) {
      text += ' ';
    }
    if (arg.find_first_of(" \t'\"\\$") == std::string::npos && !arg.empty()) {
      text += arg;
    } else {
      text += '\'';
      for (char c : arg) {
        text += c == '\'' ? std::string("'\\''") : std::string(1, c);
      }
      text += '\'';
    }
  }
  return text;
}

process_result run_process(const std::vector<std::string> &argv,
                           std::chrono::milliseconds timeout,
                           const std::vector<std::string> &extra_env) {
  if (argv.empty()) {
    throw std::invalid_argument("run_process: empty argv");
  }
  auto env = merged_environment(extra_env);
  auto c_env = to_c_argv(env);
  std::array<int, 2> out_pipe{};
  std::array<int, 2> err_pipe{};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0 || ::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
    }
    exec_child(argv, c_env.data());
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  process_result result;
  const auto deadline = clock::now() + timeout;
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  int open_fds = 2;
  std::array<char, 65536> buffer{};
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      const ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto &fd : fds) {
    if (fd.fd >= 0) {
      ::close(fd.fd);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = result.timed_out ? -1 : decode_status(status);
  return result;
}

pid_t spawn_process(const std::vector<std::string> &argv, const std::string &log_path) {
  if (argv.empty()) {
    throw std::invalid_argument("spawn_process: empty argv");
  }
  auto env = merged_environment({});
  auto c_env = to_c_argv(env);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) {
    throw std::runtime_error("cannot open " + log_path + ": " + std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::dup2(log, 1);
    ::dup2(log, 2);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
    }
    exec_child(argv, c_env.data());
  }
  ::close(log);
  return pid;
}

int wait_process(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return decode_status(status);
    }
    if (r < 0 && errno == ECHILD) {
      // Not our child (no subreaper): fall back to watching it disappear.
      if (!process_alive(pid)) {
        return 0;
      }
    }
    if (clock::now() >= deadline) {
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool process_alive(pid_t pid) {
  if (::kill(pid, 0) != 0) {
    return errno == EPERM;
  }
  // A zombie still answers kill(0); it has exited all the same.
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  std::array<char, 512> buffer{};
  const ssize_t n = ::read(fd, buffer.data(), buffer.size() - 1);
  ::close(fd);
  if (n <= 0) {
    return false;
  }
  const std::string stat(buffer.data(), static_cast<std::size_t>(n));
  const auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

} // namespace reclaim::test
