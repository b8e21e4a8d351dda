#ifndef NORTHBOUND_WS_FRONTEND_CLIENT_STREAM_H_
#define NORTHBOUND_WS_FRONTEND_CLIENT_STREAM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "boost/asio/associated_executor.hpp"
#include "boost/asio/buffer.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/beast/core/bind_handler.hpp"
#include "boost/beast/core/role.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/ssl/ssl_stream.hpp"
#include "boost/beast/websocket/ssl.hpp"
#include "boost/beast/websocket/teardown.hpp"

namespace nb::frontend {

// A client's connection: plain TCP, or TLS over it when the frontend serves wss://. One
// type for both, chosen per connection at run time, so that the HTTP and WebSocket
// sessions are written once. It models Asio's AsyncReadStream and AsyncWriteStream and
// Beast's layered-stream conventions: next_layer() is the TCP stream (timeouts live
// there), and WebSocket closes tear TLS down properly (teardown below).
//
// Writes are taken whole. Each write, Beast's own (the handshake, HTTP responses, pongs,
// pings, the close frame) or a batch of frames the owner wrote past Beast with Send, is
// appended to one outbound buffer, in order, and completes once its bytes are written to
// the connection. So nothing Beast writes can land inside a batch, and what was appended
// while a write was out leaves in one system call.
//
// Threads: one strand, the connection's (the TCP stream's executor), calls everything, and
// the writes complete on it. Not moved once it has written: a write in flight refers to it.
// A write in flight belongs to a handler that holds the stream's owner, so the stream
// outlives it.
class ClientStream {
 public:
  using Tcp = boost::beast::tcp_stream;
  using Tls = boost::beast::ssl_stream<Tcp>;
  using executor_type = Tcp::executor_type;

  explicit ClientStream(Tcp tcp) : tcp_(std::move(tcp)) {}
  // TLS with `context`, which the stream keeps alive (a certificate reload makes a new
  // context for new connections; this one keeps its own).
  ClientStream(Tcp tcp, std::shared_ptr<boost::asio::ssl::context> context)
      : context_(std::move(context)), tls_(std::in_place, std::move(tcp), *context_) {}

  ClientStream(ClientStream&&) = default;
  ClientStream& operator=(ClientStream&&) = delete;

  bool is_tls() const { return tls_.has_value(); }
  Tls& tls() { return *tls_; }

  Tcp& next_layer() { return tls_ ? tls_->next_layer() : *tcp_; }
  const Tcp& next_layer() const { return tls_ ? tls_->next_layer() : *tcp_; }
  executor_type get_executor() noexcept { return next_layer().get_executor(); }

  template <typename MutableBuffers, typename Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Handler>(handler));
    tcp_->async_read_some(buffers, std::forward<Handler>(handler));
  }

  // Takes all of `buffers`: Beast never continues a write with a second call, so its frames
  // stay whole.
  template <typename ConstBuffers, typename Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    const size_t size = boost::asio::buffer_size(buffers);
    std::string& pending = Pending();
    const size_t old_size = pending.size();
    pending.resize(old_size + size);
    boost::asio::buffer_copy(boost::asio::buffer(pending.data() + old_size, size), buffers);
    Enqueue(size, std::forward<Handler>(handler));
  }

  // Sends `bytes`, already framed, after everything written before; `handler(error, size)`
  // runs once they are written.
  template <typename Handler>
  void Send(std::string bytes, Handler&& handler) {
    const size_t size = bytes.size();
    std::string& pending = Pending();
    if (pending.empty()) {
      pending = std::move(bytes);
    } else {
      pending.append(bytes);
    }
    Enqueue(size, std::forward<Handler>(handler));
  }

  // The WebSocket close handshake ends with these (found by argument-dependent lookup).
  template <typename Handler>
  friend void async_teardown(boost::beast::role_type role, ClientStream& stream,
                             Handler&& handler) {
    if (stream.tls_) {
      using boost::beast::async_teardown;
      return async_teardown(role, *stream.tls_, std::forward<Handler>(handler));
    }
    using boost::beast::async_teardown;
    async_teardown(role, *stream.tcp_, std::forward<Handler>(handler));
  }
  friend void teardown(boost::beast::role_type role, ClientStream& stream,
                       boost::system::error_code& error) {
    using boost::beast::teardown;
    if (stream.tls_) return teardown(role, *stream.tls_, error);
    teardown(role, *stream.tcp_, error);
  }

 private:
  // A write waiting for its bytes to leave.
  class Waiter {
   public:
    explicit Waiter(uint64_t end) : end_(end) {}
    virtual ~Waiter() = default;
    // Where the write's bytes end in the connection's outbound byte count.
    uint64_t end() const { return end_; }
    // Posts the write's handler to its executor.
    virtual void Complete(boost::system::error_code error) = 0;

   private:
    const uint64_t end_;
  };

  template <typename Handler>
  class WaiterFor final : public Waiter {
   public:
    WaiterFor(uint64_t end, size_t size, Handler handler, const executor_type& io)
        : Waiter(end),
          size_(size),
          handler_(std::move(handler)),
          work_(boost::asio::get_associated_executor(handler_, io)) {}

    void Complete(boost::system::error_code error) override {
      auto executor = work_.get_executor();
      boost::asio::post(executor,
                        boost::beast::bind_front_handler(std::move(handler_), error, size_));
      work_.reset();
    }

   private:
    const size_t size_;
    Handler handler_;
    boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler, executor_type>>
        work_;
  };

  // Most writes wait alone: one inline, so a write allocates no list.
  using Waiters = absl::InlinedVector<std::unique_ptr<Waiter>, 2>;

  // What is on its way out. Allocated with a write and let go once all is written, so an
  // idle connection holds none of it.
  struct Outbound {
    std::string pending;  // Appended since the write in flight began.
    std::string in_flight;
    bool writing = false;
    uint64_t appended = 0;  // Bytes appended, ever.
    uint64_t written = 0;
    // The writes waiting for their bytes, by end, while a write is out. The write in flight
    // owns them, not the stream: their handlers hold the stream's owner, so an io_context
    // destroyed with the write pending must destroy them with it, as it does Beast's own
    // operations.
    Waiters* waiters = nullptr;
  };

  std::string& Pending() {
    if (!out_) out_ = std::make_unique<Outbound>();
    return out_->pending;
  }

  template <typename Handler>
  void Enqueue(size_t size, Handler&& handler) {
    using Decayed = std::decay_t<Handler>;
    out_->appended += size;
    auto waiter = std::make_unique<WaiterFor<Decayed>>(
        out_->appended, size, std::forward<Handler>(handler), get_executor());
    if (out_->writing) {
      out_->waiters->push_back(std::move(waiter));
      return;
    }
    Waiters waiters;
    waiters.push_back(std::move(waiter));
    Write(std::move(waiters));
  }
  // No write is out: writes what is pending, its waiters owned by the write; or, when
  // nothing is (only empty writes wait) or the connection broke, completes them.
  void Write(Waiters waiters);
  void OnWritten(boost::system::error_code error, size_t bytes, Waiters waiters);

  std::shared_ptr<boost::asio::ssl::context> context_;
  std::optional<Tcp> tcp_;
  std::optional<Tls> tls_;
  std::unique_ptr<Outbound> out_;
  // Set by the first failed write: every write after it fails with it at once.
  boost::system::error_code write_error_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_CLIENT_STREAM_H_
