#ifndef NORTHBOUND_WS_FRONTEND_CLIENT_STREAM_H_
#define NORTHBOUND_WS_FRONTEND_CLIENT_STREAM_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "absl/container/inlined_vector.h"
#include "boost/asio/associated_executor.hpp"
#include "boost/asio/buffer.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/beast/core/bind_handler.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/ssl/ssl_stream.hpp"

namespace nb::frontend {

// A client's connection: plain TCP, or TLS over it when the frontend serves wss://. One
// type for all of them, chosen per connection at run time, so that the HTTP and WebSocket
// sessions are written once. It models Asio's AsyncReadStream and AsyncWriteStream (Beast's
// HTTP layer reads and writes through it).
//
// Three forms:
// - plain TCP with timeouts (Beast's tcp_stream): the HTTP phase, whose deadlines live in
//   the stream;
// - a bare socket: plain TCP once upgraded (DropTimeouts). The WebSocket session keeps its
//   own timeouts, and an idle connection is spared the TCP stream's timers and state;
// - TLS over the TCP stream, for the whole connection (TLS cannot change the layer below
//   it once the handshake is done).
//
// Writes are taken whole. Each write, Beast's HTTP responses or what the owner Sends (the
// handshake's answer, a batch of frames, a control frame), is appended to one outbound
// buffer, in order, and completes once its bytes are written to the connection. So no
// write can land inside another, and what was appended while a write was out leaves in one
// system call. The owner may first offer a batch to
// WriteNow, which writes what a bare socket takes at once when nothing else is on its way
// out, and Send only the rest.
//
// Threads: one strand, the connection's (the socket's executor), calls everything, and the
// writes complete on it. Not moved once it has written: a write in flight refers to it. A
// write in flight belongs to a handler that holds the stream's owner, so the stream
// outlives it.
class ClientStream {
 public:
  using Tcp = boost::beast::tcp_stream;
  using Socket = boost::asio::ip::tcp::socket;
  using Tls = boost::beast::ssl_stream<Tcp>;
  using executor_type = Tcp::executor_type;

  // Plain TCP with timeouts, made in place: a TCP stream's move allocates its state anew.
  explicit ClientStream(Socket socket) : layer_(std::in_place_type<Tcp>, std::move(socket)) {}
  // TLS with `context`, which the stream keeps alive (a certificate reload makes a new
  // context for new connections; this one keeps its own).
  ClientStream(Socket socket, std::shared_ptr<boost::asio::ssl::context> context)
      : context_(std::move(context)),
        layer_(std::in_place_type<Tls>, std::move(socket), *context_) {}

  // Cheap once DropTimeouts made a plain connection a bare socket.
  ClientStream(ClientStream&&) = default;
  ClientStream& operator=(ClientStream&&) = delete;

  bool is_tls() const { return std::holds_alternative<Tls>(layer_); }
  Tls& tls() { return std::get<Tls>(layer_); }

  executor_type get_executor() noexcept {
    return std::visit([](auto& layer) -> executor_type { return layer.get_executor(); }, layer_);
  }

  // The deadline of the operations started from now on (HTTP phase and TLS only).
  void expires_after(std::chrono::steady_clock::duration timeout);
  // No deadline: the WebSocket session's own timeouts rule from its handshake on. A plain
  // connection becomes a bare socket, letting go of the TCP stream's state and timers.
  // Called with no operation pending.
  void DropTimeouts();
  // Half-closes (plain) or closes (TLS, after its shutdown) the socket.
  void ShutdownSend();
  void Close();

  template <typename MutableBuffers, typename Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    std::visit([&](auto& layer) { layer.async_read_some(buffers, std::forward<Handler>(handler)); },
               layer_);
  }

  // Takes all of `buffers`: Beast never continues a write with a second call, so its
  // messages stay whole.
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

  // Writes as much of `bytes` (framed) as the connection takes without waiting, when it is a
  // bare socket and nothing else is on its way out; returns how many bytes that was (0 for
  // TLS, or behind a write in flight). The caller Sends the rest. Most of an event's or a
  // reply's frames leave this way: no operation, allocation or handler per write. A broken
  // connection writes nothing and fails the next Send.
  size_t WriteNow(std::string_view bytes);

  // A bare socket only: `handler(error)` runs once the connection has bytes to read (or has
  // ended), and ReadNow then reads them without waiting. Waiting holds no buffer.
  template <typename Handler>
  void AsyncWaitReadable(Handler&& handler) {
    std::get<Socket>(layer_).async_wait(Socket::wait_read, std::forward<Handler>(handler));
  }
  // Up to `size` bytes that are there; would_block when none are, eof once the client
  // half-closed.
  size_t ReadNow(char* data, size_t size, boost::system::error_code& error);

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

  // The TCP stream with timeouts (plain before the upgrade, or under TLS); none once a
  // bare socket.
  Tcp* Timed();
  Socket& socket();

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
  std::variant<Tcp, Socket, Tls> layer_;
  std::unique_ptr<Outbound> out_;
  // Set by the first failed write: every write after it fails with it at once.
  boost::system::error_code write_error_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_CLIENT_STREAM_H_
