#include "sluice/usage/shipper.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <vector>

#include "sluice/core/logging.hpp"
#include "sluice/core/thread_name.hpp"

namespace sluice::usage {

namespace {

constexpr std::size_t kChunkBytes = 4u << 20;  // also the longest line accepted
constexpr std::string_view kRecordStart = "{\"request_id\":";

struct FileGuard {
  int fd;
  ~FileGuard() {
    if (fd >= 0) ::close(fd);
  }
};

// A line that does not parse may be a record torn by a crash with the next record appended to it
// (appends from other threads can follow a torn one). Records never contain an unescaped
// kRecordStart inside a string, so each later occurrence is a candidate start.
std::optional<UsageRecord> parse_with_recovery(std::string_view line, bool& damaged) {
  damaged = false;
  if (auto record = parse_record_line(line)) return record;
  damaged = true;
  for (auto at = line.find(kRecordStart, 1); at != std::string_view::npos;
       at = line.find(kRecordStart, at + 1)) {
    if (auto record = parse_record_line(line.substr(at))) return record;
  }
  return std::nullopt;
}

}  // namespace

Shipper::Shipper(std::filesystem::path directory, ShipperSettings settings, const Journal* journal,
                 PendingRecords* pending)
    : directory_(std::move(directory)),
      settings_(std::move(settings)),
      journal_(journal),
      pending_(pending) {}

Shipper::~Shipper() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Shipper::start() {
  if (!thread_.joinable()) {
    thread_ = std::thread([this] {
      core::name_this_thread("usage-shipper");
      run();
    });
  }
}

void Shipper::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

JournalPosition Shipper::read_position() const {
  JournalPosition position;
  std::ifstream in(directory_ / "shipped.offset");
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  if (in >> segment >> offset) position = {segment, offset};
  return position;
}

void Shipper::write_position(JournalPosition position) {
  position_ = position;
  auto path = directory_ / "shipped.offset";
  auto temporary = directory_ / "shipped.offset.tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << position.segment << ' ' << position.offset << '\n';
    if (!out) return;  // the next pass replays; inserts are idempotent
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
}

core::Result<void> Shipper::ensure_store() {
  if (store_) return {};
  auto store = open_store(settings_.store_url);
  if (!store) return store.error();
  store_ = std::move(*store);
  return {};
}

core::Result<std::size_t> Shipper::flush(std::vector<UsageRecord>& batch) {
  if (batch.empty()) return std::size_t{0};
  auto inserted = store_->insert(batch);
  if (!inserted) {
    store_.reset();  // reconnect next time
    return inserted.error();
  }
  stats_.shipped.fetch_add(*inserted, std::memory_order_relaxed);
  stats_.duplicates.fetch_add(batch.size() - *inserted, std::memory_order_relaxed);
  batch.clear();
  return inserted;
}

core::Result<std::size_t> Shipper::ship_once() {
  if (auto ok = ensure_store(); !ok) {
    stats_.store_up.store(false);
    // While the store is down records wait in the journal only, not in memory as well.
    if (pending_) {
      (void)pending_->take(taken_);
      taken_ = {};
      journal_pass_due_ = true;
    }
    return ok.error();
  }
  // Reachable: say so before anything is counted as shipped, so readers of the stats never see
  // records shipped by a store reported down.
  stats_.store_up.store(true);
  auto shipped = pending_ && !journal_pass_due_ ? ship_pending() : ship_journal_files();
  if (!shipped) {
    stats_.store_up.store(false);
    journal_pass_due_ = true;  // what was taken from memory is lost there, not in the journal
    return shipped;
  }
  auto unjournaled = ship_unjournaled();
  if (!unjournaled) {
    stats_.store_up.store(false);
    return unjournaled.error();
  }
  return *shipped + *unjournaled;
}

core::Result<std::size_t> Shipper::ship_unjournaled() {
  if (!pending_) return std::size_t{0};
  pending_->take_unjournaled(unjournaled_);
  std::size_t inserted = 0;
  while (!unjournaled_.empty()) {
    auto count = std::min(unjournaled_.size(), settings_.batch_records);
    batch_.assign(
        std::make_move_iterator(unjournaled_.begin()),
        std::make_move_iterator(unjournaled_.begin() + static_cast<std::ptrdiff_t>(count)));
    auto n_inserted = flush(batch_);
    if (!n_inserted) {
      // Kept for the next pass: these records exist nowhere else.
      std::move(batch_.begin(), batch_.end(), unjournaled_.begin());
      batch_.clear();
      return n_inserted.error();
    }
    inserted += *n_inserted;
    unjournaled_.erase(unjournaled_.begin(),
                       unjournaled_.begin() + static_cast<std::ptrdiff_t>(count));
  }
  return inserted;
}

core::Result<std::size_t> Shipper::ship_pending() {
  if (!pending_->take(taken_)) return ship_journal_files();  // some are in the journal only
  // Records a journal pass already shipped (it ran while they were waiting here).
  std::size_t first = 0;
  while (first < taken_.size() && taken_[first].span.end <= position_) ++first;
  auto expected = position_;
  for (std::size_t i = first; i < taken_.size(); ++i) {
    if (taken_[i].span.previous != expected) return ship_journal_files();  // a gap: read it back
    expected = taken_[i].span.end;
  }
  std::size_t inserted = 0;
  while (first < taken_.size()) {
    auto last = std::min(taken_.size(), first + settings_.batch_records);
    batch_.clear();
    for (auto i = first; i < last; ++i) batch_.push_back(std::move(taken_[i].record));
    auto n_inserted = flush(batch_);
    if (!n_inserted) return n_inserted.error();
    inserted += *n_inserted;
    write_position(taken_[last - 1].span.end);
    first = last;
  }
  remove_shipped_segments();
  stats_.backlog_bytes.store(0, std::memory_order_relaxed);
  return inserted;
}

void Shipper::remove_shipped_segments() {
  auto sealed_below = journal_ ? journal_->sealed_below() : position_.segment;
  auto below = std::min(position_.segment, sealed_below);
  if (below <= removed_below_) return;
  std::error_code ec;
  for (auto sequence : Journal::list_segments(directory_)) {
    if (sequence < below) std::filesystem::remove(Journal::segment_path(directory_, sequence), ec);
  }
  removed_below_ = below;
}

core::Result<std::size_t> Shipper::ship_journal_files() {
  // Everything taken from memory now is in the files already: this pass ships it from there.
  if (pending_) (void)pending_->take(taken_);
  auto position = read_position();
  position_ = position;
  auto sealed_below =
      journal_ ? journal_->sealed_below() : std::numeric_limits<std::uint64_t>::max();
  std::size_t inserted = 0;
  std::uint64_t backlog = 0;
  // Not zero-filled: pread() overwrites what is used.
  std::unique_ptr<char[]> buffer;
  std::vector<UsageRecord>& batch = batch_;
  batch.clear();

  for (auto sequence : Journal::list_segments(directory_)) {
    auto path = Journal::segment_path(directory_, sequence);
    bool sealed = sequence < sealed_below;
    std::error_code ec;
    if (sequence < position.segment) {
      if (sealed) std::filesystem::remove(path, ec);  // shipped before a restart
      continue;
    }
    FileGuard file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) continue;
    std::uint64_t consumed = sequence == position.segment ? position.offset : 0;
    if (!buffer) buffer.reset(new char[kChunkBytes]);
    for (;;) {
      ssize_t n = ::pread(file.fd, buffer.get(), kChunkBytes, static_cast<off_t>(consumed));
      if (n <= 0) break;
      std::string_view data(buffer.get(), static_cast<std::size_t>(n));
      auto last_newline = data.rfind('\n');
      if (last_newline == std::string_view::npos) {
        if (static_cast<std::size_t>(n) < kChunkBytes) break;          // a line still being written
        stats_.corrupt_lines.fetch_add(1, std::memory_order_relaxed);  // no record is this long
        consumed += static_cast<std::uint64_t>(n);
        continue;
      }
      std::size_t start = 0;
      while (start <= last_newline) {
        auto end = data.find('\n', start);
        auto line = data.substr(start, end - start);
        start = end + 1;
        // NUL runs are what a file system may leave after a power cut; skip them silently.
        while (!line.empty() && line.front() == '\0') line.remove_prefix(1);
        if (line.empty()) continue;
        bool damaged = false;
        auto record = parse_with_recovery(line, damaged);
        if (damaged) stats_.corrupt_lines.fetch_add(1, std::memory_order_relaxed);
        if (record) {
          batch.push_back(std::move(*record));
          stats_.read_back.fetch_add(1, std::memory_order_relaxed);
        }
      }
      consumed += last_newline + 1;
      if (batch.size() >= settings_.batch_records) {
        auto n_inserted = flush(batch);
        if (!n_inserted) return n_inserted.error();
        inserted += *n_inserted;
        write_position({sequence, consumed});
      }
    }
    auto n_inserted = flush(batch);
    if (!n_inserted) return n_inserted.error();
    inserted += *n_inserted;
    struct stat st {};
    std::uint64_t size = ::fstat(file.fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    if (sealed) {
      // Nothing more can be appended: a tail without its newline was torn by a crash.
      if (size > consumed) stats_.corrupt_lines.fetch_add(1, std::memory_order_relaxed);
      write_position({sequence + 1, 0});
      std::filesystem::remove(path, ec);
    } else {
      write_position({sequence, consumed});
      backlog += size > consumed ? size - consumed : 0;
    }
  }
  stats_.backlog_bytes.store(backlog, std::memory_order_relaxed);
  journal_pass_due_ = false;
  return inserted;
}

void Shipper::run() {
  auto log = core::get_logger("usage");
  auto backoff = settings_.interval;
  bool was_up = true;
  auto last_warning = std::chrono::steady_clock::time_point{};
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, backoff, [this] { return stopping_ || woken_; });
    woken_ = false;
    bool stopping = stopping_;
    lock.unlock();
    auto result = ship_once();
    auto now = std::chrono::steady_clock::now();
    if (result) {
      if (!was_up) {
        log->warn("usage store {} is reachable again; shipping the journal backlog",
                  redact_store_url(settings_.store_url));
      }
      was_up = true;
      backoff = settings_.interval;
    } else {
      stats_.store_errors.fetch_add(1, std::memory_order_relaxed);
      if (was_up || now - last_warning >= std::chrono::minutes(1)) {
        log->warn("usage store unavailable, records wait in the journal {}: {}",
                  directory_.string(), result.error().message);
        last_warning = now;
      }
      was_up = false;
      backoff = std::min(settings_.max_backoff, backoff * 2);
    }
    lock.lock();
    if (stopping) break;
  }
  if (pending_) pending_->take_unjournaled(unjournaled_);
  if (!unjournaled_.empty()) {
    log->error(
        "usage store {} unreachable at shutdown: {} usage records the journal could not take "
        "(disk full or read-only) are lost",
        redact_store_url(settings_.store_url), unjournaled_.size());
  }
}

}  // namespace sluice::usage
