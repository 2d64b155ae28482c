#pragma once
// Config tests assert on the message a bad config gets: this runs `load` and returns the
// core::ConfigError's text, or "" when it loaded.
#include <string>

#include "sluice/core/config_error.hpp"

namespace sluice::core::testing {

template <class Load>
std::string config_error_of(Load&& load) {
  try {
    load();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace sluice::core::testing
