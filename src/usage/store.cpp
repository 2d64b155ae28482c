#include "sluice/usage/store.hpp"

#include "usage/postgres_store.hpp"
#include "usage/sqlite_store.hpp"

namespace sluice::usage {

const std::vector<std::string_view>& summary_columns() {
  static const std::vector<std::string_view> columns = {
      "app",    "key",    "client_ip", "route",   "deployment", "model", "backend",   "operation",
      "status", "source", "cache",     "purpose", "streamed",   "day",   "request_id"};
  return columns;
}

core::Result<StoreKind> store_kind(std::string_view url) {
  if (url.empty()) return core::Error{core::ErrorCode::kInvalidArgument, "the store URL is empty"};
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return StoreKind::kPostgres;
  }
  if (url.starts_with("sqlite:")) return StoreKind::kSqlite;
  auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    return core::Error{core::ErrorCode::kInvalidArgument,
                       "unknown store scheme '" + std::string(url.substr(0, scheme_end)) +
                           "' (use a file path, sqlite:PATH or postgresql://...)"};
  }
  return StoreKind::kSqlite;
}

std::string redact_store_url(std::string_view url) {
  std::string out(url);
  auto scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  auto at = out.find('@', scheme + 3);
  if (at == std::string::npos) return out;
  auto colon = out.find(':', scheme + 3);
  if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  return out;
}

core::Result<std::unique_ptr<Store>> open_store(std::string_view url) {
  auto kind = store_kind(url);
  if (!kind) return kind.error();
  if (*kind == StoreKind::kPostgres) return open_postgres_store(url);
  std::string path(url.starts_with("sqlite:") ? url.substr(7) : url);
  return open_sqlite_store(path);
}

}  // namespace sluice::usage
