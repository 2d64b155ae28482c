#pragma once
// What went wrong while opening a connection, in words a user can act on.
//
// The resolver and OpenSSL describe failures in their own terms ("Host not found
// (authoritative)", "wrong version number (SSL routines)"). These functions name the host and the
// step that failed, say what most likely happened and what to try, and keep the library's own
// words at the end, in parentheses, for searching. The texts reach users as the load tester's
// failure messages and the gateway's 502 bodies and logs; they never hold credentials.
#include <chrono>
#include <string>
#include <string_view>

#include "sluice/http/asio.hpp"
#include "sluice/http/url.hpp"

namespace sluice::http {

// Resolving `host` (origin.host, or the address a resolve override names) failed with `ec`.
std::string resolve_failure_text(std::string_view host, error_code ec);

// Connecting to `origin` failed with `ec`; beast::error::timeout means nothing answered within
// `timeout`. `name` says what was dialled when it is not the origin itself ("proxy h:p (for ...)").
std::string connect_failure_text(const Url& origin, error_code ec,
                                 std::chrono::milliseconds timeout, std::string_view name = {});

// The TLS handshake with `origin` failed with `ec`. `verify_result` is SSL_get_verify_result()
// (X509_V_OK when the certificate was not the problem); beast::error::timeout means no handshake
// within `timeout`.
std::string tls_failure_text(const Url& origin, error_code ec, long verify_result,
                             std::chrono::milliseconds timeout);

// A new plain-HTTP connection to `origin` ("http://host:port") gave no HTTP answer: reading the
// response failed with `ec` before a response began. `first_byte` is the first byte received, or
// -1. A TLS record there means an https:// server reached with http://; a close without a word is
// what most TLS servers do with a plain request. Other failures keep the plain wording.
std::string no_http_answer_text(std::string_view origin, error_code ec, int first_byte);

}  // namespace sluice::http
