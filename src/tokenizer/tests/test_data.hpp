#pragma once
// Loading the JSON Lines test vectors kept in src/tokenizer/tests/data/.
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "sluice/tokenizer/encoding.hpp"

namespace sluice::tokenizer::testing {

struct Case {
  std::string encoding;
  std::string text;
  std::vector<Rank> ids;
  bool allow_all_special = false;
  std::string note;
};

inline std::vector<Case> load_cases(const std::string& file_name) {
  const std::string path =
      std::string(SLUICE_SOURCE_DIR) + "/src/tokenizer/tests/data/" + file_name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const boost::json::object obj = boost::json::parse(line).as_object();
    Case c;
    c.encoding = obj.at("encoding").as_string().c_str();
    const auto& text = obj.at("text").as_string();
    c.text.assign(text.data(), text.size());
    for (const auto& id : obj.at("ids").as_array()) c.ids.push_back(id.to_number<Rank>());
    if (const auto* special = obj.if_contains("allowed_special")) {
      c.allow_all_special = special->is_string() && special->as_string() == "all";
    }
    if (const auto* note = obj.if_contains("note")) c.note = note->as_string().c_str();
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace sluice::tokenizer::testing
