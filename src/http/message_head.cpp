#include "http/message_head.hpp"

namespace sluice::http {

namespace {

void append_version(unsigned version, std::string& out) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

void append_fields(const bhttp::fields& fields, std::string& out) {
  for (const auto& field : fields) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

void append_head(const bhttp::request_header<>& head, std::string& out) {
  out += head.method_string();
  out += ' ';
  out += head.target();
  out += ' ';
  append_version(head.version(), out);
  out += "\r\n";
  append_fields(head, out);
}

void append_head(const bhttp::response_header<>& head, std::string& out) {
  append_version(head.version(), out);
  // Always three digits, as Beast writes them.
  unsigned code = head.result_int();
  const char digits[] = {' ', static_cast<char>('0' + code / 100 % 10),
                         static_cast<char>('0' + code / 10 % 10),
                         static_cast<char>('0' + code % 10), ' '};
  out.append(digits, sizeof digits);
  out += head.reason();
  out += "\r\n";
  append_fields(head, out);
}

}  // namespace sluice::http
