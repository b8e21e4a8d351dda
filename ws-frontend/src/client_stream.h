#ifndef NORTHBOUND_WS_FRONTEND_CLIENT_STREAM_H_
#define NORTHBOUND_WS_FRONTEND_CLIENT_STREAM_H_

#include <memory>
#include <optional>
#include <utility>

#include "boost/asio/ssl/context.hpp"
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

  template <typename ConstBuffers, typename Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Handler>(handler));
    tcp_->async_write_some(buffers, std::forward<Handler>(handler));
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
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::optional<Tcp> tcp_;
  std::optional<Tls> tls_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_CLIENT_STREAM_H_
