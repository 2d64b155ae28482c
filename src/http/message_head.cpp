#include "http/message_head.hpp"

#include <cstring>

namespace sluice::http {

namespace {

void append_version(unsigned version, std::string& out) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

// Sized first, then written through a pointer: four appends per field (each checking capacity)
// were a measurable part of a proxied request.
void append_fields(const Fields& fields, const ExtraFields& extra, std::string& out) {
  std::size_t size = 2;
  for (const auto& field : fields) size += field.name_string().size() + field.value().size() + 4;
  for (const auto& field : extra) size += field.name.size() + field.value.size() + 4;
  const std::size_t start = out.size();
  out.resize(start + size);
  char* p = out.data() + start;
  auto put = [&p](std::string_view text) {
    std::memcpy(p, text.data(), text.size());
    p += text.size();
  };
  for (const auto& field : fields) {
    put(field.name_string());
    put(": ");
    put(field.value());
    put("\r\n");
  }
  for (const auto& field : extra) {
    put(field.name);
    put(": ");
    put(field.value);
    put("\r\n");
  }
  put("\r\n");
}

}  // namespace

void append_head(const RequestHeader& head, std::string& out, const ExtraFields& extra) {
  out += head.method_string();
  out += ' ';
  out += head.target();
  out += ' ';
  append_version(head.version(), out);
  out += "\r\n";
  append_fields(head, extra, out);
}

void append_head(const ResponseHeader& head, std::string& out, const ExtraFields& extra) {
  append_version(head.version(), out);
  // Always three digits, as Beast writes them.
  unsigned code = head.result_int();
  const char digits[] = {' ', static_cast<char>('0' + code / 100 % 10),
                         static_cast<char>('0' + code / 10 % 10),
                         static_cast<char>('0' + code % 10), ' '};
  out.append(digits, sizeof digits);
  out += head.reason();
  out += "\r\n";
  append_fields(head, extra, out);
}

}  // namespace sluice::http
