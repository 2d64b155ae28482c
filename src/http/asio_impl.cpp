// The one translation unit that compiles Boost.Asio and Beast (separate compilation, see
// src/http/CMakeLists.txt): every other file only includes their declarations.
// sluice's declarations first, as in every file (sluice/http/asio_short_read.hpp says why).
#include "sluice/http/asio.hpp"

// The order of the next two matters. Asio's epoll reactor with short reads marked drained unless
// the peer's FIN came (src/http/asio_epoll_reactor.ipp). It takes the include guard of Asio's own
// epoll_reactor.ipp, so Asio's src.hpp, next, skips that.
// clang-format off
#include "http/asio_epoll_reactor.ipp"
#include <boost/asio/impl/src.hpp>
// clang-format on
#include <boost/asio/ssl/impl/src.hpp>

// Asio is built without aligned allocation (CMakeLists.txt): its frames and handlers come from
// operator new, which is enough only while Asio asks for no more than operator new's alignment.
static_assert(BOOST_ASIO_DEFAULT_ALIGN <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
              "Asio's allocations need aligned allocation on this platform");

// The order of the next three matters. Beast's header parser with faster scans of targets, names
// and values (src/http/beast_basic_parser.ipp) and with the common Connection and Content-Length
// values decided at once (src/http/beast_basic_parser_impl.ipp). They take the include guards of
// Beast's own two basic_parser.ipp files, so Beast's src.hpp, next, skips those.
// clang-format off
#include "http/beast_basic_parser.ipp"
#include "http/beast_basic_parser_impl.ipp"
#include <boost/beast/src.hpp>
// clang-format on
