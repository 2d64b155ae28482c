#pragma once
// The `tracing` policy's section, read and checked once (docs/tracing.md is the reference):
//
//   policies:
//     tracing:
//       endpoint: http://otel-collector:4318   # OTLP/HTTP base URL; /v1/traces is appended
//       protocol: http/protobuf                # the only one (the collector's default)
//       sample_ratio: 1.0                      # share of new traces kept
//       batch_size: 1024                       # spans per export request
//       queue_size: 8192                       # spans waiting for export; beyond: dropped
//       interval: 1s                           # longest wait before a partial batch goes out
//       timeout: 5s                            # per export request, and the flush at shutdown
//       service_name: sluice                   # resource attribute service.name
//       resource: {deployment.environment: prod}
//       headers: {x-api-key: ${COLLECTOR_KEY}} # sent with every export
//       proxy: http://proxy:3128 | none        # default: the config's proxy for the endpoint
#include "sluice/core/config_node.hpp"
#include "sluice/http/proxy_selection.hpp"
#include "sluice/telemetry/otlp_exporter.hpp"

namespace sluice::gateway {

struct TracingSettings {
  double sample_ratio = 1.0;
  telemetry::OtlpExporterSettings exporter;

  // `default_proxies`: the config's top-level `proxy:`/`no_proxy:` (else the environment), used
  // for the endpoint unless the section says `proxy:`; null: direct. Throws core::ConfigError
  // naming file, line and key.
  static TracingSettings from_config(const core::ConfigNode& node,
                                     const http::ProxySelection* default_proxies = nullptr);
};

}  // namespace sluice::gateway
