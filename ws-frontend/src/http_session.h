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
// frontend serves wss://, then /healthz and /readyz, the read-only API under /api/v1/,
// the operator console under /console/, 404 for unknown paths and 426 for a plain request
// to /messaging.
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
  // A text/plain answer.
  void Reply(boost::beast::http::status status, std::string body);
  void Redirect(absl::string_view location);
  void ServeConsoleFile(absl::string_view path);
  void ServeApi(absl::string_view target);
  // Writes `response` (on the strand), then reads the next request or closes.
  void Write(std::shared_ptr<Response> response);
  bool OriginAllowed(const Request& request) const;
  static std::string BearerOf(const Request& request);
  // The client's token: the path's, else the Bearer header's, else the subprotocol's.
  static std::string TokenOf(const Request& request, absl::string_view path);
  void Upgrade(std::string token, std::string key, bool subprotocol);
  void OnWrite(bool keep_alive, boost::beast::error_code error, std::size_t bytes);
  void DoClose();

  ClientStream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  FrontendContext& context_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_HTTP_SESSION_H_
