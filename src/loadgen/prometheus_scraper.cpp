#include "prometheus_scraper.hpp"

#include <map>
#include "sluice/core/thread_name.hpp"

namespace sluice::loadgen {
namespace asio = http::asio;

bool metric_selected(std::string_view family, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (family.starts_with(std::string_view(p).substr(0, p.size() - 1))) return true;
    } else if (family == p) {
      return true;
    }
  }
  return false;
}

PrometheusScraper::PrometheusScraper(std::vector<ScrapeTarget> targets, http::ClientSettings client)
    : targets_(std::move(targets)), client_(std::move(client)) {}

PrometheusScraper::~PrometheusScraper() {
  stop();
}

void PrometheusScraper::start() {
  if (targets_.empty()) return;
  pool_ = std::make_unique<http::ClientPool>(ioc_.get_executor(), client_);
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    asio::co_spawn(ioc_, scrape_loop(i), asio::detached);
  }
  thread_ = std::thread([this] {
    core::name_this_thread("load-scraper");
    ioc_.run();
  });
}

void PrometheusScraper::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<ScrapedSeries> PrometheusScraper::take_series() {
  std::lock_guard lock(mu_);
  return std::move(series_);
}

http::Task<void> PrometheusScraper::scrape_loop(std::size_t index) {
  const auto& target = targets_[index];
  auto url = http::parse_url(target.url);
  if (!url) co_return;
  std::map<std::string, std::size_t, std::less<>> slots;
  http::SteadyTimer timer(ioc_);
  auto next = std::chrono::steady_clock::now();
  while (!stop_) {
    http::Request req{http::bhttp::verb::get, url->path, 11};
    req.set(http::Field::accept, "text/plain");
    auto res = co_await pool_->fetch(*url, std::move(req),
                                     std::min<Millis>(target.interval * 2, Millis(5'000)));
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    if (res && res->result_int() == 200) {
      std::lock_guard lock(mu_);
      parse_prometheus_text(
          res->body(),
          [&](std::string_view family) { return metric_selected(family, target.metrics); },
          [&](std::string_view series, double value) {
            auto it = slots.find(series);
            if (it == slots.end()) {
              if (slots.size() >= target.max_series) return;
              it = slots.emplace(std::string(series), series_.size()).first;
              series_.push_back(ScrapedSeries{target.name, std::string(series), {}});
            }
            series_[it->second].points.emplace_back(now_ms, value);
          });
    }
    // Wake in small steps so stop() is prompt.
    next += target.interval;
    while (!stop_ && std::chrono::steady_clock::now() < next) {
      timer.expires_after(
          std::min<std::chrono::nanoseconds>(next - std::chrono::steady_clock::now(), Millis(100)));
      co_await timer.async_wait(http::kUseTuple);
    }
  }
}

}  // namespace sluice::loadgen
