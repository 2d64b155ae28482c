#pragma once
// A message's head (start line, fields, blank line) as one string, byte for byte what Beast's
// serializer writes. The hot paths send it with the body in one writev (message_writer.hpp):
// Beast's serializer walks a concatenation of a dozen buffer sequences per write, which was
// 6-9% of the gateway's cycles (docs/performance.md).
#include <string>

#include "sluice/http/asio.hpp"
#include "sluice/http/extra_fields.hpp"

namespace sluice::http {

// Appends "METHOD target HTTP/1.x\r\n", each field as "Name: value\r\n", then `extra`'s the
// same way, then "\r\n".
void append_head(const RequestHeader& head, std::string& out, const ExtraFields& extra = {});
// Appends "HTTP/1.x code reason\r\n", the fields and `extra`'s, then "\r\n".
void append_head(const ResponseHeader& head, std::string& out, const ExtraFields& extra = {});

}  // namespace sluice::http
