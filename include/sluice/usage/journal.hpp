#pragma once
// The usage journal: a local append-only log of usage records, the durable step between a request
// and the usage store (DESIGN.md "Usage": records are durable before the response completes; the
// database is never in the request path).
//
// A journal is a directory of segments `usage-<16-digit sequence>.log`, each a series of JSON lines
// (usage_record.hpp). Appending one or more records is one write() on a file opened O_APPEND, from
// any thread, with no lock needed for the bytes themselves: the kernel orders concurrent appends to
// a regular file, and a record written with write() survives the process being killed (it is in the
// page cache). A background thread makes it survive power loss too, with one fdatasync() every
// `sync_interval` (batched, never per record), and rolls to a new segment when the active one
// reaches `segment_bytes`.
//
// Rolling keeps the file descriptor number the request path writes to and swaps the file behind
// it (dup2), so appends never see a closed descriptor. An append that started just before a roll
// may still land in the old segment; a segment becomes "sealed" `seal_grace` after the roll, and
// only sealed segments may be deleted by the shipper (shipper.hpp).
//
// One process owns a directory at a time (an flock on `journal.lock`); a second gateway pointed at
// the same directory fails at startup with a clear error. A new process always starts a fresh
// segment, so a record torn by a crash stays at the end of a sealed segment.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace sluice::usage {

struct JournalSettings {
  std::filesystem::path directory;
  std::uint64_t segment_bytes = 64ull << 20;
  std::chrono::milliseconds sync_interval{100};
  std::chrono::milliseconds seal_grace{2000};
};

// A place in the journal: a byte offset in a segment. Ordered by segment, then offset.
struct JournalPosition {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  auto operator<=>(const JournalPosition&) const = default;
};

// Where one append landed: `end` is just after its last byte, `previous` is where the append
// before it ended (in an earlier segment for the first append after a roll). A reader that has
// consumed the journal up to `previous` has consumed it up to `end` once it has this append.
struct JournalSpan {
  JournalPosition previous;
  JournalPosition end;
};

struct JournalStats {
  std::atomic<std::uint64_t> appended{0};         // records written
  std::atomic<std::uint64_t> append_failures{0};  // write() failed or was short (disk full)
  std::atomic<std::uint64_t> bytes{0};            // bytes written by this process
  std::atomic<std::uint64_t> writes{0};           // write() calls that wrote records
  std::atomic<std::uint64_t> syncs{0};
  std::atomic<std::uint64_t> sync_failures{0};
};

class Journal {
 public:
  // Creates the directory if needed, takes its lock and opens a fresh segment. Throws
  // std::runtime_error naming the path on any failure (startup only).
  explicit Journal(JournalSettings settings);
  // Syncs what was written and stops the background thread.
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one or more complete record lines (each ending in '\n'; `records` of them) with a
  // single write(). Any thread; holds a lock for the write() only. Returns false (and counts the
  // records as failed) when the write failed or was short. `written`, when given, receives where
  // the bytes landed (also after a short write, so a reader sees the gap).
  bool append(std::string_view lines, JournalSpan* written = nullptr,
              std::size_t records = 1) noexcept;

  // Segments with a sequence number below this are sealed: nothing more can be appended to them.
  std::uint64_t sealed_below() const noexcept {
    return sealed_below_.load(std::memory_order_acquire);
  }
  std::uint64_t active_segment() const noexcept { return active_.load(std::memory_order_acquire); }
  const std::filesystem::path& directory() const noexcept { return settings_.directory; }
  const JournalStats& stats() const noexcept { return stats_; }

  // fdatasync now (tests, shutdown). Any thread.
  void sync();

  static std::filesystem::path segment_path(const std::filesystem::path& directory,
                                            std::uint64_t sequence);
  // Sequence numbers of the segments in `directory`, ascending. Missing directory: empty.
  static std::vector<std::uint64_t> list_segments(const std::filesystem::path& directory);

 private:
  void run();
  void roll();

  JournalSettings settings_;
  JournalStats stats_;
  int fd_ = -1;  // the descriptor appends write to; the file behind it changes on roll
  int lock_fd_ = -1;
  int retired_fd_ = -1;  // the previous segment, synced and closed one tick after a roll
  std::atomic<std::uint64_t> active_{0};
  std::atomic<std::uint64_t> sealed_below_{0};
  std::atomic<std::uint64_t> active_bytes_{0};
  std::mutex append_mutex_;     // orders appends against each other and against roll()
  JournalPosition append_end_;  // where the last append ended; under append_mutex_
  std::chrono::steady_clock::time_point rolled_at_{};
  std::uint64_t synced_bytes_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::usage
