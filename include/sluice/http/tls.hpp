#pragma once
// TLS contexts for both sides (OpenSSL 3 through Boost.Asio). Built once at startup.
#include <memory>
#include <string>

#include "sluice/http/asio.hpp"

namespace sluice::http {

struct TlsServerSettings {
  std::string cert_file;  // PEM chain
  std::string key_file;   // PEM private key
};

struct TlsClientSettings {
  std::string ca_file;  // extra trust anchors (PEM); system store is always used
  bool verify_peer = true;
};

// Throws std::runtime_error naming the file on a bad certificate or key.
std::shared_ptr<asio::ssl::context> make_server_tls_context(const TlsServerSettings& settings);
std::shared_ptr<asio::ssl::context> make_client_tls_context(const TlsClientSettings& settings);

}  // namespace sluice::http
