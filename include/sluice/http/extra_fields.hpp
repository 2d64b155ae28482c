#pragma once
// Fields the head writer appends after a message's own, rather than inserted into Beast's field
// set first. An insert costs ~300 instructions (an element allocated, name and value copied, the
// name placed in a case-insensitive tree); the gateway stamps fields on every upstream request and
// response that nothing reads again before they are written (x-forwarded-for,
// x-ms-client-request-id, traceparent, the response's request ids). As extra fields their text goes
// straight into the head.
//
// Rules for whoever adds one:
// - Only views are kept: the name and value must outlive the message's write (a literal, the
//   request's id in its context, a policy's per-request state).
// - They follow the message's fields as they are. A name the message already has goes out twice,
//   so add one only where the message has none of that name, or where repeating it is right.
// - No framing fields (Host, Connection, Content-Length, Transfer-Encoding): the writer reads
//   framing from the message's own fields. (The HTTP client adds a request's Content-Length
//   itself, last, once nothing reads the fields again.)
// - A message written through Beast's serializer (a chunked one) has them inserted into its
//   fields first (insert_into), so it goes out the same.
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::http {

struct ExtraField {
  std::string_view name;
  std::string_view value;
};

class ExtraFields {
 public:
  // The most any path adds is four: x-forwarded-for, x-ms-client-request-id, traceparent and the
  // client's Content-Length on an upstream request.
  static constexpr std::size_t kCapacity = 6;

  void add(std::string_view name, std::string_view value) {
    if (size_ == kCapacity) {
      throw std::length_error("http::ExtraFields: more than " + std::to_string(kCapacity) +
                              " extra fields (raise kCapacity)");
    }
    fields_[size_++] = {name, value};
  }

  const ExtraField* begin() const noexcept { return fields_.data(); }
  const ExtraField* end() const noexcept { return fields_.data() + size_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  void clear() noexcept { size_ = 0; }

  // Moves them into `fields` (Beast's insert, in order), for a message that Beast's serializer
  // writes.
  template <class Fields>
  void insert_into(Fields& fields) {
    for (const auto& field : *this) fields.insert(field.name, field.value);
    clear();
  }

 private:
  std::array<ExtraField, kCapacity> fields_{};
  std::size_t size_ = 0;
};

}  // namespace sluice::http
