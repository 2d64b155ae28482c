#include "sluice/gateway/gateway.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "gateway/admin.hpp"
#include "gateway/console/reload_status.hpp"
#include "gateway/console/secret_masking.hpp"
#include "gateway/console/traffic_ring.hpp"
#include "gateway/proxy.hpp"
#include "sluice/core/config_error.hpp"
#include "sluice/core/thread_name.hpp"
#include "sluice/tokenizer/encoding.hpp"

namespace sluice::gateway {

struct Gateway::Impl {
  std::filesystem::path config_file;
  PolicyRegistry registry;
  PolicyServices services;
  std::unique_ptr<RuntimeSource> source;
  std::vector<std::unique_ptr<Proxy>> proxies;
  std::vector<std::unique_ptr<http::Server>> servers;
  std::unique_ptr<AdminHandler> admin_handler;
  std::unique_ptr<http::Server> admin;
  std::atomic<bool> draining{false};
  std::mutex reload_mutex;
  console::ReloadStatus reloads;
  // Loads the default encoding (o200k_base: the fallback for every model the map does not know,
  // and the encoding of the current ones) while the listeners already answer. Loaded on first use
  // instead, it stalled that request's worker, and every stream on it, for ~50 ms (more on a busy
  // machine): the first burst after a start saw its time to first token jump by that much.
  std::thread tokenizer_load;
};

Gateway::Gateway(std::filesystem::path config_file, PolicyRegistry registry)
    : impl_(std::make_unique<Impl>()) {
  impl_->config_file = std::move(config_file);
  impl_->registry = std::move(registry);
  impl_->services.traffic = std::make_shared<console::TrafficRing>();
  auto settings = load_gateway_settings(impl_->config_file, impl_->registry, impl_->services);
  impl_->source = std::make_unique<RuntimeSource>(std::make_shared<Runtime>(std::move(settings)));
  const auto& s = impl_->source->current()->settings();
  for (const auto& listener : s.listeners) {
    auto proxy = std::make_unique<Proxy>(*impl_->source, listener.threads);
    Proxy* handler = proxy.get();
    impl_->servers.push_back(std::make_unique<http::Server>(
        listener, [handler](http::Exchange& exchange) { return handler->handle(exchange); }));
    impl_->proxies.push_back(std::move(proxy));
  }
  if (s.admin) {
    impl_->admin_handler = std::make_unique<AdminHandler>(
        *impl_->source, [impl = impl_.get()] { return impl->draining.load(); },
        [metrics = impl_->services.metrics](std::string& out) { metrics->write(out); },
        impl_->services.traffic, impl_->reloads);
    AdminHandler* handler = impl_->admin_handler.get();
    impl_->admin = std::make_unique<http::Server>(
        *s.admin, [handler](http::Exchange& exchange) { return handler->handle(exchange); });
  }
}

Gateway::~Gateway() {
  if (impl_->tokenizer_load.joinable()) impl_->tokenizer_load.join();
  for (auto& server : impl_->servers) server->shutdown(std::chrono::milliseconds(0));
  if (impl_->admin) impl_->admin->shutdown(std::chrono::milliseconds(0));
  // The proxies' pooled upstream connections are sockets and timers on the listeners' event
  // loops, and the listeners (declared after the proxies) are destroyed first: closed here, once
  // the loops' threads are done, they do not outlive the loops (valgrind saw ~ClientPool read
  // the freed timer queues of a destroyed loop).
  for (auto& server : impl_->servers) server->join();
  for (auto& proxy : impl_->proxies) proxy->close_upstream_connections();
}

void Gateway::start() {
  impl_->tokenizer_load = std::thread([] {
    core::name_this_thread("tokenizer-load");
    tokenizer::o200k_base();
  });
  for (auto& server : impl_->servers) server->start();
  if (impl_->admin) impl_->admin->start();
}

bool Gateway::reload(std::string* error) {
  std::lock_guard lock(impl_->reload_mutex);
  try {
    auto settings = load_gateway_settings(impl_->config_file, impl_->registry, impl_->services);
    const auto& old = impl_->source->current()->settings();
    bool listeners_changed = settings.listeners.size() != old.listeners.size();
    for (std::size_t i = 0; !listeners_changed && i < settings.listeners.size(); ++i) {
      listeners_changed = settings.listeners[i].address != old.listeners[i].address ||
                          settings.listeners[i].port != old.listeners[i].port ||
                          settings.listeners[i].threads != old.listeners[i].threads;
    }
    if (listeners_changed) {
      std::fprintf(stderr,
                   "gateway: listener changes in %s take effect at the next restart; routes, "
                   "pools, backends and policies are reloaded now\n",
                   impl_->config_file.c_str());
    }
    impl_->source->publish(std::make_shared<Runtime>(std::move(settings)));
    impl_->reloads.record({.at = std::chrono::system_clock::now(), .ok = true, .error = {}});
    return true;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    // The console shows this; a config error may quote the value it refused.
    impl_->reloads.record({.at = std::chrono::system_clock::now(),
                           .ok = false,
                           .error = console::mask_embedded_secrets(e.what())});
    return false;
  }
}

void Gateway::drain() {
  impl_->draining.store(true);
  auto timeout = impl_->source->current()->settings().drain_timeout;
  for (auto& server : impl_->servers) server->stop_accepting();
  for (auto& server : impl_->servers) server->shutdown(timeout);
  if (impl_->admin) impl_->admin->shutdown(std::chrono::milliseconds(100));
}

std::vector<std::uint16_t> Gateway::listener_ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& server : impl_->servers) ports.push_back(server->port());
  return ports;
}

std::uint16_t Gateway::admin_port() const {
  return impl_->admin ? impl_->admin->port() : 0;
}

const GatewaySettings& Gateway::settings() const {
  return impl_->source->current()->settings();
}

}  // namespace sluice::gateway
