#include "gateway/upstream_auth.hpp"

#include <boost/json.hpp>

namespace sluice::gateway {

namespace {

std::string form_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace

bool is_client_credential_field(http::Field field, std::string_view name) {
  return field == http::Field::authorization ||
         (field == http::Field::unknown && boost::beast::iequals(name, "api-key"));
}

UpstreamAuth::UpstreamAuth(const UpstreamAuthSettings& settings)
    : settings_(settings),
      api_key_field_(http::bhttp::string_to_field(settings.header)),
      api_key_field_is_client_credential_(
          is_client_credential_field(api_key_field_, settings.header)) {}

bool UpstreamAuth::apply_at_once(http::Request& upstream, const http::Request& client) const {
  switch (settings_.kind) {
    case UpstreamAuthKind::kNone:
      return true;
    case UpstreamAuthKind::kApiKey:
      if (api_key_field_is_client_credential_) {
        upstream.insert(api_key_field_, settings_.header, settings_.api_key);
      } else {
        upstream.set(settings_.header, settings_.api_key);
      }
      return true;
    case UpstreamAuthKind::kPassThrough:
      if (auto it = client.find(http::Field::authorization); it != client.end()) {
        upstream.insert(http::Field::authorization, it->value());
      }
      if (auto it = client.find("api-key"); it != client.end()) {
        upstream.insert(http::Field::unknown, "api-key", it->value());
      }
      return true;
    case UpstreamAuthKind::kOAuth2ClientCredentials:
      return false;
  }
  return false;
}

http::Task<std::optional<std::string>> UpstreamAuth::apply(http::Request& upstream,
                                                           const http::Request& client,
                                                           http::ClientPool& pool) {
  if (apply_at_once(upstream, client)) co_return std::nullopt;
  auto now = std::chrono::steady_clock::now();
  auto token = token_.load(std::memory_order_acquire);
  bool stale = !token || now + settings_.refresh_before >= token->expires_at;
  if (stale) {
    bool expected = false;
    if (refreshing_.compare_exchange_strong(expected, true)) {
      auto error = co_await refresh(pool);
      refreshing_.store(false);
      token = token_.load(std::memory_order_acquire);
      if (error && (!token || now >= token->expires_at)) co_return error;
    } else if (!token || now >= token->expires_at) {
      // Another request is fetching the first (or an expired) token: wait for it, bounded.
      http::SteadyTimer timer(co_await http::asio::this_coro::executor);
      for (int i = 0; i < 500 && refreshing_.load(); ++i) {
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(http::kUseTuple);
      }
      token = token_.load(std::memory_order_acquire);
      if (!token || std::chrono::steady_clock::now() >= token->expires_at) {
        co_return "no upstream token available from " + settings_.token_url;
      }
    }
  }
  upstream.insert(http::Field::authorization, token->bearer);
  co_return std::nullopt;
}

http::Task<std::optional<std::string>> UpstreamAuth::refresh(http::ClientPool& pool) {
  auto url = http::parse_url(settings_.token_url);
  if (!url) co_return "invalid token_url " + settings_.token_url;
  http::Request request{http::bhttp::verb::post, url->path, 11};
  request.set(http::Field::content_type, "application/x-www-form-urlencoded");
  request.set(http::Field::accept, "application/json");
  std::string body = "grant_type=client_credentials&client_id=" + form_encode(settings_.client_id) +
                     "&client_secret=" + form_encode(settings_.client_secret);
  if (!settings_.scope.empty()) body += "&scope=" + form_encode(settings_.scope);
  if (!settings_.resource.empty()) body += "&resource=" + form_encode(settings_.resource);
  request.body() = std::move(body);
  auto requested_at = std::chrono::steady_clock::now();
  const http::ProxyEndpoint* via = settings_.token_proxy ? &*settings_.token_proxy : nullptr;
  auto response = co_await pool.fetch(*url, std::move(request), std::chrono::seconds(10), {}, via);
  token_fetches_.fetch_add(1, std::memory_order_relaxed);
  if (!response)
    co_return "token endpoint " + settings_.token_url + ": " + response.error().message;
  if (response->result_int() != 200) {
    co_return "token endpoint " + settings_.token_url + " answered " +
        std::to_string(response->result_int());
  }
  boost::system::error_code ec;
  auto json = boost::json::parse(response->body(), ec);
  if (ec || !json.is_object()) co_return "token endpoint returned invalid JSON";
  const auto& object = json.as_object();
  auto* access = object.if_contains("access_token");
  if (!access || !access->is_string()) co_return "token endpoint response has no access_token";
  std::int64_t expires_in = 3600;
  if (auto* e = object.if_contains("expires_in")) {
    // v1 endpoints send it as a string, v2 as a number.
    if (e->is_int64()) expires_in = e->as_int64();
    if (e->is_string()) expires_in = std::atoll(e->as_string().c_str());
  }
  auto token = std::make_shared<Token>();
  token->bearer = "Bearer " + std::string(access->as_string());
  token->expires_at = requested_at + std::chrono::seconds(expires_in);
  token_.store(std::move(token), std::memory_order_release);
  co_return std::nullopt;
}

}  // namespace sluice::gateway
