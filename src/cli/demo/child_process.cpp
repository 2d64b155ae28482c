#include "cli/demo/child_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace sluice::cli::demo {

namespace fs = std::filesystem;

ChildProcess ChildProcess::spawn(const std::string& exe, const std::vector<std::string>& args,
                                 const fs::path& log, bool pipe_stdout) {
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0)
    throw std::runtime_error("cannot create " + log.string() + ": " + std::strerror(errno));
  int pipe_fds[2] = {-1, -1};
  if (pipe_stdout && ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::close(log_fd);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<std::string> argv_strings;
  argv_strings.push_back(exe);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    // Its own process group: a Ctrl-C reaches the demo only, which stops children in order.
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(pipe_stdout ? pipe_fds[1] : log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ChildProcess child;
  child.pid_ = pid;
  child.log_ = log;
  child.name_ = args.empty() ? exe : args.front();
  if (pipe_stdout) {
    ::close(pipe_fds[1]);
    child.stdout_fd_ = pipe_fds[0];
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept {
  *this = std::move(other);
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !exit_code_) stop();
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    pid_ = std::exchange(other.pid_, -1);
    stdout_fd_ = std::exchange(other.stdout_fd_, -1);
    exit_code_ = std::exchange(other.exit_code_, std::nullopt);
    name_ = std::move(other.name_);
    log_ = std::move(other.log_);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_code_) stop();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::optional<int> ChildProcess::poll() {
  if (pid_ <= 0 || exit_code_) return exit_code_;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else if (r < 0 && errno == ECHILD) {
    exit_code_ = 255;
  }
  return exit_code_;
}

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!poll()) {
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_code_;
}

void ChildProcess::signal(int sig) const {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return 0;
  if (poll()) return *exit_code_;
  signal(SIGTERM);
  if (auto code = wait_for(grace)) return *code;
  signal(SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code_ = 128 + SIGKILL;
  return *exit_code_;
}

std::string ChildProcess::wait_for_log(const std::string& marker,
                                       std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::ifstream in(log_);
    std::string line;
    while (std::getline(in, line)) {
      auto at = line.find(marker);
      if (at == std::string::npos) continue;
      std::string rest = line.substr(at + marker.size());
      return rest.substr(0, rest.find_first_of(" \t\r"));
    }
    if (poll()) {
      throw std::runtime_error("sluice " + name_ + " exited (" + std::to_string(*exit_code_) +
                               ") before it was ready; " + log_.string() + ":\n" + tail_of(log_));
    }
    if (std::chrono::steady_clock::now() >= end) {
      throw std::runtime_error("sluice " + name_ + " not ready after " +
                               std::to_string(timeout.count()) + " ms; " + log_.string() + ":\n" +
                               tail_of(log_));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string tail_of(const fs::path& file, int max_lines) {
  std::ifstream in(file);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "  " + l + "\n";
  return out;
}

}  // namespace sluice::cli::demo
