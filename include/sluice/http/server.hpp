#pragma once
// The HTTP/1.1 server every sluice listener uses (simulator, gateway, admin endpoints).
//
// One event loop per worker thread; each worker owns its own acceptor on the same port
// (SO_REUSEPORT), so a request never crosses threads and needs no lock. Every read has a
// deadline; bodies and headers are bounded; limit violations answer in OpenAI error JSON.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/http/asio.hpp"
#include "sluice/http/extra_fields.hpp"
#include "sluice/http/tls.hpp"

namespace sluice::http {

struct ServerSettings {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port; see Server::port()
  int threads = 1;
  std::size_t max_body_bytes = 16 * 1024 * 1024;     // larger → 413
  std::size_t max_header_bytes = 64 * 1024;          // larger → 431
  std::chrono::milliseconds header_timeout{10'000};  // first request's headers (slowloris) → 408
  std::chrono::milliseconds body_timeout{30'000};    // request body → 408
  std::chrono::milliseconds idle_timeout{75'000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};   // each write to a client that stopped reading
  std::optional<TlsServerSettings> tls;
  std::string name = "http";  // used in log lines and thread names
};

// One request and its response, handed to the handler. Lives on the worker thread that accepted
// the connection; not thread-safe and must not outlive the handler call.
class Exchange {
 public:
  virtual ~Exchange() = default;

  virtual Request& request() = 0;
  // Peer address as text ("127.0.0.1"); the gateway may override it from X-Forwarded-For.
  virtual const std::string& client_address() const = 0;
  // When the request's headers were fully read (start of the gateway's "overhead" clock).
  virtual std::chrono::steady_clock::time_point received_at() const = 0;
  virtual Executor executor() const = 0;
  // Index of the worker thread (0..threads-1), for per-thread state without locks.
  virtual int worker() const = 0;

  // Sends a complete response. Content-Length and keep-alive are set from the request.
  // Returns false when the client is gone (the caller should stop, not retry). `extra` fields go
  // out after the response's own (extra_fields.hpp); their text must live until this completes.
  virtual Task<bool> send(Response response, ExtraFields extra) = 0;
  Task<bool> send(Response response) { return send(std::move(response), ExtraFields{}); }

  // Streaming response (chunked transfer encoding): the header first, then each write is sent
  // and flushed at once as one chunk, then finish. Writes are bounded by write_timeout, so a client
  // that stops reading cannot hold the stream forever (back-pressure: a write waits for the
  // socket).
  virtual Task<bool> start_stream(ResponseHeader header) = 0;
  virtual Task<bool> write(std::string_view data) = 0;
  virtual Task<bool> finish_stream() = 0;
  // A handler that returns after start_stream() without finish_stream() makes the server close
  // the connection without the terminating chunk: the client sees a truncated stream (used by the
  // simulator to drop streams on purpose, and by relays whose upstream broke mid-stream).

  // True once any response byte was handed to the socket (a failover must not happen after that).
  virtual bool responded() const = 0;
  // True once the client was seen to disconnect or a write to it failed.
  virtual bool client_gone() const = 0;
  // Fires (terminal cancellation) when the client disconnects while the handler is still working,
  // e.g. waiting on an upstream. Bind upstream operations to it with asio::bind_cancellation_slot,
  // and clear() the slot once the bound operation completed: Asio leaves that operation's cancel
  // handler in the slot, and a later disconnect would run it against state that may be gone.
  virtual asio::cancellation_slot client_gone_slot() = 0;
  // Close the connection after this response (e.g. while draining).
  virtual void close_after_response() = 0;
};

using Handler = std::function<Task<void>(Exchange&)>;

// Builds the OpenAI-style error body the server itself sends for HTTP-level problems
// (413, 431, 408, 400 malformed HTTP, 500 handler failed). Replaceable per server.
// openai_error_response: {"error":{"message","type","param":null,"code"}}, `type`
// invalid_request_error (server_error for 5xx); an empty `code` is sent as null.
using ErrorResponder = std::function<Response(Status status, std::string_view code,
                                              std::string_view message, unsigned version)>;
Response openai_error_response(Status status, std::string_view code, std::string_view message,
                               unsigned version);

struct ServerStats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> requests_in_flight{0};
  std::atomic<std::uint64_t> protocol_errors{0};  // 400/408/413/431 sent by the server itself
};

class Server {
 public:
  // Binds the listening sockets now: throws std::runtime_error naming the address on failure.
  Server(ServerSettings settings, Handler handler, ErrorResponder errors = openai_error_response);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts the worker threads; returns at once.
  void start();
  // The bound port (useful with port 0).
  std::uint16_t port() const;
  const ServerSettings& settings() const;
  const ServerStats& stats() const;

  // Stops accepting new connections; requests in progress continue, keep-alive ends after them.
  void stop_accepting();
  // Drains: stops accepting, then waits until every connection closed or the deadline passed,
  // then stops the workers. Safe to call from any thread, once.
  void shutdown(std::chrono::milliseconds deadline);
  // Blocks until the workers stopped.
  void join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::http
