#include "gateway/policies/prompt_log/prompt_log_writer.hpp"

#include "sluice/core/logging.hpp"
#include "sluice/core/thread_name.hpp"

namespace sluice::gateway {

namespace {

constexpr std::chrono::milliseconds kIdleWake{200};
constexpr std::chrono::milliseconds kMaxBackoff{30'000};

}  // namespace

PromptLogWriter::PromptLogWriter(PromptLogSinkSettings settings)
    : settings_(std::move(settings)), queue_(settings_.queue_entries, settings_.queue_bytes) {
  if (!settings_.file.empty()) {
    file_ = std::make_unique<RotatingFile>(settings_.file, settings_.rotate_bytes, settings_.keep);
    description_ = "file:" + settings_.file.string();
  }
  if (!settings_.store_url.empty()) {
    if (!description_.empty()) description_ += ",";
    description_ += usage::redact_store_url(settings_.store_url);
  }
  thread_ = std::thread([this] {
    core::name_this_thread("prompt-log");
    run();
  });
}

PromptLogWriter::~PromptLogWriter() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

void PromptLogWriter::run() {
  while (true) {
    bool closing = queue_.closed();
    auto batch = queue_.take(kIdleWake);
    if (!batch.empty()) write_batch(std::move(batch));
    // Whatever was queued before close() has been taken by the take() after it.
    if (closing) break;
  }
}

void PromptLogWriter::write_batch(std::vector<PromptLogCapture> batch) {
  std::vector<usage::PromptLogEntry> entries;
  std::vector<std::string> lines;
  entries.reserve(batch.size());
  lines.reserve(file_ ? batch.size() : 0);
  for (auto& capture : batch) {
    auto record = process_capture(std::move(capture));
    stats_.redactions.fetch_add(record.redactions, std::memory_order_relaxed);
    if (file_) lines.push_back(to_json_line(record));
    if (!settings_.store_url.empty()) entries.push_back(std::move(record.entry));
  }
  if (file_) {
    std::string error;
    auto written = file_->write(lines, error);
    stats_.file_written.fetch_add(written, std::memory_order_relaxed);
    if (written < lines.size()) {
      stats_.file_dropped.fetch_add(lines.size() - written, std::memory_order_relaxed);
      core::get_logger("prompt_log")
          ->warn("prompt log: {} ({} entries lost)", error, lines.size() - written);
    }
  }
  if (!entries.empty()) write_store(entries);
}

void PromptLogWriter::write_store(std::vector<usage::PromptLogEntry>& entries) {
  auto log = core::get_logger("prompt_log");
  auto now = std::chrono::steady_clock::now();
  if (!store_ && now >= next_connect_) {
    auto opened = usage::open_store(settings_.store_url);
    if (opened) {
      store_ = std::move(*opened);
      connect_backoff_ = std::chrono::milliseconds(500);
    } else {
      log->warn("prompt log: store {}: {}", usage::redact_store_url(settings_.store_url),
                opened.error().message);
      next_connect_ = now + connect_backoff_;
      connect_backoff_ = std::min(connect_backoff_ * 2, kMaxBackoff);
    }
  }
  if (!store_) {
    stats_.store_dropped.fetch_add(entries.size(), std::memory_order_relaxed);
    return;
  }
  auto inserted = store_->insert_prompt_logs(entries);
  if (!inserted) {
    log->warn("prompt log: {} ({} entries lost)", inserted.error().message, entries.size());
    stats_.store_dropped.fetch_add(entries.size(), std::memory_order_relaxed);
    store_.reset();  // reconnect (after the backoff) on the next batch
    next_connect_ = now + connect_backoff_;
    return;
  }
  stats_.store_written.fetch_add(entries.size(), std::memory_order_relaxed);
}

}  // namespace sluice::gateway
