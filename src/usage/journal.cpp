#include "sluice/usage/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sluice/core/logging.hpp"
#include "sluice/core/thread_name.hpp"

namespace sluice::usage {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

int open_segment(const std::filesystem::path& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

}  // namespace

std::filesystem::path Journal::segment_path(const std::filesystem::path& directory,
                                            std::uint64_t sequence) {
  char name[48];
  std::snprintf(name, sizeof name, "usage-%016" PRIu64 ".log", sequence);
  return directory / name;
}

std::vector<std::uint64_t> Journal::list_segments(const std::filesystem::path& directory) {
  std::vector<std::uint64_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    auto name = entry.path().filename().string();
    if (name.size() != 26 || !name.starts_with("usage-") || !name.ends_with(".log")) continue;
    std::uint64_t sequence = 0;
    bool digits = true;
    for (char c : name.substr(6, 16)) {
      if (c < '0' || c > '9') digits = false;
      sequence = sequence * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (digits) out.push_back(sequence);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Journal::Journal(JournalSettings settings) : settings_(std::move(settings)) {
  std::error_code ec;
  std::filesystem::create_directories(settings_.directory, ec);
  if (ec) {
    throw std::runtime_error("usage journal: cannot create " + settings_.directory.string() + ": " +
                             ec.message());
  }
  auto lock_path = settings_.directory / "journal.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd_ < 0) {
    throw std::runtime_error("usage journal: cannot open " + lock_path.string() + ": " +
                             errno_text());
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    throw std::runtime_error("usage journal: " + settings_.directory.string() +
                             " is in use by another sluice process (each gateway needs its own "
                             "journal directory)");
  }
  auto existing = list_segments(settings_.directory);
  std::uint64_t sequence = existing.empty() ? 1 : existing.back() + 1;
  auto path = segment_path(settings_.directory, sequence);
  fd_ = open_segment(path);
  if (fd_ < 0) {
    ::close(lock_fd_);
    throw std::runtime_error("usage journal: cannot open " + path.string() + ": " + errno_text());
  }
  active_.store(sequence);
  append_end_ = {sequence, 0};
  // Every older segment belongs to a process that is gone: sealed.
  sealed_below_.store(sequence);
  thread_ = std::thread([this] {
    core::name_this_thread("usage-journal");
    run();
  });
}

Journal::~Journal() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (retired_fd_ >= 0) {
    ::fdatasync(retired_fd_);
    ::close(retired_fd_);
  }
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

bool Journal::append(std::string_view line, JournalSpan* span, std::size_t records) noexcept {
  ssize_t written = -1;
  {
    std::lock_guard lock(append_mutex_);
    if (line.empty()) {
      errno = EINVAL;  // the caller could not build the record
    } else {
      do {
        written = ::write(fd_, line.data(), line.size());
      } while (written < 0 && errno == EINTR);
    }
    auto landed = written > 0 ? static_cast<std::uint64_t>(written) : 0;
    auto segment = active_.load(std::memory_order_relaxed);
    auto offset = active_bytes_.load(std::memory_order_relaxed) + landed;
    active_bytes_.store(offset, std::memory_order_relaxed);
    if (span) span->previous = append_end_;
    // Nothing landed: this append left no trace, the next one follows the previous one.
    if (landed > 0) append_end_ = {segment, offset};
    if (span) span->end = append_end_;
  }
  if (written != static_cast<ssize_t>(line.size())) {
    // A short write leaves a torn line that the shipper skips; never retry the remainder, it could
    // land after another thread's record.
    const auto before = stats_.append_failures.fetch_add(records, std::memory_order_relaxed);
    const auto failures = before + records - 1;  // the count before this write's last record
    // Logged when a failure count of 0 or a power of two is among this write's: bounded volume.
    if (before == 0 || std::bit_floor(failures) >= before) {
      static auto log = core::get_logger("usage");
      log->error("usage journal: cannot append to {}: {} ({} records lost so far)",
                 settings_.directory.string(),
                 written < 0 ? errno_text() : std::string("short write"), failures + 1);
    }
    return false;
  }
  stats_.appended.fetch_add(records, std::memory_order_relaxed);
  stats_.writes.fetch_add(1, std::memory_order_relaxed);
  stats_.bytes.fetch_add(line.size(), std::memory_order_relaxed);
  return true;
}

void Journal::sync() {
  if (::fdatasync(fd_) == 0) {
    stats_.syncs.fetch_add(1, std::memory_order_relaxed);
  } else {
    stats_.sync_failures.fetch_add(1, std::memory_order_relaxed);
  }
}

void Journal::roll() {
  auto next = active_.load() + 1;
  auto path = segment_path(settings_.directory, next);
  int fresh = open_segment(path);
  if (fresh < 0) {
    static auto log = core::get_logger("usage");
    log->error("usage journal: cannot open {}: {}; still appending to segment {}", path.string(),
               errno_text(), active_.load());
    return;
  }
  int previous = ::dup(fd_);
  {
    // Under the append lock, so every append knows which segment it landed in.
    std::lock_guard lock(append_mutex_);
    ::dup2(fresh, fd_);
    active_bytes_.store(0);
    active_.store(next, std::memory_order_release);
  }
  ::close(fresh);
  if (retired_fd_ >= 0) ::close(retired_fd_);
  retired_fd_ = previous;
  rolled_at_ = std::chrono::steady_clock::now();
}

void Journal::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, settings_.sync_interval, [this] { return stopping_; });
    if (stopping_) break;
    auto bytes = stats_.bytes.load(std::memory_order_relaxed);
    if (bytes != synced_bytes_) {
      if (retired_fd_ >= 0) ::fdatasync(retired_fd_);
      sync();
      synced_bytes_ = bytes;
    }
    auto active = active_.load();
    if (sealed_below_.load() < active &&
        std::chrono::steady_clock::now() - rolled_at_ >= settings_.seal_grace) {
      if (retired_fd_ >= 0) {
        ::fdatasync(retired_fd_);
        ::close(retired_fd_);
        retired_fd_ = -1;
      }
      sealed_below_.store(active, std::memory_order_release);
    }
    if (active_bytes_.load(std::memory_order_relaxed) >= settings_.segment_bytes &&
        sealed_below_.load() == active) {
      roll();
    }
  }
}

}  // namespace sluice::usage
