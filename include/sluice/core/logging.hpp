#pragma once
// Process logging: spdlog to stderr, as text for people or JSON lines for collectors.
//
//   auto settings = log_settings_from_env({.levels = config_level});   // SLUICE_LOG wins
//   if (auto ok = init_logging(*settings); !ok) ...
//   auto log = get_logger("http");   // keep the pointer; logging through it is thread-safe
//   log->info("listening on {}", endpoint);
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/logger.h>

#include "sluice/core/result.hpp"

namespace sluice::core {

enum class LogFormat { kText, kJson };

struct LogSettings {
  // A default level, optionally followed by per-logger levels: "info" or "info,http=debug".
  // Levels: trace, debug, info, warn (or warning), error, critical, off.
  std::string levels = "info";
  LogFormat format = LogFormat::kText;
};

// "text" or "json".
Result<LogFormat> parse_log_format(std::string_view text);

// `base` with SLUICE_LOG (levels) and SLUICE_LOG_FORMAT (text|json) applied when they are set, so
// an operator can turn on debug logging without editing config. Errors name the variable. Reads the
// environment: call from one thread at startup.
Result<LogSettings> log_settings_from_env(LogSettings base = {});

// Validates and applies `settings` to every logger, existing and future. Output goes to stderr, or
// to `sink` when given (tests capture output this way); the destination is swapped atomically so
// this may be called again on reload while other threads log. On error nothing changes.
Result<void> init_logging(const LogSettings& settings, spdlog::sink_ptr sink = nullptr);

// The logger called `name` (one per component: "http", "gateway", "sim"), created on first use with
// the current level for that name and format. Any thread; takes a lock, so components fetch it once
// and keep it. Also works before init_logging (info level, text, stderr).
std::shared_ptr<spdlog::logger> get_logger(std::string_view name);

}  // namespace sluice::core
