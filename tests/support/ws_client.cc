#include "tests/support/ws_client.h"

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"

namespace nb::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  bool open = false;

  // Runs the io_context until `done` or the deadline; on timeout cancels and drains.
  bool RunUntil(const bool& done, std::chrono::milliseconds timeout) {
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(10));
      if (io.stopped()) io.restart();
    }
    if (done) return true;
    beast::get_lowest_layer(ws).socket().cancel();
    io.restart();
    while (!done) {
      io.run_for(std::chrono::milliseconds(10));
      if (io.stopped()) io.restart();
    }
    return false;
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}

WsClient::~WsClient() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

WsClient::Handshake WsClient::Connect(int port, const std::string& target,
                                      const std::map<std::string, std::string>& headers) {
  Handshake result;
  beast::error_code error;
  beast::get_lowest_layer(impl_->ws).expires_after(std::chrono::seconds(10));
  if (receive_buffer_ > 0) {
    auto& socket = beast::get_lowest_layer(impl_->ws).socket();
    socket.open(asio::ip::tcp::v4(), error);
    socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer_), error);
  }
  beast::get_lowest_layer(impl_->ws).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                              static_cast<unsigned short>(port)),
      error);
  if (error) return result;
  impl_->ws.set_option(
      websocket::stream_base::decorator([headers](websocket::request_type& request) {
        for (const auto& [name, value] : headers) request.set(name, value);
      }));
  websocket::response_type response;
  bool done = false;
  impl_->ws.async_handshake(response, "127.0.0.1", target, [&](beast::error_code e) {
    error = e;
    done = true;
  });
  impl_->RunUntil(done, std::chrono::seconds(10));
  beast::get_lowest_layer(impl_->ws).expires_never();
  if (error) {
    result.http_status = response.result_int();
    return result;
  }
  result.upgraded = true;
  impl_->open = true;
  return result;
}

bool WsClient::SendText(const std::string& text) {
  if (!impl_->open) return false;
  impl_->ws.text(true);
  beast::error_code error;
  bool done = false;
  impl_->ws.async_write(asio::buffer(text), [&](beast::error_code e, std::size_t) {
    error = e;
    done = true;
  });
  return impl_->RunUntil(done, std::chrono::seconds(10)) && !error;
}

bool WsClient::SendJson(const boost::json::value& value) {
  return SendText(boost::json::serialize(value));
}

bool WsClient::SendBinary(const std::string& bytes) {
  if (!impl_->open) return false;
  impl_->ws.binary(true);
  beast::error_code error;
  impl_->ws.write(asio::buffer(bytes), error);
  return !error;
}

std::optional<std::string> WsClient::Receive(std::chrono::milliseconds timeout) {
  if (!impl_->open) return std::nullopt;
  beast::error_code error;
  bool done = false;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code e, std::size_t) {
    error = e;
    done = true;
  });
  if (!impl_->RunUntil(done, timeout)) {
    // A cancelled read leaves the stream unusable; tests only time out at the end.
    impl_->open = false;
    return std::nullopt;
  }
  if (error) {
    impl_->open = false;
    // A close frame may have arrived even when the read failed otherwise (say, the
    // server closed while this client was still writing).
    if (error == websocket::error::closed ||
        impl_->ws.reason().code != websocket::close_code::none) {
      close_code_ = impl_->ws.reason().code;
      close_reason_ =
          std::string(impl_->ws.reason().reason.data(), impl_->ws.reason().reason.size());
    } else {
      close_code_ = 1006;
    }
    return std::nullopt;
  }
  std::string text = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
  return text;
}

std::optional<boost::json::object> WsClient::ReceiveJson(std::chrono::milliseconds timeout) {
  std::optional<std::string> text = Receive(timeout);
  if (!text) return std::nullopt;
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(*text, error);
  if (error || !value.is_object()) return std::nullopt;
  return value.as_object();
}

int WsClient::WaitForClose(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (impl_->open && std::chrono::steady_clock::now() < deadline) {
    Receive(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
  }
  return close_code_;
}

void WsClient::Close() {
  if (!impl_->open) return;
  bool done = false;
  impl_->ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  impl_->RunUntil(done, std::chrono::seconds(5));
  impl_->open = false;
}

std::vector<boost::json::object> UntilComplete(WsClient& client, const std::string& id,
                                               std::chrono::milliseconds timeout) {
  std::vector<boost::json::object> frames;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto frame = client.ReceiveJson(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
    if (!frame) break;
    frames.push_back(*frame);
    if (FrameString(*frame, "type") == "complete" && FrameString(*frame, "id") == id) break;
  }
  return frames;
}

std::string FrameString(const boost::json::object& frame, const char* key) {
  const boost::json::value* value = frame.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

}  // namespace nb::testing
