#include "sluice/usage/report.hpp"

#include <algorithm>
#include <cstdio>

#include <boost/json.hpp>

#include "sluice/core/config.hpp"

namespace sluice::usage {

PriceTable PriceTable::load(const std::filesystem::path& file) {
  auto root = core::load_config_file(file);
  PriceTable table;
  table.currency = root.optional<std::string>("currency", "USD");
  for (const auto& [model, node] : root.section("models").entries()) {
    ModelPrice price;
    price.input = node.optional<double>("input", 0);
    price.output = node.optional<double>("output", 0);
    price.cached_input = node.optional<double>("cached_input", -1);
    if (price.input < 0) node.fail_at("input", "must not be negative");
    if (price.output < 0) node.fail_at("output", "must not be negative");
    node.finish();
    table.models.emplace(model, price);
  }
  root.finish();
  return table;
}

const ModelPrice* PriceTable::find(const std::string& model) const {
  const ModelPrice* best = nullptr;
  std::size_t best_length = 0;
  for (const auto& [name, price] : models) {
    bool match = model == name || (model.size() > name.size() && model.starts_with(name) &&
                                   model[name.size()] == '-');
    if (match && name.size() >= best_length) {
      best = &price;
      best_length = name.size();
    }
  }
  return best;
}

core::Result<std::vector<std::string>> parse_report_columns(std::string_view text) {
  std::vector<std::string> columns;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    auto column = std::string(text.substr(start, end - start));
    start = end + 1;
    if (column.empty()) continue;
    bool known = false;
    for (auto name : summary_columns()) known = known || name == column;
    if (!known) {
      std::string names;
      for (auto name : summary_columns()) names += (names.empty() ? "" : ", ") + std::string(name);
      return core::Error{core::ErrorCode::kInvalidArgument,
                         "unknown column '" + column + "' (choose from " + names + ")"};
    }
    columns.push_back(std::move(column));
  }
  return columns;
}

Report build_report(const std::vector<SummaryRow>& summary, const std::vector<std::string>& columns,
                    const PriceTable* prices) {
  Report report;
  report.columns = columns;
  report.priced = prices != nullptr;
  if (prices) report.currency = prices->currency;
  std::map<std::vector<std::string>, ReportRow> groups;
  for (const auto& s : summary) {
    auto& row = groups[s.keys];
    row.keys = s.keys;
    row.requests += s.requests;
    row.prompt_tokens += s.prompt_tokens;
    row.completion_tokens += s.completion_tokens;
    row.total_tokens += s.total_tokens;
    row.cached_tokens += s.cached_tokens;
    row.cache_hits += s.cache_hits;
    row.tokens_saved += s.tokens_saved;
    if (prices) {
      if (const auto* price = prices->find(s.model)) {
        double cached_rate = price->cached_input < 0 ? price->input : price->cached_input;
        double uncached =
            static_cast<double>(std::max<std::int64_t>(0, s.prompt_tokens - s.cached_tokens));
        row.cost += (uncached * price->input + static_cast<double>(s.cached_tokens) * cached_rate +
                     static_cast<double>(s.completion_tokens) * price->output) /
                    1000.0;
      } else if (s.total_tokens > 0) {
        report.unpriced_models.insert(s.model.empty() ? "(none)" : s.model);
      }
    }
  }
  for (auto& [keys, row] : groups) {
    report.total.requests += row.requests;
    report.total.prompt_tokens += row.prompt_tokens;
    report.total.completion_tokens += row.completion_tokens;
    report.total.total_tokens += row.total_tokens;
    report.total.cached_tokens += row.cached_tokens;
    report.total.cache_hits += row.cache_hits;
    report.total.tokens_saved += row.tokens_saved;
    report.total.cost += row.cost;
    report.rows.push_back(std::move(row));
  }
  for (auto& row : report.rows) {
    row.share = report.total.total_tokens > 0 ? static_cast<double>(row.total_tokens) /
                                                    static_cast<double>(report.total.total_tokens)
                                              : 0;
  }
  report.total.share = report.total.total_tokens > 0 ? 1 : 0;
  std::stable_sort(report.rows.begin(), report.rows.end(), [](const auto& a, const auto& b) {
    return a.total_tokens != b.total_tokens ? a.total_tokens > b.total_tokens : a.keys < b.keys;
  });
  return report;
}

namespace {

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// Share of the group's requests answered from the response cache, 0..1.
double hit_ratio(const ReportRow& row) {
  return row.requests > 0 ? static_cast<double>(row.cache_hits) / static_cast<double>(row.requests)
                          : 0;
}

std::string csv_field(const std::string& value) {
  if (value.find_first_of(",\"\n\r") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::vector<std::string> cells_of(const Report& report, const ReportRow& row, bool total) {
  std::vector<std::string> cells;
  for (std::size_t i = 0; i < report.columns.size(); ++i) {
    cells.push_back(total ? (i == 0 ? "TOTAL" : "") : (row.keys[i].empty() ? "-" : row.keys[i]));
  }
  cells.push_back(std::to_string(row.requests));
  cells.push_back(std::to_string(row.prompt_tokens));
  cells.push_back(std::to_string(row.completion_tokens));
  cells.push_back(std::to_string(row.total_tokens));
  cells.push_back(std::to_string(row.cached_tokens));
  cells.push_back(fixed(row.share * 100, 2));
  cells.push_back(std::to_string(row.cache_hits));
  cells.push_back(fixed(hit_ratio(row) * 100, 2));
  cells.push_back(std::to_string(row.tokens_saved));
  if (report.priced) cells.push_back(fixed(row.cost, 4));
  return cells;
}

std::vector<std::string> header_of(const Report& report) {
  std::vector<std::string> header = report.columns;
  for (const char* name : {"requests", "prompt_tokens", "completion_tokens", "total_tokens",
                           "cached_tokens", "share_pct", "cache_hits", "hit_pct", "tokens_saved"}) {
    header.push_back(name);
  }
  if (report.priced) header.push_back("cost_" + report.currency);
  return header;
}

}  // namespace

std::string format_report(const Report& report, ReportFormat format) {
  std::string out;
  if (format == ReportFormat::kJson) {
    boost::json::object root;
    root["columns"] = boost::json::value_from(report.columns);
    auto to_json = [&](const ReportRow& row) {
      boost::json::object o;
      for (std::size_t i = 0; i < report.columns.size() && i < row.keys.size(); ++i) {
        o[report.columns[i]] = row.keys[i];
      }
      o["requests"] = row.requests;
      o["prompt_tokens"] = row.prompt_tokens;
      o["completion_tokens"] = row.completion_tokens;
      o["total_tokens"] = row.total_tokens;
      o["cached_tokens"] = row.cached_tokens;
      o["share"] = row.share;
      o["cache_hits"] = row.cache_hits;
      o["hit_ratio"] = hit_ratio(row);
      o["tokens_saved"] = row.tokens_saved;
      if (report.priced) o["cost"] = row.cost;
      return o;
    };
    boost::json::array rows;
    for (const auto& row : report.rows) rows.push_back(to_json(row));
    root["rows"] = std::move(rows);
    root["total"] = to_json(report.total);
    if (report.priced) {
      root["currency"] = report.currency;
      root["unpriced_models"] = boost::json::value_from(report.unpriced_models);
    }
    return boost::json::serialize(root) + "\n";
  }
  auto header = header_of(report);
  std::vector<std::vector<std::string>> lines;
  for (const auto& row : report.rows) lines.push_back(cells_of(report, row, false));
  if (format == ReportFormat::kCsv) {
    for (std::size_t i = 0; i < header.size(); ++i) out += (i ? "," : "") + csv_field(header[i]);
    out += "\n";
    for (const auto& line : lines) {
      for (std::size_t i = 0; i < line.size(); ++i) out += (i ? "," : "") + csv_field(line[i]);
      out += "\n";
    }
    return out;
  }
  lines.push_back(cells_of(report, report.total, true));
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& line : lines) {
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  auto emit = [&](const std::vector<std::string>& line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      bool numeric = i >= report.columns.size();
      std::string pad(width[i] - line[i].size(), ' ');
      out += (i ? "  " : "") + (numeric ? pad + line[i] : line[i] + pad);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  };
  emit(header);
  std::size_t rule = 0;
  for (auto w : width) rule += w + 2;
  out += std::string(rule > 2 ? rule - 2 : 0, '-') + "\n";
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) emit(lines[i]);
  out += std::string(rule > 2 ? rule - 2 : 0, '-') + "\n";
  emit(lines.back());
  if (report.priced && !report.unpriced_models.empty()) {
    out += "no price for:";
    for (const auto& model : report.unpriced_models) out += " " + model;
    out += " (their tokens cost 0 above)\n";
  }
  return out;
}

}  // namespace sluice::usage
