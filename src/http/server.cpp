#include "sluice/http/server.hpp"

#include <sys/socket.h>

#include <cstdio>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "http/first_field.hpp"
#include "http/framing_fields.hpp"
#include "http/message_writer.hpp"
#include "http/read_ahead.hpp"
#include "http/read_ahead_starter.hpp"
#include "http/read_deadline.hpp"
#include "sluice/core/thread_name.hpp"

namespace sluice::http {

namespace {

using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<TcpStream>;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Feeds the parser the bytes already buffered, up to the end of the header (header_only) or of
// the whole message. Returns need_more when it wants bytes that have not arrived; a request that
// came whole in one read is parsed without another asynchronous read and its trip through the
// event loop.
template <class Parser>
error_code parse_buffered(Parser& parser, beast::flat_buffer& buffer, bool header_only) {
  while (header_only ? !parser.is_header_done() : !parser.is_done()) {
    if (buffer.size() == 0) return bhttp::error::need_more;
    error_code ec;
    std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec) return ec;
    if (used == 0) return bhttp::error::need_more;
  }
  return {};
}

// A request that cannot be parsed is `invalid_request_error` with a null code, as OpenAI and Azure
// OpenAI answer a body they cannot parse (and as the gateway answers malformed JSON).
constexpr std::string_view kMalformedRequestCode = "";

TcpSocket& lowest_socket(TcpStream& stream) {
  return stream.socket();
}

// A request the parser rejected (as opposed to a connection that closed or timed out).
bool is_malformed_http(error_code ec) {
  static const auto& http_category = bhttp::make_error_code(bhttp::error::bad_method).category();
  return ec.category() == http_category && ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message && ec != bhttp::error::header_limit &&
         ec != bhttp::error::body_limit;
}
TcpSocket& lowest_socket(TlsStream& stream) {
  return stream.next_layer().socket();
}

// `Expect: 100-continue`, looked for on every request by walking the fields, not with Beast's
// look-up by name (http/first_field.hpp).
bool expects_100_continue(const Fields& fields) {
  auto expect = first_field(fields, Field::expect);
  return expect && bhttp::token_list{*expect}.exists("100-continue");
}

}  // namespace

Response openai_error_response(Status status, std::string_view code, std::string_view message,
                               unsigned version) {
  boost::json::object error;
  error["message"] = message;
  error["type"] = static_cast<unsigned>(status) >= 500 ? "server_error" : "invalid_request_error";
  error["param"] = nullptr;
  // OpenAI and Azure OpenAI send `code: null` when the type says it all (a body or request they
  // cannot parse); a specific code only when there is one.
  if (code.empty()) {
    error["code"] = nullptr;
  } else {
    error["code"] = code;
  }
  boost::json::object body;
  body["error"] = std::move(error);
  Response response{status, version};
  response.set(Field::content_type, "application/json");
  response.body() = boost::json::serialize(body);
  response.prepare_payload();
  return response;
}

namespace {

struct OpenConnection;

// How long an exchange runs before its client's hang-up watch starts (read_ahead_starter.hpp).
constexpr std::chrono::milliseconds kWatchHangUpAfter{5};

struct Worker {
  int index = 0;
  // Every open plain or TLS session's connection; those waiting for their next request are
  // closed at once when draining. Worker-thread only. Declared before `io`, so it outlives it:
  // destroying the io_context destroys the sessions still suspended, and each leaves the list.
  std::list<OpenConnection*> connections;
  asio::io_context io{1};
  ReadAheadStarter read_ahead_starter{io.get_executor(), kWatchHangUpAfter};
  std::optional<TcpAcceptor> acceptor;
  std::thread thread;
};

// A session's entry in its worker's list, for as long as the session runs. Marking it idle and
// busy per request is two stores (a set of idle sockets cost an insert and an erase each).
struct OpenConnection {
  OpenConnection(Worker& worker, TcpSocket& socket) : worker(worker), socket(socket) {
    entry = worker.connections.insert(worker.connections.end(), this);
  }
  ~OpenConnection() { worker.connections.erase(entry); }
  OpenConnection(const OpenConnection&) = delete;
  OpenConnection& operator=(const OpenConnection&) = delete;

  Worker& worker;
  TcpSocket& socket;
  std::list<OpenConnection*>::iterator entry;
  bool idle = false;
};

}  // namespace

struct Server::Impl {
  ServerSettings settings;
  Handler handler;
  ErrorResponder errors;
  std::shared_ptr<asio::ssl::context> tls;
  std::vector<std::unique_ptr<Worker>> workers;
  ServerStats stats;
  std::atomic<bool> draining{false};
  std::uint16_t port = 0;
  std::once_flag shutdown_once;

  Task<void> accept_loop(Worker& worker);
  template <class Stream>
  Task<void> session(Stream stream, Worker& worker, std::string peer);
  template <class Stream>
  Task<bool> send_error(Stream& stream, Status status, std::string_view code,
                        std::string_view message, unsigned version);
};

// The Exchange given to handlers; one per request, on the worker's thread.
template <class Stream>
class SessionExchange final : public Exchange {
 public:
  // `request_keep_alive`: what the parser read of the request's version and Connection header
  // (asking the message again costs a string search of its fields each time).
  SessionExchange(Stream& stream, Request request, bool request_keep_alive, const std::string& peer,
                  int worker, const ServerSettings& settings, std::atomic<bool>& draining,
                  ReadAhead* read_ahead, std::string& head_buffer,
                  std::chrono::steady_clock::time_point received_at)
      : stream_(stream),
        request_(std::move(request)),
        request_keep_alive_(request_keep_alive),
        peer_(peer),
        worker_(worker),
        settings_(settings),
        draining_(draining),
        read_ahead_(read_ahead),
        head_buffer_(head_buffer),
        received_at_(received_at) {}

  Request& request() override { return request_; }
  const std::string& client_address() const override { return peer_; }
  std::chrono::steady_clock::time_point received_at() const override { return received_at_; }
  Executor executor() const override { return stream_.get_executor(); }
  int worker() const override { return worker_; }

  bool keep_alive() const {
    return request_keep_alive_ && !close_ && !failed_ && !draining_.load(std::memory_order_relaxed);
  }

  using Exchange::send;
  Task<bool> send(Response response, ExtraFields extra) override {
    if (responded_) co_return false;
    responded_ = true;
    response.version(request_.version());
    const bool keep = keep_alive();
    const auto framing = read_framing_fields(response);
    set_keep_alive(response, keep, framing);
    // A response that states neither a length nor chunking gets them from its body (the
    // Transfer-Encoding is parsed only when there is one).
    if (framing.content_lengths == 0 && !(framing.transfer_encoding && response.chunked())) {
      response.prepare_payload();
    }
    beast::get_lowest_layer(stream_).expires_after(settings_.write_timeout);
    error_code ec;
    auto progress = send_at_once(stream_, response, head_buffer_, ec, extra);
    if (!ec && !progress.done) ec = co_await send_rest(stream_, response, head_buffer_, progress);
    if (ec) failed_ = true;
    close_ = close_ || !keep;
    co_return !ec;
  }

  Task<bool> start_stream(ResponseHeader header) override {
    if (responded_) co_return false;
    responded_ = true;
    bhttp::response<bhttp::empty_body, Fields> response{std::move(header)};
    response.version(request_.version());
    if (request_.version() >= 11) {
      response.chunked(true);
      response.keep_alive(keep_alive());
      close_ = close_ || !response.keep_alive();
    } else {
      // HTTP/1.0 has no chunked encoding: the body ends when the connection closes.
      response.keep_alive(false);
      close_ = true;
      raw_body_ = true;
    }
    bhttp::response_serializer<bhttp::empty_body, Fields> serializer{response};
    beast::get_lowest_layer(stream_).expires_after(settings_.write_timeout);
    auto [ec, n] = co_await bhttp::async_write_header(stream_, serializer, kUseTuple);
    if (ec) failed_ = true;
    streaming_ = !ec;
    co_return !ec;
  }

  Task<bool> write(std::string_view data) override {
    if (!streaming_ || failed_) co_return false;
    if (data.empty()) co_return true;  // an empty chunk would end the body
    beast::get_lowest_layer(stream_).expires_after(settings_.write_timeout);
    error_code ec;
    if (raw_body_) {
      std::tie(ec, std::ignore) =
          co_await asio::async_write(stream_, asio::buffer(data.data(), data.size()), kUseTuple);
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(
          stream_, bhttp::make_chunk(asio::buffer(data.data(), data.size())), kUseTuple);
    }
    if (ec) failed_ = true;
    co_return !ec;
  }

  Task<bool> finish_stream() override {
    if (!streaming_ || failed_) co_return false;
    streaming_ = false;
    if (raw_body_) co_return true;
    beast::get_lowest_layer(stream_).expires_after(settings_.write_timeout);
    auto [ec, n] = co_await asio::async_write(stream_, bhttp::make_chunk_last(), kUseTuple);
    if (ec) failed_ = true;
    co_return !ec;
  }

  bool responded() const override { return responded_; }
  bool client_gone() const override { return failed_ || (read_ahead_ && read_ahead_->gone()); }
  asio::cancellation_slot client_gone_slot() override {
    return read_ahead_ ? read_ahead_->slot() : asio::cancellation_slot{};
  }
  void close_after_response() override { close_ = true; }

  // A streamed body that was never finished cannot be followed by another response.
  bool usable_after() const { return !failed_ && !streaming_ && !close_ && responded_; }

 private:
  Stream& stream_;
  Request request_;
  bool request_keep_alive_;
  const std::string& peer_;
  int worker_;
  const ServerSettings& settings_;
  std::atomic<bool>& draining_;
  ReadAhead* read_ahead_;     // null: hang-ups are not watched (TLS, pipelined bytes waiting)
  std::string& head_buffer_;  // the connection's, reused: a response head costs no allocation
  std::chrono::steady_clock::time_point received_at_;
  bool responded_ = false;
  bool streaming_ = false;
  bool raw_body_ = false;
  bool failed_ = false;
  bool close_ = false;
};

template <class Stream>
Task<bool> Server::Impl::send_error(Stream& stream, Status status, std::string_view code,
                                    std::string_view message, unsigned version) {
  stats.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  Response response = errors(status, code, message, version ? version : 11);
  response.keep_alive(false);
  beast::get_lowest_layer(stream).expires_after(settings.write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, response, kUseTuple);
  co_return !ec;
}

template <class Stream>
Task<void> Server::Impl::session(Stream stream, Worker& worker, std::string peer) {
  beast::flat_buffer buffer;
  ReadDeadline deadline(stream.get_executor(), lowest_socket(stream));
  ReadAhead read_ahead(lowest_socket(stream), buffer);
  std::string head_buffer;
  OpenConnection open_connection(worker, lowest_socket(stream));
  bool first = true;
  for (;;) {
    RequestParser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
    parser.body_limit(settings.max_body_bytes);

    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_never();
    deadline.arm(first ? settings.header_timeout : settings.idle_timeout);
    open_connection.idle = true;
    if (draining.load(std::memory_order_relaxed) && buffer.size() == 0 && !first) break;
    error_code ec;
    std::size_t n = 0;
    if (read_ahead.pending()) {
      // The read started during the last exchange is the start of this request.
      ec = co_await read_ahead.finish();
      if (ec == asio::error::eof) ec = bhttp::error::end_of_stream;
    }
    if (!ec) ec = parse_buffered(parser, buffer, /*header_only=*/true);
    if (ec == bhttp::error::need_more) {
      std::tie(ec, n) = co_await bhttp::async_read_header(stream, buffer, parser, kUseTuple);
    }
    open_connection.idle = false;
    deadline.disarm();
    first = false;
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        co_await send_error(
            stream, Status::request_header_fields_too_large, "request_header_fields_too_large",
            "Request headers exceed " + std::to_string(settings.max_header_bytes) + " bytes", 11);
      } else if (ec == bhttp::error::body_limit) {
        co_await send_error(stream, Status::payload_too_large, "request_too_large",
                            "Request body exceeds the limit of " +
                                std::to_string(settings.max_body_bytes) + " bytes",
                            11);
      } else if (deadline.timed_out() && (parser.got_some() || buffer.size() > 0)) {
        co_await send_error(stream, Status::request_timeout, "request_timeout",
                            "Request headers were not received in time", 11);
      } else if (is_malformed_http(ec)) {
        co_await send_error(stream, Status::bad_request, kMalformedRequestCode,
                            "Malformed HTTP request: " + ec.message(), 11);
      }
      break;
    }
    auto& header = parser.get();
    if (expects_100_continue(header)) {
      bhttp::response<bhttp::empty_body, Fields> continue_response{Status::continue_,
                                                                   header.version()};
      lowest.expires_after(settings.write_timeout);
      auto [wec, wn] = co_await bhttp::async_write(stream, continue_response, kUseTuple);
      lowest.expires_never();
      if (wec) break;
    }
    ec = parse_buffered(parser, buffer, /*header_only=*/false);
    if (ec == bhttp::error::need_more) {
      deadline.arm(settings.body_timeout);
      std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, kUseTuple);
      deadline.disarm();
    }
    if (ec) {
      if (ec == bhttp::error::body_limit) {
        co_await send_error(stream, Status::payload_too_large, "request_too_large",
                            "Request body exceeds the limit of " +
                                std::to_string(settings.max_body_bytes) + " bytes",
                            header.version());
      } else if (deadline.timed_out()) {
        co_await send_error(stream, Status::request_timeout, "request_timeout",
                            "Request body was not received in time", header.version());
      } else if (is_malformed_http(ec)) {
        co_await send_error(stream, Status::bad_request, kMalformedRequestCode,
                            "Malformed HTTP request body: " + ec.message(), header.version());
      }
      break;
    }

    stats.requests.fetch_add(1, std::memory_order_relaxed);
    stats.requests_in_flight.fetch_add(1, std::memory_order_relaxed);
    // One clock read for the exchange's start: its received time and its hang-up watch's.
    const auto received_at = std::chrono::steady_clock::now();
    bool watched = false;
    if constexpr (std::is_same_v<Stream, TcpStream>) {
      if (buffer.size() == 0) {
        read_ahead.begin_exchange();
        worker.read_ahead_starter.start_later(read_ahead, received_at);
        watched = true;
      }
    }
    const bool request_keep_alive = parser.keep_alive();
    SessionExchange<Stream> exchange(stream, parser.release(), request_keep_alive, peer,
                                     worker.index, settings, draining,
                                     watched ? &read_ahead : nullptr, head_buffer, received_at);
    bool handler_failed = false;
    try {
      co_await handler(exchange);
    } catch (const std::exception& e) {
      // Handlers must not throw; if one does, the client still gets an answer and a closed socket.
      std::fprintf(stderr, "%s: handler failed: %s\n", settings.name.c_str(), e.what());
      handler_failed = true;
    }
    if (handler_failed) exchange.close_after_response();
    read_ahead.stop_watching();
    stats.requests_in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (!exchange.responded()) {
      co_await exchange.send(errors(Status::internal_server_error, "server_error",
                                    "The server produced no response.", 11));
    }
    if (!exchange.usable_after()) break;
  }
  error_code ignored;
  if (read_ahead.pending()) {
    lowest_socket(stream).cancel(ignored);
    co_await read_ahead.finish();
  }
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(kUseTuple);
  }
  lowest_socket(stream).shutdown(TcpSocket::shutdown_send, ignored);
  lowest_socket(stream).close(ignored);
}

Task<void> Server::Impl::accept_loop(Worker& worker) {
  for (;;) {
    auto [ec, socket] = co_await worker.acceptor->async_accept(kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !worker.acceptor->is_open()) co_return;
      // Out of descriptors or similar: back off briefly rather than spin.
      SteadyTimer timer(worker.io, std::chrono::milliseconds(50));
      co_await timer.async_wait(kUseTuple);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto endpoint = socket.remote_endpoint(ignored);
    std::string peer = ignored ? std::string("unknown") : endpoint.address().to_string();
    stats.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    stats.connections_open.fetch_add(1, std::memory_order_relaxed);
    auto on_done = [this](std::exception_ptr) {
      stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
    };
    if (tls) {
      asio::co_spawn(
          worker.io,
          [this, &worker, peer, socket = std::move(socket)]() mutable -> Task<void> {
            TlsStream stream(TcpStream(std::move(socket)), *tls);
            beast::get_lowest_layer(stream).expires_after(settings.header_timeout);
            auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kUseTuple);
            if (hec) co_return;
            co_await session(std::move(stream), worker, std::move(peer));
          },
          on_done);
    } else {
      asio::co_spawn(worker.io, session(TcpStream(std::move(socket)), worker, std::move(peer)),
                     on_done);
    }
  }
}

Server::Server(ServerSettings settings, Handler handler, ErrorResponder errors)
    : impl_(std::make_unique<Impl>()) {
  impl_->settings = std::move(settings);
  impl_->handler = std::move(handler);
  impl_->errors = std::move(errors);
  auto& s = impl_->settings;
  if (s.tls) impl_->tls = make_server_tls_context(*s.tls);
  error_code ec;
  auto address = asio::ip::make_address(s.address, ec);
  if (ec) throw std::runtime_error(s.name + ": invalid listen address '" + s.address + "'");
  std::uint16_t port = s.port;
  int threads = std::max(1, s.threads);
  for (int i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->index = i;
    worker->acceptor.emplace(worker->io);
    tcp::endpoint endpoint(address, port);
    auto& acceptor = *worker->acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.set_option(ReusePort(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error(s.name + ": cannot listen on " + s.address + ":" +
                               std::to_string(port) + ": " + ec.message());
    }
    port = acceptor.local_endpoint().port();  // later workers share the port chosen first
    impl_->workers.push_back(std::move(worker));
  }
  impl_->port = port;
}

Server::~Server() {
  if (!impl_) return;
  for (auto& worker : impl_->workers) worker->io.stop();
  join();
}

void Server::start() {
  for (auto& worker_ptr : impl_->workers) {
    Worker& worker = *worker_ptr;
    asio::co_spawn(worker.io, impl_->accept_loop(worker), asio::detached);
    worker.thread = std::thread([&worker] {
      core::name_this_thread("http-worker");
      auto guard = asio::make_work_guard(worker.io);
      worker.io.run();
    });
  }
}

std::uint16_t Server::port() const {
  return impl_->port;
}
const ServerSettings& Server::settings() const {
  return impl_->settings;
}
const ServerStats& Server::stats() const {
  return impl_->stats;
}

void Server::stop_accepting() {
  impl_->draining.store(true);
  for (auto& worker_ptr : impl_->workers) {
    Worker& worker = *worker_ptr;
    asio::post(worker.io, [&worker] {
      error_code ignored;
      if (worker.acceptor) worker.acceptor->close(ignored);
      for (auto* connection : worker.connections) {
        if (connection->idle) connection->socket.cancel(ignored);
      }
    });
  }
}

void Server::shutdown(std::chrono::milliseconds deadline) {
  std::call_once(impl_->shutdown_once, [&] {
    stop_accepting();
    auto until = std::chrono::steady_clock::now() + deadline;
    while (impl_->stats.connections_open.load() > 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& worker : impl_->workers) worker->io.stop();
  });
}

void Server::join() {
  for (auto& worker : impl_->workers) {
    if (worker->thread.joinable() && worker->thread.get_id() != std::this_thread::get_id()) {
      worker->thread.join();
    }
  }
}

}  // namespace sluice::http
