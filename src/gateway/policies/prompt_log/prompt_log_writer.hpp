#pragma once
// The prompt log's background side: one thread per file (or store) that takes captured entries
// from the bounded queue, processes them (response text, redaction, truncation) and writes them to
// the JSON Lines file and/or the SQL store (table sluice_prompt_log).
//
// Nothing here runs on the request path except submit(), which only appends to the queue. A store
// that is down costs the entries of the batches that could not be inserted (counted), with a
// reconnect at most every few seconds; the file sink is unaffected beyond the connect time.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "gateway/policies/prompt_log/capture_queue.hpp"
#include "gateway/policies/prompt_log/prompt_log_settings.hpp"
#include "gateway/policies/prompt_log/rotating_file.hpp"
#include "sluice/usage/store.hpp"

namespace sluice::gateway {

struct PromptLogStats {
  std::atomic<std::uint64_t> file_written{0};
  std::atomic<std::uint64_t> file_dropped{0};  // lost to write errors
  std::atomic<std::uint64_t> store_written{0};
  std::atomic<std::uint64_t> store_dropped{0};  // lost because the store was unavailable
  std::atomic<std::uint64_t> redactions{0};
};

class PromptLogWriter {
 public:
  // Starts the writer thread. Throws std::system_error if it cannot.
  explicit PromptLogWriter(PromptLogSinkSettings settings);
  // Stops taking entries, writes what is queued, joins the thread.
  ~PromptLogWriter();
  PromptLogWriter(const PromptLogWriter&) = delete;
  PromptLogWriter& operator=(const PromptLogWriter&) = delete;

  // The request path's only entry point: see CaptureQueue::push. Any thread, never waits.
  bool submit(PromptLogCapture&& capture) { return queue_.push(std::move(capture)); }
  bool has_room(std::size_t bytes) const noexcept { return queue_.has_room(bytes); }
  void count_drop() noexcept { queue_.count_drop(); }

  const PromptLogSinkSettings& settings() const { return settings_; }
  const CaptureQueue& queue() const { return queue_; }
  const PromptLogStats& stats() const { return stats_; }
  // "file:/path" and/or "sqlite:/path" (never a password), for logs and metric labels.
  const std::string& describe() const { return description_; }

 private:
  void run();
  void write_batch(std::vector<PromptLogCapture> batch);
  void write_store(std::vector<usage::PromptLogEntry>& entries);

  const PromptLogSinkSettings settings_;
  std::string description_;
  CaptureQueue queue_;
  PromptLogStats stats_;
  std::unique_ptr<RotatingFile> file_;
  std::unique_ptr<usage::Store> store_;
  std::chrono::steady_clock::time_point next_connect_{};
  std::chrono::milliseconds connect_backoff_{500};
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace sluice::gateway
