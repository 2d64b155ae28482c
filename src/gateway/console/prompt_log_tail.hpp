#pragma once
// The console's prompt log view: the newest entries of the prompt_log policy's JSON Lines file
// (already sampled and redacted by its writer), filtered by app, time and text. Reads only the
// file's last kTailBytes (and the rotated file.1 when that is not enough), so a large log costs a
// bounded read per page view. Damaged or foreign lines are skipped.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/json/array.hpp>

namespace sluice::gateway::console {

struct PromptLogQuery {
  std::string app;            // exact app id; empty: any
  std::int64_t since_us = 0;  // entries started at or after (wall clock, µs since the epoch)
  std::int64_t until_us = 0;  // ... and before; 0: no upper bound
  std::string text;           // substring of the prompt or the response; empty: any
  std::size_t limit = 50;
};

inline constexpr std::size_t kTailBytes = 4u << 20;

// The matching entries, newest first, as the JSON objects the writer wrote. A missing file is no
// entries. Blocking file I/O: call from the admin listener, never a request worker.
boost::json::array read_prompt_log_tail(const std::filesystem::path& file,
                                        const PromptLogQuery& query);

}  // namespace sluice::gateway::console
