#include "sluice/core/config_problems.hpp"

#include <algorithm>
#include <string_view>
#include <tuple>

namespace sluice::core {

ConfigErrorList::ConfigErrorList(std::vector<ConfigError> problems)
    : ConfigError(problems.empty() ? ConfigError({}, "", "no problems") : problems.front()),
      problems_(std::move(problems)) {
  for (const auto& p : problems_) {
    text_ += p.what();
    text_ += '\n';
  }
  text_ += std::to_string(problems_.size()) + " problems; fix them all, then run again";
}

void ConfigProblems::add(const ConfigError& problem) {
  if (const auto* list = dynamic_cast<const ConfigErrorList*>(&problem)) {
    problems_.insert(problems_.end(), list->problems().begin(), list->problems().end());
    return;
  }
  // The same problem reached twice (a value shared by two elements) is reported once.
  for (const auto& p : problems_) {
    if (std::string_view(p.what()) == problem.what()) return;
  }
  problems_.push_back(problem);
}

void ConfigProblems::throw_if_any() const {
  if (problems_.empty()) return;
  if (problems_.size() == 1) throw problems_.front();
  // In file order, as a compiler lists them: files as they were first met, then line and column.
  std::vector<std::string> files;
  for (const auto& p : problems_) {
    if (std::find(files.begin(), files.end(), p.where().file) == files.end())
      files.push_back(p.where().file);
  }
  auto key = [&](const ConfigError& p) {
    auto file = std::find(files.begin(), files.end(), p.where().file) - files.begin();
    return std::tuple(file, p.where().line, p.where().column);
  };
  auto sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const ConfigError& a, const ConfigError& b) { return key(a) < key(b); });
  throw ConfigErrorList(std::move(sorted));
}

}  // namespace sluice::core
