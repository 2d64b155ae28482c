#include "sluice/loadgen/data_set.hpp"

#include <fstream>
#include <sstream>

namespace sluice::loadgen {
namespace {

core::Error invalid(std::string message) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(message)};
}

}  // namespace

core::Result<DataSet> parse_csv(std::string_view text, std::string_view source,
                                const DataSetSpec& spec, int engine_index, int engine_count) {
  DataSet out;
  out.name = spec.name;
  out.recycle = spec.recycle;
  out.stop_thread_at_end = spec.stop_thread_at_end;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);

  std::size_t pos = 0;
  int line = 1;
  bool header_pending = spec.header;
  std::size_t data_index = 0;
  std::string where(source);
  while (pos < text.size()) {
    int row_line = line;
    std::vector<std::string> fields;
    std::string field;
    bool row_done = false;
    bool any = false;
    while (!row_done) {
      if (pos >= text.size()) {
        fields.push_back(std::move(field));
        break;
      }
      char c = text[pos];
      if (spec.quoted && c == '"' && field.empty()) {
        // Quoted field: runs to the closing quote; "" is a literal quote.
        std::size_t open_line = line;
        ++pos;
        bool closed = false;
        while (pos < text.size()) {
          char q = text[pos];
          if (q == '"') {
            if (pos + 1 < text.size() && text[pos + 1] == '"') {
              field += '"';
              pos += 2;
              continue;
            }
            ++pos;
            closed = true;
            break;
          }
          if (q == '\n') ++line;
          field += q;
          ++pos;
        }
        if (!closed) {
          return invalid(where + ":" + std::to_string(open_line) +
                         ": unterminated quoted field (a '\"' opens a field that never closes)");
        }
        any = true;
        if (pos < text.size() && text[pos] != spec.delimiter && text[pos] != '\n' &&
            text[pos] != '\r') {
          return invalid(where + ":" + std::to_string(line) +
                         ": unexpected text after a closing quote (quote the whole field, and "
                         "double any quote inside it)");
        }
        continue;
      }
      if (c == spec.delimiter) {
        fields.push_back(std::move(field));
        field.clear();
        any = true;
        ++pos;
      } else if (c == '\r' || c == '\n') {
        if (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ++pos;
        ++pos;
        ++line;
        fields.push_back(std::move(field));
        row_done = true;
      } else {
        field += c;
        any = true;
        ++pos;
      }
    }
    if (!any && fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (header_pending) {
      header_pending = false;
      if (spec.variables.empty()) {
        out.columns = std::move(fields);
        for (auto& name : out.columns) {
          if (name.empty()) {
            return invalid(where + ":" + std::to_string(row_line) +
                           ": empty column name in the header line");
          }
        }
      }
      continue;
    }
    if (out.columns.empty()) {
      if (spec.variables.empty()) {
        return invalid(where + ": no variable names: give `variables` or set `header: true`");
      }
      out.columns = spec.variables;
    }
    if (fields.size() != out.columns.size()) {
      return invalid(where + ":" + std::to_string(row_line) + ": row has " +
                     std::to_string(fields.size()) + " field" + (fields.size() == 1 ? "" : "s") +
                     ", expected " + std::to_string(out.columns.size()) + " (" +
                     [&] {
                       std::string names;
                       for (const auto& c : out.columns) names += (names.empty() ? "" : ", ") + c;
                       return names;
                     }() +
                     ")");
    }
    std::size_t index = data_index++;
    if (spec.split_across_engines && engine_count > 1 &&
        index % static_cast<std::size_t>(engine_count) != static_cast<std::size_t>(engine_index)) {
      continue;
    }
    out.rows.push_back(std::move(fields));
  }
  if (out.columns.empty()) out.columns = spec.variables;
  if (out.rows.empty()) {
    return invalid(where + ": no data rows" +
                   (spec.split_across_engines && engine_count > 1
                        ? " for engine " + std::to_string(engine_index) + " of " +
                              std::to_string(engine_count) + " (fewer rows than engines)"
                        : std::string()));
  }
  return out;
}

core::Result<DataSet> load_data_set(const DataSetSpec& spec, int engine_index, int engine_count) {
  std::ifstream in(spec.path, std::ios::binary);
  std::string at = spec.declared_at.empty() ? "" : spec.declared_at + ": ";
  if (!in) {
    return core::Error{core::ErrorCode::kNotFound,
                       at + "data set file " + spec.path + " cannot be opened"};
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto parsed = parse_csv(buffer.str(), spec.path, spec, engine_index, engine_count);
  if (!parsed) return invalid(at + parsed.error().message);
  return parsed;
}

const std::vector<std::string>* DataCursor::next() {
  std::size_t i = cursor_.fetch_add(1, std::memory_order_relaxed);
  std::size_t n = data_->rows.size();
  if (i >= n) {
    if (!data_->recycle) return nullptr;
    i %= n;
  }
  return &data_->rows[i];
}

const std::vector<std::string>* DataCursor::next_private(std::size_t& cursor) const {
  std::size_t n = data_->rows.size();
  std::size_t i = cursor++;
  if (i >= n) {
    if (!data_->recycle) return nullptr;
    i %= n;
  }
  return &data_->rows[i];
}

}  // namespace sluice::loadgen
