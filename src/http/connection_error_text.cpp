#include "http/connection_error_text.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace sluice::http {

namespace {

// How to make sluice trust a certificate it cannot verify. `sluice load` takes a CA file; the
// gateway and the rest of sluice use the system store, which OpenSSL also reads from SSL_CERT_FILE.
constexpr std::string_view kHowToTrust =
    "trust its CA with `--ca-file <ca.pem>` (sluice load) or by adding it to the system trust "
    "store or SSL_CERT_FILE (gateway); `--insecure` skips the check, for tests only";

std::string seconds_text(std::chrono::milliseconds timeout) {
  if (timeout.count() % 1000 == 0) return std::to_string(timeout.count() / 1000) + "s";
  return std::to_string(timeout.count()) + "ms";
}

std::string host_port(const Url& origin) {
  bool ipv6 = origin.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + origin.host + "]" : origin.host) + ":" + std::to_string(origin.port);
}

// The library's own words, kept for searching.
std::string raw(const error_code& ec) {
  return " [" + ec.message() + "]";
}

std::string certificate_text(const Url& origin, long verify_result) {
  const std::string host = "'" + origin.host + "'";
  switch (verify_result) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return "the certificate of " + host +
             " is self-signed, so nothing vouches for it: " + std::string(kHowToTrust);
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "the certificate of " + host +
             " is issued by a CA this machine does not trust (a private or corporate CA?): " +
             std::string(kHowToTrust);
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "the server's certificate is not issued for " + host +
             ": use the name the certificate is issued for (to reach it at another address, "
             "`--resolve` or `--connect-to` keep the name), or " +
             std::string(kHowToTrust);
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "the certificate of " + host + " has expired (or this machine's clock is wrong)";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "the certificate of " + host + " is not valid yet (is this machine's clock right?)";
    default:
      return "the certificate of " + host +
             " could not be verified: " + X509_verify_cert_error_string(verify_result) + "; " +
             std::string(kHowToTrust);
  }
}

}  // namespace

std::string resolve_failure_text(std::string_view host, error_code ec) {
  std::string text = "cannot resolve host '" + std::string(host) + "': ";
  if (ec == asio::error::host_not_found || ec == asio::error::no_data) {
    text +=
        "no such name in DNS; check the spelling. A private endpoint's name resolves only "
        "where its private DNS zone is linked (sluice load's `--resolve HOST:PORT:ADDRESS` pins "
        "an address)";
  } else if (ec == asio::error::host_not_found_try_again) {
    text += "the DNS server gave no answer; is DNS reachable from here? Try again";
  } else {
    return text + ec.message();
  }
  return text + raw(ec);
}

std::string connect_failure_text(const Url& origin, error_code ec,
                                 std::chrono::milliseconds timeout, std::string_view name) {
  std::string text =
      "cannot connect to " + (name.empty() ? origin.origin() : std::string(name)) + ": ";
  if (ec == asio::error::connection_refused) {
    return text + "nothing is listening on " + host_port(origin) +
           "; is the server running, and is the port right?" + raw(ec);
  }
  if (ec == beast::error::timeout) {
    return text + "no answer within " + seconds_text(timeout) +
           ": the host is down, a firewall drops the connection, or the address is wrong";
  }
  if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable) {
    return text + "no route to " + origin.host + " from here; is the network or VPN up?" + raw(ec);
  }
  return text + ec.message();
}

std::string tls_failure_text(const Url& origin, error_code ec, long verify_result,
                             std::chrono::milliseconds timeout) {
  std::string text = "TLS handshake with " + origin.origin() + " failed: ";
  if (ec == beast::error::timeout) {
    return text + "no TLS answer within " + seconds_text(timeout) +
           ": the server accepted the connection but did not answer in TLS; is it waiting for "
           "plain HTTP, or overloaded?";
  }
  if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof ||
      ec == asio::error::connection_reset) {
    return text +
           "the server closed the connection during the handshake; is this port serving TLS, "
           "and does the server accept this host name?" +
           raw(ec);
  }
  if (ec.category() == asio::error::get_ssl_category()) {
    switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
      case SSL_R_WRONG_VERSION_NUMBER:
        return text + "the server answered in plain HTTP, not TLS; use http://" +
               host_port(origin) + raw(ec);
      case SSL_R_PACKET_LENGTH_TOO_LONG:
        return text + "the server did not answer in TLS; is it plain HTTP or another protocol?" +
               raw(ec);
      case SSL_R_CERTIFICATE_VERIFY_FAILED:
        return text + certificate_text(origin, verify_result) + raw(ec);
      case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      case SSL_R_UNSUPPORTED_PROTOCOL:
      case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
      case SSL_R_NO_PROTOCOLS_AVAILABLE:
        return text +
               "the server and sluice share no TLS version or cipher (sluice speaks TLS 1.2 "
               "and 1.3)" +
               raw(ec);
      default:
        break;
    }
  }
  return text + ec.message();
}

std::string no_http_answer_text(std::string_view origin, error_code ec, int first_byte) {
  std::string text = "reading from " + std::string(origin) + ": ";
  auto colon = origin.find(':');  // after the scheme: origins are "http://host:port"
  std::string https = colon == std::string_view::npos ? "https://" + std::string(origin)
                                                      : "https" + std::string(origin.substr(colon));
  // 0x15 alert, 0x16 handshake: the content types a TLS server opens with.
  if (first_byte == 0x15 || first_byte == 0x16) {
    return text + "the server answered in TLS, not plain HTTP; use " + https + raw(ec);
  }
  if (first_byte < 0 && (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                         ec == asio::error::connection_reset)) {
    return text + "the server closed the connection without answering; if it serves HTTPS, use " +
           https + raw(ec);
  }
  return text + ec.message();
}

}  // namespace sluice::http
