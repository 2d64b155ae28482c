#pragma once
// Namespace aliases and the HTTP message types every sluice component shares.
// Boost.Asio and Beast are compiled once (src/http/asio_impl.cpp, separate compilation).
// First: sluice's copy of one Asio header, which every file must compile instead of Asio's own.
#include "sluice/http/asio_short_read.hpp"
// Then Asio and Beast.
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "sluice/http/field_allocator.hpp"

namespace sluice::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

// Every message's fields come from per-thread size classes (field_allocator.hpp says why). Name
// these rather than Beast's defaults: a bhttp::fields is a different type.
using FieldAlloc = FieldAllocator<char>;
using Fields = bhttp::basic_fields<FieldAlloc>;
using Request = bhttp::request<bhttp::string_body, Fields>;
using Response = bhttp::response<bhttp::string_body, Fields>;
using RequestHeader = bhttp::request_header<Fields>;
using ResponseHeader = bhttp::response_header<Fields>;
template <class Body>
using RequestParser = bhttp::request_parser<Body, FieldAlloc>;
template <class Body>
using ResponseParser = bhttp::response_parser<Body, FieldAlloc>;
using Field = bhttp::field;
using Status = bhttp::status;

// Every event loop in sluice is an io_context (each worker thread runs its own), so coroutines
// and I/O objects name its executor type instead of asio::any_io_executor, losing nothing: the
// type-erased executor's copies, moves, destructions and prefer(outstanding_work.tracked) cost
// ~3,100 of the ~51,000 instructions of a proxied request (callgrind.sh off: 51,040 -> 47,890).
using Executor = asio::io_context::executor_type;

template <class T>
using Task = asio::awaitable<T, Executor>;

// Completion token for a coroutine on Executor (asio::use_awaitable is for any_io_executor).
inline constexpr asio::use_awaitable_t<Executor> kUseAwaitable;

// Completion token used throughout: errors come back as values, never as exceptions.
inline constexpr auto kUseTuple = asio::as_tuple(kUseAwaitable);

// The I/O objects, on Executor.
using TcpSocket = asio::basic_stream_socket<asio::ip::tcp, Executor>;
using TcpAcceptor = asio::basic_socket_acceptor<asio::ip::tcp, Executor>;
using TcpResolver = asio::ip::basic_resolver<asio::ip::tcp, Executor>;
using TcpStream = beast::basic_stream<asio::ip::tcp, Executor, beast::unlimited_rate_policy>;
using SteadyTimer =
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, Executor>;

}  // namespace sluice::http
