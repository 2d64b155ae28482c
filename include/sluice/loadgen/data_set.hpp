#pragma once
// CSV data sets: parsed fully before the run (so a malformed row stops the test before it starts),
// then handed out one row per VU iteration.
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/result.hpp"
#include "sluice/loadgen/plan.hpp"

namespace sluice::loadgen {

struct DataSet {
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  bool recycle = true;
  bool stop_thread_at_end = false;
};

// Parses CSV `text` per `spec`: optional UTF-8 byte-order mark skipped, CRLF or LF line ends,
// RFC 4180 quoting when spec.quoted (doubled quotes, delimiters and newlines inside quotes), blank
// lines skipped. Every row must have exactly as many fields as there are column names. When
// spec.split_across_engines, keeps rows whose index (after the header) is engine_index mod
// engine_count. Errors are kInvalidArgument: "<source>:<line>: problem".
core::Result<DataSet> parse_csv(std::string_view text, std::string_view source,
                                const DataSetSpec& spec, int engine_index = 0,
                                int engine_count = 1);

// Reads spec.path and parses it; a missing or unreadable file is an error naming the path and
// where the data set was declared.
core::Result<DataSet> load_data_set(const DataSetSpec& spec, int engine_index = 0,
                                    int engine_count = 1);

// Hands out rows to many threads: a shared atomic cursor (ShareMode::kAllThreads and kGroup).
// next() returns nullptr at the end when the data set does not recycle. Thread-safe.
class DataCursor {
 public:
  explicit DataCursor(std::shared_ptr<const DataSet> data) : data_(std::move(data)) {}
  const std::vector<std::string>* next();
  const std::vector<std::string>* next_private(std::size_t& cursor) const;  // ShareMode::kThread
  const DataSet& data() const { return *data_; }

 private:
  std::shared_ptr<const DataSet> data_;
  std::atomic<std::size_t> cursor_{0};
};

}  // namespace sluice::loadgen
