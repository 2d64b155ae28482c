#include "sluice/http/tls.hpp"

#include <stdexcept>

namespace sluice::http {

std::shared_ptr<asio::ssl::context> make_server_tls_context(const TlsServerSettings& settings) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  error_code ec;
  context->use_certificate_chain_file(settings.cert_file, ec);
  if (ec) {
    throw std::runtime_error("TLS certificate '" + settings.cert_file + "': " + ec.message());
  }
  context->use_private_key_file(settings.key_file, asio::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("TLS private key '" + settings.key_file + "': " + ec.message());
  return context;
}

std::shared_ptr<asio::ssl::context> make_client_tls_context(const TlsClientSettings& settings) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  error_code ec;
  context->set_default_verify_paths(ec);
  if (!settings.ca_file.empty()) {
    context->load_verify_file(settings.ca_file, ec);
    if (ec) throw std::runtime_error("CA file '" + settings.ca_file + "': " + ec.message());
  }
  context->set_verify_mode(settings.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
  return context;
}

}  // namespace sluice::http
