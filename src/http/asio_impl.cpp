// The one translation unit that compiles Boost.Asio and Beast (separate compilation, see
// src/http/CMakeLists.txt): every other file only includes their declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>

// The order of the next two matters. Beast's header parser with a faster scan of header values
// (src/http/beast_basic_parser.ipp). It takes the include guard of Beast's own basic_parser.ipp, so
// Beast's src.hpp, next, skips that.
// clang-format off
#include "http/beast_basic_parser.ipp"
#include <boost/beast/src.hpp>
// clang-format on
