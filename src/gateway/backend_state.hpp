#pragma once
// The state of every backend as /admin/backends and the console show it: where it is, counters,
// last error, and per pool membership the breaker state, its trips and how long it stays open.
#include <boost/json/object.hpp>

#include "gateway/runtime.hpp"

namespace sluice::gateway {

// {"backends": [{name, url, proxy, in_flight, requests, failures, throttled, last_error,
//                pools: [{pool, priority, weight, breaker, breaker_trips, open_for_ms?}]}]}
// Any thread (reads atomics and the breakers' own locked state).
boost::json::object backend_state_json(const Runtime& runtime);

}  // namespace sluice::gateway
