#include "sluice/usage/usage_log.hpp"

namespace sluice::usage {

UsageLog::UsageLog(UsageLogSettings settings)
    : settings_(std::move(settings)),
      journal_(settings_.journal),
      shipper_(settings_.journal.directory, settings_.shipper, &journal_, &pending_) {
  shipper_.start();
}

UsageLog::~UsageLog() = default;

bool UsageLog::append(UsageRecord record) noexcept {
  thread_local std::string line;
  try {
    line.clear();
    append_record_line(line, record);
  } catch (...) {  // std::bad_alloc: the record cannot be built, count it as a failed append
    return journal_.append(std::string_view());
  }
  return pending_.append(journal_, line, std::move(record));
}

}  // namespace sluice::usage
