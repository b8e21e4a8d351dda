#ifndef NORTHBOUND_WS_FRONTEND_HTTP_SESSION_H_
#define NORTHBOUND_WS_FRONTEND_HTTP_SESSION_H_

#include <memory>
#include <optional>

#include "absl/strings/string_view.h"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/string_body.hpp"
#include "ws-frontend/src/client_stream.h"
#include "ws-frontend/src/frontend_context.h"

namespace nb::frontend {

// One HTTP connection before any WebSocket upgrade: the TLS handshake first when the
// frontend serves wss://, then /healthz and /readyz, 404 for unknown paths and 426 for a
// plain request to /messaging.
// Lives on its connection's strand.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, FrontendContext& context);

  void Run();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  void OnHandshake(boost::beast::error_code error);
  void DoRead();
  void OnRead(boost::beast::error_code error, std::size_t bytes);
  void Reply(boost::beast::http::status status, std::string body);
  bool OriginAllowed(const Request& request) const;
  static std::string TokenOf(const Request& request, absl::string_view path);
  void Upgrade(std::string token);
  void OnWrite(bool keep_alive, boost::beast::error_code error, std::size_t bytes);
  void DoClose();

  ClientStream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  FrontendContext& context_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_HTTP_SESSION_H_
