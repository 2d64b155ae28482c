#include "sluice/http/client.hpp"

#include <sys/socket.h>

#include <memory>

#include <boost/assert.hpp>

#include "http/connection_error_text.hpp"
#include "http/framing_fields.hpp"
#include "http/message_writer.hpp"
#include "http/proxy_tunnel.hpp"
#include "http/read_deadline.hpp"

namespace sluice::http {

namespace {
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<TcpStream>;

auto with_slot(asio::cancellation_slot slot) {
  return asio::bind_cancellation_slot(slot, kUseTuple);
}

ClientErrorKind classify(error_code ec) {
  if (ec == beast::error::timeout) return ClientErrorKind::kTimeout;
  if (ec == asio::error::operation_aborted) return ClientErrorKind::kCancelled;
  if (ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe || ec == bhttp::error::end_of_stream ||
      ec == bhttp::error::partial_message || ec == asio::ssl::error::stream_truncated) {
    return ClientErrorKind::kClosed;
  }
  static const auto& http_category = bhttp::make_error_code(bhttp::error::bad_method).category();
  if (ec.category() == http_category) return ClientErrorKind::kProtocol;
  return ClientErrorKind::kClosed;
}

ClientError make_error(error_code ec, std::string_view what, const std::string& origin) {
  return ClientError{classify(ec), std::string(what) + " " + origin + ": " + ec.message()};
}
// A cancellation slot keeps the handler of the last operation bound to it after that operation
// completed; it refers to the socket's or timer's state. Clearing it when a client call returns
// keeps a later emit (the downstream client hung up) from reaching state that may be gone.
struct ClearSlotOnExit {
  asio::cancellation_slot slot;
  ~ClearSlotOnExit() {
    if (slot.is_connected()) slot.clear();
  }
};

// Connections are pooled per origin and, when there is one, per proxy and its credentials: a
// tunnel opened with one user's credentials must not carry another's requests. The key stays in
// memory and is never logged.
void pool_key(const Url& origin, const ProxyEndpoint* via, std::string& key) {
  key.clear();
  origin.append_origin(key);
  if (!via) return;
  key += " via ";
  key += via->address();
  key += ' ';
  key += via->authorization;
}

// A plain-http request through a proxy names its whole URL (absolute-form, RFC 9112 §3.2.2) and
// carries the proxy's credentials itself, since there is no tunnel to authenticate once.
void address_to_proxy(const Url& origin, const ProxyEndpoint& via, Request& request) {
  if (!request.target().starts_with("http://")) {
    request.target("http://" + origin.host_header() + std::string(request.target()));
  }
  if (!via.authorization.empty()) request.set(Field::proxy_authorization, via.authorization);
}

// What fetch() and open() add to every request: Host (unless the caller set one), the proxy's
// form and credentials where they apply, keep-alive and the body's framing.
// Also folds `extra` into a chunked request's fields, once: Beast's serializer writes those, and a
// retry on a fresh connection sends the same request again. A missing Content-Length becomes an
// extra field (its digits in `length`, which lives as long as the request's send): nothing reads
// it from the request's fields after this, and an insert into Beast's set costs ~330
// instructions.
void finish_request(const Url& origin, const ProxyEndpoint* via, Request& request,
                    ExtraFields& extra, LengthDigits& length) {
  auto framing = read_framing_fields(request);
  if (framing.transfer_encoding && !extra.empty()) extra.insert_into(request);
  if (!framing.host) request.set(Field::host, origin.host_header());
  if (via && !origin.tls()) {
    address_to_proxy(origin, *via, request);
    framing = read_framing_fields(request);
  }
  set_keep_alive(request, true, framing);
  if (auto missing = missing_content_length(request, framing, length)) {
    extra.add("Content-Length", *missing);
  } else {
    prepare_payload(request, framing);
  }
}

// A 407 to a plain-http request through a proxy is the proxy's answer, not the origin's: passed
// on, a gateway's client would think its own proxy wanted credentials. It becomes the same
// error a refused CONNECT gives.
std::optional<ClientError> proxy_refused(const ProxyEndpoint* via, const Url& origin,
                                         const ResponseHeader& header) {
  if (!via || origin.tls() || header.result_int() != 407) return std::nullopt;
  return ClientError{
      ClientErrorKind::kConnect,
      proxy_refusal(*via, "requests to " + origin.origin(), {407, std::string(header.reason())})};
}

}  // namespace

const char* to_string(ClientErrorKind kind) {
  switch (kind) {
    case ClientErrorKind::kConnect:
      return "connect";
    case ClientErrorKind::kTimeout:
      return "timeout";
    case ClientErrorKind::kProtocol:
      return "protocol";
    case ClientErrorKind::kClosed:
      return "closed";
    case ClientErrorKind::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

// One upstream connection, plain or TLS, with its read buffer and (while streaming) its parser.
class Connection {
 public:
  std::string origin;  // "scheme://host:port", for messages
  std::string key;     // the pool's key: origin and proxy (see pool_key)
  // The pool's idle list for `key`, found on the first release and kept (the pool's map entries
  // stay put until it is closed, and a closed pool takes nothing back): a release is then no
  // look-up by key.
  std::vector<std::unique_ptr<Connection>>* idle_list = nullptr;
  std::unique_ptr<TcpStream> tcp;
  std::unique_ptr<TlsStream> tls;
  beast::flat_buffer buffer;
  std::optional<ResponseParser<bhttp::buffer_body>> stream_parser;
  // Where a streamed body's bytes land, one read at a time. Made when the connection first
  // streams (most never do) and not zero-filled, so that a burst of new streams pays no 16 KiB
  // memset, and no page faults under it, per connection (docs/performance.md).
  static constexpr std::size_t kChunkSize = 16 * 1024;
  std::unique_ptr<char[]> chunk;
  std::string head;  // the serialised request head, reused across requests
  // Bounds each exchange and each wait for stream bytes once the connection is set up (the
  // stream's own timeout, which re-arms a timer per read and write, bounds connect and TLS
  // handshake only).
  std::optional<ReadDeadline> deadline;
  std::chrono::steady_clock::time_point idle_since;
  bool keep_alive = false;
  bool answered = false;  // a response has begun on this connection

  TcpStream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }

  // An operation that failed once the deadline passed (it was cancelled, or found the receiving
  // side shut) failed by timing out.
  error_code timed_out_as(error_code ec) const {
    if (ec && deadline->timed_out()) return beast::error::timeout;
    return ec;
  }

  // Why reading a response failed. A new plain connection that never got an HTTP answer is most
  // often an https:// server reached with http://, and the message says so.
  ClientError read_error(error_code ec) const {
    if (tls || answered) return make_error(ec, "reading from", origin);
    int first_byte = -1;
    if (buffer.size() > 0) first_byte = *static_cast<const unsigned char*>(buffer.data().data());
    return ClientError{classify(ec), no_http_answer_text(origin, ec, first_byte)};
  }

  // A pooled connection is worth reusing only if the peer has not closed it meanwhile.
  bool still_open() {
    auto& socket = lowest().socket();
    if (!socket.is_open()) return false;
    char byte;
    ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

namespace {

// Sends `request` and reads the whole response into `result`; returns whether any of a response
// arrived (a reused connection that the peer closed before answering is retried). The result is
// written in place, not returned: a Response moved through a returned pair, the coroutine's
// promise and an assignment cost ~60 instructions a move (its fields' two intrusive containers).
template <class Stream>
Task<bool> exchange_whole(Stream& stream, Connection& c, Request& request, const ExtraFields& extra,
                          const ClientSettings& settings, asio::cancellation_slot cancel,
                          ClientResult<Response>& result) {
  error_code sent_ec;
  auto progress = send_at_once(stream, request, c.head, sent_ec, extra);
  if (!sent_ec && !progress.done) {
    sent_ec = co_await send_rest(stream, request, c.head, progress, cancel);
  }
  if (auto wec = c.timed_out_as(sent_ec)) {
    result = make_error(wec, "sending to", c.origin);
    co_return false;
  }
  ResponseParser<bhttp::string_body> parser;
  parser.body_limit(settings.max_response_body);
  parser.header_limit(static_cast<std::uint32_t>(settings.max_response_header));
  auto [read_ec, rn] = co_await bhttp::async_read(stream, c.buffer, parser, with_slot(cancel));
  auto rec = c.timed_out_as(read_ec);
  if (rec == bhttp::error::body_limit) {
    result = ClientError{ClientErrorKind::kProtocol,
                         "the response body from " + c.origin + " is over the limit of " +
                             std::to_string(settings.max_response_body >> 20) + " MiB"};
    co_return true;
  }
  if (rec) {
    result = c.read_error(rec);
    co_return parser.got_some();
  }
  c.answered = true;
  c.keep_alive = parser.keep_alive();  // from the parse: no search of the fields
  result.emplace(parser.release());
  co_return true;
}

template <class Stream>
Task<std::pair<error_code, bool>> open_stream(Stream& stream, Connection& c, Request& request,
                                              const ExtraFields& extra,
                                              const ClientSettings& settings,
                                              asio::cancellation_slot cancel) {
  error_code sent_ec;
  auto progress = send_at_once(stream, request, c.head, sent_ec, extra);
  if (!sent_ec && !progress.done) {
    sent_ec = co_await send_rest(stream, request, c.head, progress, cancel);
  }
  auto wec = c.timed_out_as(sent_ec);
  if (wec) co_return std::pair{wec, false};
  c.stream_parser.emplace();
  if (!c.chunk) c.chunk = std::make_unique_for_overwrite<char[]>(Connection::kChunkSize);
  c.stream_parser->body_limit(boost::none);  // streams may be long; bytes are relayed, not kept
  c.stream_parser->header_limit(static_cast<std::uint32_t>(settings.max_response_header));
  auto [rec, rn] =
      co_await bhttp::async_read_header(stream, c.buffer, *c.stream_parser, with_slot(cancel));
  co_return std::pair{c.timed_out_as(rec), c.stream_parser->got_some()};
}

template <class Stream>
Task<error_code> read_stream_some(Stream& stream, Connection& c, std::size_t& got,
                                  asio::cancellation_slot cancel) {
  auto& parser = *c.stream_parser;
  BOOST_ASSERT(c.chunk);  // made by open_stream: without it the parser asks for a buffer forever
  got = 0;
  while (got == 0 && !parser.is_done()) {
    parser.get().body().data = c.chunk.get();
    parser.get().body().size = Connection::kChunkSize;
    auto [ec, n] = co_await bhttp::async_read_some(stream, c.buffer, parser, with_slot(cancel));
    got = Connection::kChunkSize - parser.get().body().size;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return c.timed_out_as(ec);
  }
  co_return error_code{};
}

}  // namespace

ClientPool::ClientPool(Executor executor, ClientSettings settings)
    : executor_(std::move(executor)), settings_(std::move(settings)) {}

ClientPool::~ClientPool() = default;

std::size_t ClientPool::idle_connections() const {
  return idle_count_;
}

void ClientPool::close() {
  closed_ = true;
  idle_.clear();
  last_list_ = nullptr;
  idle_count_ = 0;
}

void ClientPool::release(std::unique_ptr<Connection> connection) {
  if (closed_ || !connection || !connection->keep_alive) return;
  // Bytes past the end of the response (a Content-Length shorter than what was sent) would be
  // read as the next request's answer: such a connection is closed, never reused.
  if (connection->buffer.size() > 0) return;
  if (!connection->idle_list) connection->idle_list = &idle_[connection->key];
  auto& same = *connection->idle_list;
  if (same.size() >= settings_.max_idle_per_origin) return;
  connection->stream_parser.reset();
  connection->idle_since = std::chrono::steady_clock::now();
  if (settings_.idle_timers_keep_waiting) {
    connection->deadline->disarm();
  } else {
    connection->deadline->rest();
  }
  same.push_back(std::move(connection));
  ++idle_count_;
}

std::unique_ptr<Connection> ClientPool::take_idle(const Url& origin, const ProxyEndpoint* via) {
  pool_key(origin, via, key_scratch_);
  if (!last_list_ || key_scratch_ != last_key_) {
    auto found = idle_.find(key_scratch_);
    if (found == idle_.end()) return nullptr;
    last_key_ = key_scratch_;
    last_list_ = &found->second;
  }
  auto now = std::chrono::steady_clock::now();
  auto& same = *last_list_;
  while (!same.empty()) {
    auto connection = std::move(same.back());
    same.pop_back();
    --idle_count_;
    auto idle = now - connection->idle_since;
    // A connection idle for a moment is checked with a peek (one syscall) before reuse; a hot
    // one is reused directly, and the rare close race is covered by the retry in
    // fetch()/open().
    if (idle < settings_.pooled_idle_timeout &&
        (idle < std::chrono::seconds(1) || connection->still_open())) {
      return connection;
    }
  }
  return nullptr;
}

Task<ClientResult<std::unique_ptr<Connection>>> ClientPool::connect(
    const Url& origin, const ProxyEndpoint* via, asio::cancellation_slot cancel) {
  auto connection = std::make_unique<Connection>();
  connection->origin = origin.origin();
  pool_key(origin, via, connection->key);
  // Through a proxy the TCP connection goes to the proxy, which resolves the origin itself:
  // --resolve-style overrides apply to whichever host is dialled.
  const Url& dialled = via ? via->url : origin;
  const std::string dialled_name =
      via ? "proxy " + via->address() + " (for " + connection->origin + ")" : connection->origin;
  std::string connect_host = dialled.host;
  std::string connect_port = std::to_string(dialled.port);
  auto override_it = settings_.resolve_overrides.find(dialled.host + ":" + connect_port);
  if (override_it != settings_.resolve_overrides.end()) {
    const std::string& target = override_it->second;
    auto colon = target.rfind(':');
    if (colon != std::string::npos && target.find(']') == std::string::npos &&
        target.find(':') == colon) {
      connect_host = target.substr(0, colon);
      connect_port = target.substr(colon + 1);
    } else {
      connect_host = target;
    }
  }
  error_code ec;
  std::vector<tcp::endpoint> endpoints;
  auto literal = asio::ip::make_address(connect_host, ec);
  if (!ec) {
    endpoints.emplace_back(literal, static_cast<std::uint16_t>(std::stoi(connect_port)));
  } else {
    TcpResolver resolver(executor_);
    auto [rec, results] =
        co_await resolver.async_resolve(connect_host, connect_port, with_slot(cancel));
    if (rec) {
      std::string text = resolve_failure_text(connect_host, rec);
      if (via) text = "proxy " + via->address() + " (for " + connection->origin + "): " + text;
      co_return ClientError{ClientErrorKind::kConnect, std::move(text)};
    }
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }
  connection->tcp = std::make_unique<TcpStream>(executor_);
  auto& stream = *connection->tcp;
  error_code last_error = asio::error::host_not_found;
  for (const auto& endpoint : endpoints) {
    stream.expires_after(settings_.connect_timeout);
    if (!settings_.bind_address.empty()) {
      stream.socket().close(ec);
      stream.socket().open(endpoint.protocol(), ec);
      auto local = asio::ip::make_address(settings_.bind_address, ec);
      if (!ec) stream.socket().bind(tcp::endpoint(local, 0), ec);
      if (ec) {
        co_return ClientError{ClientErrorKind::kConnect,
                              "cannot bind to " + settings_.bind_address + ": " + ec.message()};
      }
    }
    auto [cec] =
        co_await stream.async_connect(endpoint, asio::bind_cancellation_slot(cancel, kUseTuple));
    last_error = cec;
    if (!cec) break;
    if (cec == asio::error::operation_aborted) break;
  }
  if (last_error) {
    co_return ClientError{
        last_error == asio::error::operation_aborted ? ClientErrorKind::kCancelled
                                                     : ClientErrorKind::kConnect,
        connect_failure_text(dialled, last_error, settings_.connect_timeout,
                             via ? std::string_view(dialled_name) : std::string_view())};
  }
  stream.socket().set_option(tcp::no_delay(true), ec);
  ++connections_opened_;
  if (via && origin.tls()) {
    stream.expires_after(settings_.connect_timeout);
    auto refused =
        co_await open_tunnel(stream, origin, *via, settings_.max_response_header, cancel);
    if (refused) co_return std::move(*refused);
  }
  if (origin.tls()) {
    if (!tls_context_) tls_context_ = make_client_tls_context(settings_.tls);
    connection->tls = std::make_unique<TlsStream>(std::move(*connection->tcp), *tls_context_);
    connection->tcp.reset();
    auto& tls = *connection->tls;
    if (!SSL_set_tlsext_host_name(tls.native_handle(), origin.host.c_str())) {
      co_return ClientError{ClientErrorKind::kConnect, "cannot set TLS server name"};
    }
    if (settings_.tls.verify_peer) {
      tls.set_verify_callback([check = asio::ssl::host_name_verification(origin.host)](
                                  bool preverified, asio::ssl::verify_context& context) mutable {
        bool ok = check(preverified, context);
        // Asio's check refuses a certificate for another name without saying why; recording the
        // reason lets the failure message name it instead of a bare "certificate verify failed".
        if (preverified && !ok) {
          X509_STORE_CTX_set_error(context.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
        }
        return ok;
      });
    }
    beast::get_lowest_layer(tls).expires_after(settings_.connect_timeout);
    auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client,
                                              asio::bind_cancellation_slot(cancel, kUseTuple));
    if (hec) {
      co_return ClientError{
          ClientErrorKind::kConnect,
          tls_failure_text(origin, hec, SSL_get_verify_result(tls.native_handle()),
                           settings_.connect_timeout) +
              (via ? " (through proxy " + via->address() + ")" : std::string())};
    }
  }
  connection->lowest().expires_never();
  connection->deadline.emplace(executor_, connection->lowest().socket());
  co_return std::move(connection);
}

Task<ClientResult<Response>> ClientPool::fetch(const Url& origin, Request request,
                                               std::chrono::milliseconds timeout,
                                               asio::cancellation_slot cancel,
                                               const ProxyEndpoint* via, ExtraFields extra) {
  ClearSlotOnExit clear_slot{cancel};
  LengthDigits length;
  finish_request(origin, via, request, extra, length);
  for (int attempt = 0;; ++attempt) {
    // A pooled connection is taken without a coroutine of its own; only a new one waits.
    auto connection = take_idle(origin, via);
    const bool reused = connection != nullptr;
    if (!connection) {
      auto connected = co_await connect(origin, via, cancel);
      if (!connected) co_return connected.error();
      connection = std::move(*connected);
    }
    connection->deadline->arm(timeout);
    // (No co_await inside ?: : g++ 12 miscompiles temporaries there.)
    ClientResult<Response> result;
    bool got_response;
    if (connection->tls) {
      got_response = co_await exchange_whole(*connection->tls, *connection, request, extra,
                                             settings_, cancel, result);
    } else {
      got_response = co_await exchange_whole(*connection->tcp, *connection, request, extra,
                                             settings_, cancel, result);
    }
    connection->deadline->disarm();
    // The peer may close an idle keep-alive connection just as we reuse it: retry once, fresh.
    if (!result && reused && !got_response && attempt == 0 &&
        result.error().kind == ClientErrorKind::kClosed) {
      continue;
    }
    if (result) {
      if (auto refused = proxy_refused(via, origin, result->base())) co_return std::move(*refused);
      release(std::move(connection));
    }
    co_return std::move(result);
  }
}

Task<ClientResult<std::unique_ptr<StreamingResponse>>> ClientPool::open(
    const Url& origin, Request request, std::chrono::milliseconds header_timeout,
    asio::cancellation_slot cancel, const ProxyEndpoint* via, ExtraFields extra) {
  ClearSlotOnExit clear_slot{cancel};
  LengthDigits length;
  finish_request(origin, via, request, extra, length);
  for (int attempt = 0;; ++attempt) {
    // A pooled connection is taken without a coroutine of its own; only a new one waits.
    auto connection = take_idle(origin, via);
    const bool reused = connection != nullptr;
    if (!connection) {
      auto connected = co_await connect(origin, via, cancel);
      if (!connected) co_return connected.error();
      connection = std::move(*connected);
    }
    connection->deadline->arm(header_timeout);
    std::pair<error_code, bool> outcome;
    if (connection->tls) {
      outcome =
          co_await open_stream(*connection->tls, *connection, request, extra, settings_, cancel);
    } else {
      outcome =
          co_await open_stream(*connection->tcp, *connection, request, extra, settings_, cancel);
    }
    connection->deadline->disarm();
    auto [ec, got_response] = outcome;
    if (ec) {
      if (reused && !got_response && attempt == 0 && classify(ec) == ClientErrorKind::kClosed) {
        continue;
      }
      co_return connection->read_error(ec);
    }
    if (auto refused = proxy_refused(via, origin, connection->stream_parser->get().base())) {
      co_return std::move(*refused);
    }
    connection->answered = true;
    connection->keep_alive = connection->stream_parser->keep_alive();
    co_return std::make_unique<StreamingResponse>(std::move(connection), this);
  }
}

StreamingResponse::StreamingResponse(std::unique_ptr<Connection> connection, ClientPool* pool)
    : connection_(std::move(connection)), pool_(pool) {}

StreamingResponse::~StreamingResponse() {
  if (connection_ && done()) pool_->release(std::move(connection_));
  // Otherwise the connection closes with us: a half-read body cannot be reused.
}

unsigned StreamingResponse::status() const {
  return connection_->stream_parser->get().result_int();
}

const ResponseHeader& StreamingResponse::header() const {
  return connection_->stream_parser->get().base();
}

bool StreamingResponse::done() const {
  return connection_->stream_parser->is_done();
}

Task<ClientResult<std::string_view>> StreamingResponse::read_some(
    std::chrono::milliseconds idle_timeout, asio::cancellation_slot cancel) {
  ClearSlotOnExit clear_slot{cancel};
  auto& c = *connection_;
  if (c.stream_parser->is_done()) co_return std::string_view{};
  c.deadline->arm(idle_timeout);
  std::size_t got = 0;
  error_code ec;
  if (c.tls) {
    ec = co_await read_stream_some(*c.tls, c, got, cancel);
  } else {
    ec = co_await read_stream_some(*c.tcp, c, got, cancel);
  }
  c.deadline->disarm();
  if (ec) {
    c.keep_alive = false;
    co_return make_error(ec, "reading stream from", c.origin);
  }
  co_return std::string_view(c.chunk.get(), got);
}

}  // namespace sluice::http
