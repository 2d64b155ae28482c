#pragma once
// Child processes of `sluice demo`: the same binary started as `sim`, `gateway` or `load`, each
// with its own log, stopped and reaped before the demo exits. Used from the demo's main thread
// only.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sluice::cli::demo {

class ChildProcess {
 public:
  // Starts `exe args...` with stdin from /dev/null, stderr (and stdout unless `pipe_stdout`) to
  // `log`. The child gets the default signal mask and SIGTERM when the demo dies, so even a
  // SIGKILLed demo leaves nothing behind. Throws std::runtime_error when fork or the log fails.
  static ChildProcess spawn(const std::string& exe, const std::vector<std::string>& args,
                            const std::filesystem::path& log, bool pipe_stdout = false);

  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // stops the process if it still runs

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::filesystem::path& log() const { return log_; }
  // The read end of the child's stdout when spawned with `pipe_stdout`, else -1.
  int stdout_fd() const { return stdout_fd_; }

  // Reaps the child if it has exited; returns its exit code (128 + signal when killed).
  std::optional<int> poll();
  // Waits up to `timeout` for the child to exit.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  void signal(int sig) const;
  // SIGTERM, then SIGKILL after `grace`; always reaps. Returns the exit code.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // Waits until the log has a line containing `marker` and returns the rest of that line's first
  // word after it (e.g. the URL after "listening on "). Throws with the log's tail when the child
  // exits or `timeout` passes first.
  std::string wait_for_log(const std::string& marker, std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::optional<int> exit_code_;
  std::string name_;
  std::filesystem::path log_;
};

// The last `max_lines` lines of a file, for error messages.
std::string tail_of(const std::filesystem::path& file, int max_lines = 15);

}  // namespace sluice::cli::demo
