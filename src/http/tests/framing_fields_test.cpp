// set_keep_alive() and prepare_payload() skip Beast's work only where it would change nothing: for
// every combination of version, method or status, body, Connection, Content-Length and
// Transfer-Encoding below, the head they leave holds the fields Beast's own calls leave (or both
// throw).
#include "http/framing_fields.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "http/message_head.hpp"

namespace sluice::http {
namespace {

template <bool isRequest>
using StringMessage = bhttp::message<isRequest, bhttp::string_body, Fields>;

template <bool isRequest>
std::string head_of(const StringMessage<isRequest>& message) {
  std::string head;
  append_head(message.base(), head);
  return head;
}

// A head with its fields in order of name, same-named fields kept in their order. Beast's set()
// moves a field it rewrites to the end of the head; a field left where it was makes the same
// message (RFC 9110 §5.3: only the order of fields with the same name carries meaning).
std::string by_name(const std::string& head) {
  std::vector<std::string> lines;
  for (std::size_t start = 0; start < head.size();) {
    const std::size_t end = head.find("\r\n", start);
    lines.push_back(head.substr(start, end - start));
    start = end + 2;
  }
  auto name_of = [](const std::string& line) {
    std::string name = line.substr(0, line.find(':'));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  };
  std::stable_sort(lines.begin() + 1, lines.end(),
                   [&](const auto& a, const auto& b) { return name_of(a) < name_of(b); });
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

// The head after `step` (or "throws"), for comparing two ways of doing the same.
template <bool isRequest, class Step>
std::string after(StringMessage<isRequest> message, Step step) {
  try {
    step(message);
  } catch (const std::invalid_argument&) {
    return "throws";
  }
  return by_name(head_of(message));
}

struct FieldChoices {
  std::vector<std::optional<std::string>> connection{std::nullopt, "close", "keep-alive",
                                                     "Upgrade, close"};
  // Content-Length values; "two" puts the body's length in twice.
  std::vector<std::optional<std::string>> content_length{std::nullopt, "right", "0", "99", "two"};
  std::vector<std::optional<std::string>> transfer_encoding{std::nullopt, "chunked", "gzip",
                                                            "gzip, chunked"};
  std::vector<std::string> body{"", "{\"a\":1}"};
  std::vector<unsigned> version{10, 11};
};

template <bool isRequest>
void add_fields(StringMessage<isRequest>& message, const std::optional<std::string>& connection,
                const std::optional<std::string>& content_length,
                const std::optional<std::string>& transfer_encoding) {
  message.set("x-first", "1");
  if (connection) message.insert(Field::connection, *connection);
  const std::string right = std::to_string(message.body().size());
  if (content_length) {
    if (*content_length == "two") {
      message.insert(Field::content_length, right);
      message.insert(Field::content_length, right);
    } else {
      message.insert(Field::content_length, *content_length == "right" ? right : *content_length);
    }
  }
  if (transfer_encoding) message.insert(Field::transfer_encoding, *transfer_encoding);
  message.set("x-last", "2");
}

template <bool isRequest>
int compare_all(const std::vector<StringMessage<isRequest>>& heads) {
  FieldChoices choices;
  int compared = 0;
  for (const auto& base : heads) {
    for (const auto& connection : choices.connection) {
      for (const auto& length : choices.content_length) {
        for (const auto& encoding : choices.transfer_encoding) {
          for (const auto& body : choices.body) {
            for (unsigned version : choices.version) {
              StringMessage<isRequest> message = base;
              message.version(version);
              message.body() = body;
              add_fields(message, connection, length, encoding);
              for (bool keep : {true, false}) {
                const std::string what = head_of(message) + "keep=" + std::to_string(keep);
                EXPECT_EQ(after(message,
                                [&](auto& m) {
                                  set_keep_alive(m, keep, read_framing_fields(m));
                                  prepare_payload(m, read_framing_fields(m));
                                }),
                          after(message,
                                [&](auto& m) {
                                  m.keep_alive(keep);
                                  m.prepare_payload();
                                }))
                    << what;
                ++compared;
              }
            }
          }
        }
      }
    }
  }
  return compared;
}

TEST(FramingFields, RequestsEndAsBeastLeavesThem) {
  std::vector<StringMessage<true>> requests;
  for (auto method : {bhttp::verb::get, bhttp::verb::post, bhttp::verb::put, bhttp::verb::options,
                      bhttp::verb::trace, bhttp::verb::delete_, bhttp::verb::head}) {
    requests.emplace_back(method, "/openai/v1/chat/completions", 11);
  }
  EXPECT_EQ(compare_all(requests), 7 * 4 * 5 * 4 * 2 * 2 * 2);
}

TEST(FramingFields, ResponsesEndAsBeastLeavesThem) {
  std::vector<StringMessage<false>> responses;
  for (auto status :
       {Status::ok, Status::created, Status::no_content, Status::not_modified,
        Status::switching_protocols, Status::too_many_requests, Status::internal_server_error}) {
    responses.emplace_back(status, 11);
  }
  EXPECT_EQ(compare_all(responses), 7 * 4 * 5 * 4 * 2 * 2 * 2);
}

TEST(FramingFields, TheUsualHeadsAreLeftAlone) {
  // What the skip is for: a proxied request and response already framed by length, on HTTP/1.1,
  // with the hop-by-hop fields gone. Beast's calls would search and rewrite; these read only.
  Request request{bhttp::verb::post, "/openai/deployments/gpt-4o/chat/completions", 11};
  request.set(Field::host, "upstream:443");
  request.body() = R"({"messages":[]})";
  request.set(Field::content_length, std::to_string(request.body().size()));
  const auto found = read_framing_fields(request);
  EXPECT_TRUE(found.host);
  EXPECT_FALSE(found.connection);
  EXPECT_FALSE(found.transfer_encoding);
  EXPECT_EQ(found.content_lengths, 1);
  EXPECT_EQ(found.content_length, "15");
  const std::string before = head_of(request);
  set_keep_alive(request, true, found);
  prepare_payload(request, found);
  EXPECT_EQ(head_of(request), before);

  // A mismatched length is corrected, as Beast corrects it.
  request.set(Field::content_length, "3");
  prepare_payload(request, read_framing_fields(request));
  EXPECT_EQ(head_of(request), before);
  EXPECT_FALSE(has_transfer_encoding(request));
  request.set(Field::transfer_encoding, "chunked");
  EXPECT_TRUE(has_transfer_encoding(request));
}

}  // namespace
}  // namespace sluice::http
