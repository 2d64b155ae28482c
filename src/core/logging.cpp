#include "sluice/core/logging.hpp"

#include <spdlog/details/registry.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <unordered_map>

#include "sluice/core/json_string.hpp"

namespace sluice::core {
namespace {

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [%n] %v";
constexpr std::string_view kDefaultLoggerName = "sluice";

Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

std::string trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return std::string(text);
}

Result<spdlog::level::level_enum> parse_level(std::string_view text) {
  using spdlog::level::level_enum;
  static const std::unordered_map<std::string_view, level_enum> kLevels{
      {"trace", level_enum::trace},       {"debug", level_enum::debug},  {"info", level_enum::info},
      {"warn", level_enum::warn},         {"warning", level_enum::warn}, {"error", level_enum::err},
      {"critical", level_enum::critical}, {"off", level_enum::off},
  };
  auto found = kLevels.find(text);
  if (found == kLevels.end()) {
    return invalid("unknown log level '" + std::string(text) +
                   "' (use trace, debug, info, warn, error, critical or off)");
  }
  return found->second;
}

struct ParsedLevels {
  spdlog::level::level_enum global = spdlog::level::info;
  spdlog::details::registry::log_levels per_logger;
};

Result<ParsedLevels> parse_levels(std::string_view spec) {
  ParsedLevels parsed;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string item = trim(spec.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    std::size_t equals = item.find('=');
    if (equals == std::string::npos) {
      auto level = parse_level(item);
      if (!level) return std::move(level).error();
      parsed.global = *level;
      continue;
    }
    std::string name = trim(std::string_view(item).substr(0, equals));
    if (name.empty()) return invalid("missing logger name before '=' in '" + item + "'");
    auto level = parse_level(trim(std::string_view(item).substr(equals + 1)));
    if (!level) return std::move(level).error();
    parsed.per_logger[name] = *level;
  }
  return parsed;
}

// One JSON object per line: {"time":"2024-01-01T00:00:00.000Z","level":"info","logger":"http",
// "thread":123,"msg":"..."}. A pattern cannot do this because the message needs escaping.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using namespace std::chrono;
    auto since_epoch = msg.time.time_since_epoch();
    std::time_t seconds =
        static_cast<std::time_t>(duration_cast<std::chrono::seconds>(since_epoch).count());
    auto millis = duration_cast<milliseconds>(since_epoch).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char time_text[64];
    std::snprintf(time_text, sizeof time_text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                  utc.tm_sec, static_cast<int>(millis));

    dest.append(std::string_view("{\"time\":\""));
    dest.append(std::string_view(time_text));
    dest.append(std::string_view("\",\"level\":"));
    auto level = spdlog::level::to_string_view(msg.level);
    append_json_string(dest, std::string_view(level.data(), level.size()));
    dest.append(std::string_view(",\"logger\":"));
    append_json_string(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    dest.append(std::string_view(",\"thread\":"));
    dest.append(std::to_string(msg.thread_id));
    dest.append(std::string_view(",\"msg\":"));
    append_json_string(dest, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(std::string_view("}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::unique_ptr<spdlog::formatter> make_formatter(LogFormat format) {
  if (format == LogFormat::kJson) return std::make_unique<JsonFormatter>();
  return std::make_unique<spdlog::pattern_formatter>(kTextPattern, spdlog::pattern_time_type::utc);
}

// Every logger writes into this one sink; init_logging swaps what it forwards to.
struct LoggingState {
  std::mutex mutex;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> sink;
};

LoggingState& state() {
  static LoggingState instance;
  return instance;
}

// Needs: state().mutex held.
std::shared_ptr<spdlog::sinks::dist_sink_mt> shared_sink() {
  auto& s = state();
  if (!s.sink) {
    s.sink = std::make_shared<spdlog::sinks::dist_sink_mt>(
        std::vector<spdlog::sink_ptr>{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()});
    s.sink->set_formatter(make_formatter(LogFormat::kText));
    spdlog::set_formatter(make_formatter(LogFormat::kText));
  }
  return s.sink;
}

// Needs: state().mutex held.
std::shared_ptr<spdlog::logger> get_or_create(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, shared_sink());
  spdlog::initialize_logger(logger);  // registers it and applies the configured level and format
  return logger;
}

}  // namespace

Result<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return invalid("unknown log format '" + std::string(text) + "' (use text or json)");
}

Result<LogSettings> log_settings_from_env(LogSettings base) {
  if (const char* levels = std::getenv("SLUICE_LOG"); levels != nullptr && *levels != '\0') {
    if (auto parsed = parse_levels(levels); !parsed) {
      return invalid("SLUICE_LOG: " + parsed.error().message);
    }
    base.levels = levels;
  }
  if (const char* format = std::getenv("SLUICE_LOG_FORMAT"); format != nullptr && *format != '\0') {
    auto parsed = parse_log_format(format);
    if (!parsed) return invalid("SLUICE_LOG_FORMAT: " + parsed.error().message);
    base.format = *parsed;
  }
  return base;
}

Result<void> init_logging(const LogSettings& settings, spdlog::sink_ptr sink) {
  auto levels = parse_levels(settings.levels);
  if (!levels) return std::move(levels).error();

  std::lock_guard lock(state().mutex);
  auto shared = shared_sink();
  if (!sink) sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  shared->set_sinks({sink});
  // Formatter before levels: the registry hands a clone to every logger and to the sinks below.
  spdlog::set_formatter(make_formatter(settings.format));
  shared->set_formatter(make_formatter(settings.format));
  spdlog::details::registry::instance().set_levels(std::move(levels->per_logger), &levels->global);
  spdlog::set_default_logger(get_or_create(std::string(kDefaultLoggerName)));
  return {};
}

std::shared_ptr<spdlog::logger> get_logger(std::string_view name) {
  std::lock_guard lock(state().mutex);
  return get_or_create(std::string(name));
}

}  // namespace sluice::core
