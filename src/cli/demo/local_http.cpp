#include "cli/demo/local_http.hpp"

// Before Boost.Asio, as in every file (sluice/http/asio_short_read.hpp says why).
#include "sluice/http/asio.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "sluice/http/url.hpp"

namespace sluice::cli::demo {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

core::Result<HttpAnswer> http_call(const std::string& method, const std::string& url,
                                   const std::string& body, const std::string& content_type,
                                   std::chrono::milliseconds timeout) {
  std::string error;
  auto parsed = http::parse_url(url, &error);
  if (!parsed || parsed->tls()) {
    return core::Error{core::ErrorCode::kInvalidArgument,
                       url + ": " + (error.empty() ? "not plain http" : error)};
  }
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  asio::ip::tcp::resolver resolver(ioc);
  bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(method), parsed->path, 11};
  request.set(bhttp::field::host, parsed->host_header());
  request.set(bhttp::field::user_agent, "sluice-demo");
  if (!content_type.empty()) request.set(bhttp::field::content_type, content_type);
  if (!body.empty() || method != "GET") {
    request.body() = body;
    request.prepare_payload();
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  beast::error_code failure;
  stream.expires_after(timeout);
  // Async operations so the one deadline covers connect, write and read.
  resolver.async_resolve(
      parsed->host, std::to_string(parsed->port),
      [&](beast::error_code ec, asio::ip::tcp::resolver::results_type results) {
        if (ec) {
          failure = ec;
          return;
        }
        stream.async_connect(results, [&](beast::error_code ec, const auto&) {
          if (ec) {
            failure = ec;
            return;
          }
          bhttp::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
            if (ec) {
              failure = ec;
              return;
            }
            bhttp::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
              if (ec) failure = ec;
            });
          });
        });
      });
  ioc.run();
  if (failure) {
    return core::Error{core::ErrorCode::kUnavailable,
                       method + " " + url + ": " + failure.message()};
  }
  HttpAnswer answer;
  answer.status = parser.get().result_int();
  answer.body = std::move(parser.get().body());
  return answer;
}

}  // namespace sluice::cli::demo
