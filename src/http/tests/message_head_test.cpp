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
