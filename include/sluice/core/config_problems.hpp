#pragma once
// Every problem of one input, reported together. A user who meets three missing secrets and an
// unsupported element should fix all four in one pass, the way a compiler lists every error,
// instead of meeting them one run at a time.
#include <cstddef>
#include <vector>

#include "sluice/core/config_error.hpp"

namespace sluice::core {

// A ConfigError that carries several problems. where()/path()/message() are the first one's;
// what() lists each as "file:line:col: path: message" on its own line, then how many there are.
class ConfigErrorList : public ConfigError {
 public:
  explicit ConfigErrorList(std::vector<ConfigError> problems);

  const std::vector<ConfigError>& problems() const noexcept { return problems_; }
  const char* what() const noexcept override { return text_.c_str(); }

 private:
  std::vector<ConfigError> problems_;
  std::string text_;
};

// Collects problems while an input is read, so reading can go on past the first.
class ConfigProblems {
 public:
  // A ConfigErrorList is added as its problems, so nested collectors flatten.
  void add(const ConfigError& problem);
  bool empty() const noexcept { return problems_.empty(); }
  std::size_t size() const noexcept { return problems_.size(); }
  const std::vector<ConfigError>& all() const noexcept { return problems_; }

  // Runs `step`; a ConfigError it throws is recorded and reading goes on. True when it succeeded.
  template <class Step>
  bool attempt(Step&& step) {
    try {
      step();
      return true;
    } catch (const ConfigError& e) {
      add(e);
      return false;
    }
  }

  // Throws the single problem as it is, several as a ConfigErrorList; nothing when empty.
  void throw_if_any() const;

 private:
  std::vector<ConfigError> problems_;
};

}  // namespace sluice::core
