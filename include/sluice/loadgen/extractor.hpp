#pragma once
// Post-processors that pull values out of a response body into VU variables.
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/result.hpp"
#include "sluice/loadgen/plan.hpp"

namespace sluice::loadgen {

// Checks an extractor's expression before the run (JSON path syntax, regex compiles).
core::Result<void> validate_extractor(const Extractor& extractor);

// The value `extractor` finds in `body`, or nullopt when nothing matches (the caller then applies
// default_value). JSON strings come out unquoted; numbers, booleans and null as their JSON text;
// objects and arrays serialised. JSON path subset: $, .name, ['name'], [index], [*] (each match is
// numbered in document order for match_number; 0 picks one at random using `random`).
std::optional<std::string> extract(const Extractor& extractor, std::string_view body,
                                   std::uint64_t random = 0);

}  // namespace sluice::loadgen
