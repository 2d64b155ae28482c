#pragma once
// The exact cache's key: which requests are "the same". Two chat requests are the same when their
// route, deployment, operation and partition match and their bodies match once normalised: object
// keys sorted at every depth, whitespace gone, numbers written one way (1, 1.0 and 1e0 alike), and
// the fields that never change the answer left out (`stream`, `stream_options`, `user`, and the
// configured `ignore_fields`), or only the configured `match_fields` kept.
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace sluice::gateway::cache {

struct KeyFields {
  std::vector<std::string> ignore;  // left out, on top of the three always left out
  std::vector<std::string> match;   // when not empty: only these are kept
};

// The normalised text of a request body (a JSON object). Pure; any thread.
std::string normalised_body(const boost::json::object& body, const KeyFields& fields);

// What identifies one request in the cache; parts are length-prefixed so no two different
// combinations can produce the same text, then hashed (SHA-256, hex) to keep entries small.
struct KeyParts {
  std::string_view route;
  std::string_view deployment;
  std::string_view operation;
  std::string_view partition;
  std::string_view body;  // normalised_body()
};
std::string request_key(const KeyParts& parts);

}  // namespace sluice::gateway::cache
