#include "sluice/http/url.hpp"

#include <array>
#include <charconv>

namespace sluice::http {

namespace {
std::uint16_t default_port(const std::string& scheme) {
  return scheme == "https" ? 443 : 80;
}

bool fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}
}  // namespace

namespace {

// "host" or "[v6:host]", then ":port" when asked: built in one string of the right size (both are
// made for every proxied request, as the Host header and the connection pool's key).
void append_host_port(std::string& out, const std::string& host, std::uint16_t port,
                      bool with_port) {
  const bool bracketed = host.find(':') != std::string::npos;
  char digits[8];
  std::size_t digit_count = 0;
  if (with_port) {
    digit_count =
        static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, port).ptr - digits);
  }
  out.reserve(out.size() + host.size() + (bracketed ? 2 : 0) + (with_port ? 1 + digit_count : 0));
  if (bracketed) out += '[';
  out += host;
  if (bracketed) out += ']';
  if (with_port) {
    out += ':';
    out.append(digits, digit_count);
  }
}

// The last few Urls a thread wrote one way (Host, or origin), by their parts, with the text. A
// gateway worker writes its backends' Host and origin (the connection pool's key) for every
// request, and putting one together (a search for ':', the port's digits, four appends) cost
// ~250 instructions a time; comparing the parts costs a fraction of that.
class WrittenUrls {
 public:
  template <class Write>
  void append(const Url& url, std::string& out, Write write) {
    for (const auto& entry : entries_) {
      if (entry.used && entry.port == url.port && entry.host == url.host &&
          entry.scheme == url.scheme) {
        out += entry.text;
        return;
      }
    }
    Entry& entry = entries_[next_];
    next_ = (next_ + 1) % entries_.size();
    entry.used = true;
    entry.scheme = url.scheme;
    entry.host = url.host;
    entry.port = url.port;
    entry.text.clear();
    write(entry.text);
    out += entry.text;
  }

 private:
  struct Entry {
    bool used = false;
    std::string scheme;
    std::string host;
    std::uint16_t port = 0;
    std::string text;
  };
  std::array<Entry, 4> entries_;  // a pool's members, mostly
  std::size_t next_ = 0;
};

}  // namespace

std::string Url::host_header() const {
  std::string out;
  append_host_header(out);
  return out;
}

std::string Url::origin() const {
  std::string out;
  append_origin(out);
  return out;
}

void Url::append_host_header(std::string& out) const {
  thread_local WrittenUrls written;
  written.append(*this, out, [this](std::string& text) {
    append_host_port(text, host, port, port != default_port(scheme));
  });
}

void Url::append_origin(std::string& out) const {
  thread_local WrittenUrls written;
  written.append(*this, out, [this](std::string& text) {
    text.reserve(scheme.size() + 3 + host.size() + 8);
    text += scheme;
    text += "://";
    append_host_port(text, host, port, true);
  });
}

std::optional<Url> parse_url(std::string_view text, std::string* error) {
  Url url;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    fail(error,
         "'" + std::string(text) + "' is not an absolute URL (expected http:// or https://)");
    return std::nullopt;
  }
  url.scheme = std::string(text.substr(0, scheme_end));
  for (auto& c : url.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (url.scheme != "http" && url.scheme != "https") {
    fail(error, "unsupported scheme '" + url.scheme + "' (expected http or https)");
    return std::nullopt;
  }
  std::string_view rest = text.substr(scheme_end + 3);
  auto path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  url.path = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (!url.path.empty() && url.path[0] == '?') url.path = "/" + url.path;
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);  // credentials in URLs are ignored, never logged
  }
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      fail(error, "unterminated IPv6 address in '" + std::string(text) + "'");
      return std::nullopt;
    }
    url.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port_text = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) {
    fail(error, "no host in '" + std::string(text) + "'");
    return std::nullopt;
  }
  url.port = default_port(url.scheme);
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      fail(error, "invalid port '" + std::string(port_text) + "' in '" + std::string(text) + "'");
      return std::nullopt;
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

}  // namespace sluice::http
