// Each failure a user meets while connecting, and the words they get for it.
#include "http/connection_error_text.hpp"

#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace sluice::http {
namespace {

using namespace std::chrono_literals;

const Url kHttps = *parse_url("https://aoai.example.com:8443");

// The code OpenSSL's handshake reports for `reason`, as Asio hands it on.
error_code ssl_error(int reason) {
  // The real client loads OpenSSL's texts when it makes its TLS context; this test makes none.
  OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, nullptr);
  return error_code(static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, reason)),
                    asio::error::get_ssl_category());
}

std::string verify_failure(long verify_result) {
  return tls_failure_text(kHttps, ssl_error(SSL_R_CERTIFICATE_VERIFY_FAILED), verify_result, 5s);
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE((text).find(part), std::string::npos) << "missing \"" << (part) << "\" in: " << (text)

TEST(ConnectionErrorText, PlainHttpOnAnHttpsUrlSuggestsHttp) {
  auto text = tls_failure_text(kHttps, ssl_error(SSL_R_WRONG_VERSION_NUMBER), X509_V_OK, 5s);
  EXPECT_EQ(text.rfind("TLS handshake with https://aoai.example.com:8443 failed: ", 0), 0u) << text;
  EXPECT_CONTAINS(text, "answered in plain HTTP, not TLS; use http://aoai.example.com:8443");
  EXPECT_CONTAINS(text, "wrong version number");  // OpenSSL's words stay, for searching
  EXPECT_CONTAINS(tls_failure_text(kHttps, ssl_error(SSL_R_PACKET_LENGTH_TOO_LONG), 0, 5s),
                  "did not answer in TLS");
}

TEST(ConnectionErrorText, UntrustedCertificatesNameTheHostAndHowToTrustThem) {
  auto self_signed = verify_failure(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  EXPECT_CONTAINS(self_signed, "certificate of 'aoai.example.com' is self-signed");
  EXPECT_CONTAINS(self_signed, "--ca-file");
  EXPECT_CONTAINS(self_signed, "SSL_CERT_FILE");
  EXPECT_CONTAINS(self_signed, "certificate verify failed");
  for (long unknown_ca :
       {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
        X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE}) {
    auto text = verify_failure(unknown_ca);
    EXPECT_CONTAINS(text, "'aoai.example.com' is issued by a CA this machine does not trust");
    EXPECT_CONTAINS(text, "--ca-file");
  }
  auto other = verify_failure(X509_V_ERR_CERT_REVOKED);
  EXPECT_CONTAINS(other, "could not be verified: certificate revoked");
}

TEST(ConnectionErrorText, HostnameMismatchAndCertificateDates) {
  auto mismatch = verify_failure(X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_CONTAINS(mismatch, "certificate is not issued for 'aoai.example.com'");
  EXPECT_CONTAINS(mismatch, "--connect-to");
  EXPECT_CONTAINS(verify_failure(X509_V_ERR_IP_ADDRESS_MISMATCH), "not issued for");
  EXPECT_CONTAINS(verify_failure(X509_V_ERR_CERT_HAS_EXPIRED), "'aoai.example.com' has expired");
  EXPECT_CONTAINS(verify_failure(X509_V_ERR_CERT_NOT_YET_VALID), "is not valid yet");
}

TEST(ConnectionErrorText, HandshakeTimeoutsClosesAndVersionMismatches) {
  auto timeout = tls_failure_text(kHttps, beast::error::timeout, X509_V_OK, 2500ms);
  EXPECT_CONTAINS(timeout, "no TLS answer within 2500ms");
  EXPECT_CONTAINS(tls_failure_text(kHttps, beast::error::timeout, X509_V_OK, 5s), "within 5s");
  EXPECT_CONTAINS(tls_failure_text(kHttps, asio::ssl::error::stream_truncated, X509_V_OK, 5s),
                  "closed the connection during the handshake");
  EXPECT_CONTAINS(
      tls_failure_text(kHttps, ssl_error(SSL_R_TLSV1_ALERT_PROTOCOL_VERSION), X509_V_OK, 5s),
      "share no TLS version or cipher");
  // Anything not translated still says which handshake failed, in OpenSSL's words.
  auto untranslated = tls_failure_text(kHttps, ssl_error(SSL_R_BAD_ECPOINT), X509_V_OK, 5s);
  EXPECT_EQ(untranslated.rfind("TLS handshake with https://aoai.example.com:8443 failed: ", 0), 0u);
}

TEST(ConnectionErrorText, ConnectFailures) {
  const Url local = *parse_url("http://127.0.0.1:1");
  auto refused = connect_failure_text(local, asio::error::connection_refused, 5s);
  EXPECT_EQ(refused.rfind("cannot connect to http://127.0.0.1:1: ", 0), 0u) << refused;
  EXPECT_CONTAINS(refused, "nothing is listening on 127.0.0.1:1");
  auto timeout = connect_failure_text(kHttps, beast::error::timeout, 5s);
  EXPECT_CONTAINS(timeout, "no answer within 5s");
  EXPECT_CONTAINS(connect_failure_text(kHttps, asio::error::network_unreachable, 5s),
                  "no route to aoai.example.com");
  const Url v6 = *parse_url("http://[::1]:8080");
  EXPECT_CONTAINS(connect_failure_text(v6, asio::error::connection_refused, 5s),
                  "nothing is listening on [::1]:8080");
}

TEST(ConnectionErrorText, HttpToATlsServerSuggestsHttps) {
  constexpr std::string_view kOrigin = "http://aoai.example.com:8443";
  auto alert = no_http_answer_text(kOrigin, bhttp::error::bad_version, 0x15);
  EXPECT_EQ(alert.rfind("reading from http://aoai.example.com:8443: ", 0), 0u) << alert;
  EXPECT_CONTAINS(alert, "answered in TLS, not plain HTTP; use https://aoai.example.com:8443");
  EXPECT_CONTAINS(no_http_answer_text(kOrigin, bhttp::error::bad_version, 0x16), "answered in TLS");
  auto closed = no_http_answer_text(kOrigin, bhttp::error::end_of_stream, -1);
  EXPECT_CONTAINS(closed, "closed the connection without answering");
  EXPECT_CONTAINS(closed, "use https://aoai.example.com:8443");
  // An answer that is merely not HTTP says so plainly, without guessing at TLS.
  auto garbage = no_http_answer_text(kOrigin, bhttp::error::bad_version, 'S');
  EXPECT_EQ(garbage.find("https://"), std::string::npos) << garbage;
  EXPECT_CONTAINS(garbage, "reading from http://aoai.example.com:8443: ");
}

TEST(ConnectionErrorText, DnsFailuresNameTheHost) {
  auto missing = resolve_failure_text("myaoai.openai.azure.com", asio::error::host_not_found);
  EXPECT_EQ(missing.rfind("cannot resolve host 'myaoai.openai.azure.com': no such name in DNS", 0),
            0u)
      << missing;
  EXPECT_CONTAINS(missing, "private DNS zone");
  EXPECT_CONTAINS(missing, "--resolve");
  EXPECT_CONTAINS(resolve_failure_text("x.example", asio::error::host_not_found_try_again),
                  "DNS server gave no answer");
}

}  // namespace
}  // namespace sluice::http
