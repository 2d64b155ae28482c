#pragma once
// Namespace aliases and the HTTP message types every sluice component shares.
// Boost.Asio and Beast are compiled once (src/http/asio_impl.cpp, separate compilation).
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace sluice::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
using ResponseHeader = bhttp::response_header<>;
using Field = bhttp::field;
using Status = bhttp::status;

template <class T>
using Task = asio::awaitable<T>;

// Completion token used throughout: errors come back as values, never as exceptions.
inline constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

}  // namespace sluice::http
