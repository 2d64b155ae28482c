// The hand-serialised heads are byte for byte what Beast's serializer writes, for requests and
// responses of every shape the gateway sends.
#include <gtest/gtest.h>

#include <sstream>

#include "http/message_head.hpp"

namespace sluice::http {
namespace {

template <bool isRequest>
std::string beast_head(const bhttp::message<isRequest, bhttp::string_body, Fields>& message) {
  bhttp::message<isRequest, bhttp::string_body, Fields> copy = message;
  copy.body().clear();
  std::ostringstream out;
  out << copy.base();
  return out.str();
}

TEST(MessageHead, RequestMatchesBeast) {
  Request request{bhttp::verb::post, "/openai/deployments/gpt-4o/chat/completions?api-version=1",
                  11};
  request.set(Field::host, "127.0.0.1:8080");
  request.set("api-key", "secret");
  request.insert("x-repeated", "1");
  request.insert("x-repeated", "2");
  request.body() = "{}";
  request.prepare_payload();
  std::string head;
  append_head(request.base(), head);
  EXPECT_EQ(head, beast_head(request));
  EXPECT_EQ(
      head.rfind("POST /openai/deployments/gpt-4o/chat/completions?api-version=1 HTTP/1.1\r\n", 0),
      0u);
}

// Extra fields are written after the message's own, as Beast writes the same fields inserted
// last.
TEST(MessageHead, ExtraFieldsFollowTheFields) {
  ExtraFields extra;
  extra.add("x-forwarded-for", "10.1.2.3");
  extra.add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  Request request{bhttp::verb::post, "/v1/chat/completions", 11};
  request.set(Field::host, "backend:443");
  request.set("api-key", "secret");
  request.body() = "{}";
  request.prepare_payload();
  Response response{Status::ok, 11};
  response.set(Field::content_type, "application/json");
  response.body() = "{}";
  response.prepare_payload();
  std::string request_head;
  std::string response_head;
  append_head(request.base(), request_head, extra);
  append_head(response.base(), response_head, extra);
  for (const auto& field : extra) {
    request.insert(field.name, field.value);
    response.insert(field.name, field.value);
  }
  EXPECT_EQ(request_head, beast_head(request));
  EXPECT_EQ(response_head, beast_head(response));
  EXPECT_NE(request_head.find("\r\ntraceparent: 00-4bf92f"), std::string::npos);
}

TEST(MessageHead, UnknownMethodAndHttp10) {
  Request request;
  request.method_string("PURGE");
  request.target("/x");
  request.version(10);
  std::string head;
  append_head(request.base(), head);
  EXPECT_EQ(head, beast_head(request));
  EXPECT_EQ(head, "PURGE /x HTTP/1.0\r\n\r\n");
}

TEST(MessageHead, ResponsesMatchBeast) {
  for (unsigned code : {200u, 204u, 404u, 429u, 599u}) {
    Response response{static_cast<Status>(code), 11};
    response.set(Field::content_type, "application/json");
    response.set("x-sluice-request-id", "abc");
    if (code != 204) response.body() = "{\"a\":1}";
    response.prepare_payload();
    std::string head;
    append_head(response.base(), head);
    EXPECT_EQ(head, beast_head(response)) << code;
  }
  Response custom{Status::ok, 10};
  custom.reason("Fine");
  std::string head;
  append_head(custom.base(), head);
  EXPECT_EQ(head, beast_head(custom));
  EXPECT_EQ(head.rfind("HTTP/1.0 200 Fine\r\n", 0), 0u);
}

}  // namespace
}  // namespace sluice::http
