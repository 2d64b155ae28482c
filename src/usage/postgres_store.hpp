#pragma once
#include <memory>
#include <string_view>

#include "sluice/usage/store.hpp"

namespace sluice::usage {

// A PostgreSQL database via libpq. The URL is passed to PQconnectdb; a connect_timeout of 5 s is
// added when the URL has none, so a server that is down costs the shipper seconds, not minutes.
core::Result<std::unique_ptr<Store>> open_postgres_store(std::string_view url);

}  // namespace sluice::usage
