// The one translation unit that compiles Boost.Asio and Beast (separate compilation, see
// src/http/CMakeLists.txt): every other file only includes their declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>

// Asio is built without aligned allocation (CMakeLists.txt): its frames and handlers come from
// operator new, which is enough only while Asio asks for no more than operator new's alignment.
static_assert(BOOST_ASIO_DEFAULT_ALIGN <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
              "Asio's allocations need aligned allocation on this platform");

// The order of the next two matters. Beast's header parser with a faster scan of header values
// (src/http/beast_basic_parser.ipp). It takes the include guard of Beast's own basic_parser.ipp, so
// Beast's src.hpp, next, skips that.
// clang-format off
#include "http/beast_basic_parser.ipp"
#include <boost/beast/src.hpp>
// clang-format on
