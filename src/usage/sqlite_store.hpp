#pragma once
#include <memory>
#include <string>

#include "sluice/usage/store.hpp"

namespace sluice::usage {

// A SQLite file (WAL mode, so `sluice usage report` can read while a gateway writes).
core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace sluice::usage
