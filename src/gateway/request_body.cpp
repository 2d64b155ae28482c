#include "gateway/request_body.hpp"

#include <boost/json.hpp>

#include "gateway/request_body_scan.hpp"
#include "sluice/core/json_syntax_error.hpp"

namespace sluice::gateway {

std::optional<std::string> inspect_request_body(std::string_view body, JsonScratch& scratch,
                                                RequestBodyInfo& info, bool gather_chat_prompt) {
  // A chat prompt the scan could not gather is read from the document the DOM parser keeps.
  if (scan_request_body(body, info, gather_chat_prompt) &&
      (!gather_chat_prompt || info.prompt.plain)) {
    return std::nullopt;
  }
  return inspect_request_body_by_dom(body, scratch, info);
}

std::optional<std::string> inspect_request_body_by_dom(std::string_view body, JsonScratch& scratch,
                                                       RequestBodyInfo& info) {
  using namespace simdjson;
  dom::element doc;
  if (auto error = scratch.parse(body).get(doc); error != SUCCESS) {
    // simdjson says what is wrong but not where; the client needs where (as the simulator says).
    auto where = core::locate_json_syntax_error(body);
    return "The request body is not valid JSON: " + where.value_or(error_message(error)) + ".";
  }
  dom::object object;
  if (doc.get_object().get(object) != SUCCESS) {
    return std::string("The request body must be a JSON object.");
  }
  std::string_view model;
  if (object["model"].get_string().get(model) == SUCCESS) info.model = std::string(model);
  bool flag = false;
  if (object["stream"].get_bool().get(flag) == SUCCESS) info.stream = flag;
  if (object.at_pointer("/stream_options/include_usage").get_bool().get(flag) == SUCCESS) {
    info.include_usage = flag;
  }
  std::int64_t max_tokens = 0;
  if (object["max_tokens"].get_int64().get(max_tokens) == SUCCESS ||
      object["max_completion_tokens"].get_int64().get(max_tokens) == SUCCESS) {
    info.max_tokens = max_tokens;
  }
  info.parsed = true;
  info.document_source = &scratch;
  info.document_generation = scratch.generation();
  return std::nullopt;
}

std::optional<std::string> rewrite_request_body(std::string_view body, const BodyRewrite& rewrite) {
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  auto& object = value.as_object();
  if (rewrite.add_include_usage) {
    auto& options = object["stream_options"];
    if (!options.is_object()) options = boost::json::object();
    options.as_object()["include_usage"] = true;
  }
  if (!rewrite.model.empty()) object["model"] = rewrite.model;
  return boost::json::serialize(value);
}

}  // namespace sluice::gateway
