#include "ws-frontend/src/http_session.h"

#include <chrono>

#include "absl/strings/match.h"
#include "boost/asio/dispatch.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"
#include "boost/beast/websocket/rfc6455.hpp"

namespace nb::frontend {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
// Requests before the upgrade are small; anything bigger is not a client of ours.
constexpr std::uint64_t kMaxRequestBodyBytes = 8 * 1024;
constexpr std::uint32_t kMaxRequestHeaderBytes = 16 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(30);
}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<FrontendState> state)
    : stream_(std::move(socket)), state_(std::move(state)) {}

void HttpSession::Run() {
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
}

void HttpSession::DoRead() {
  parser_.emplace();
  parser_->body_limit(kMaxRequestBodyBytes);
  parser_->header_limit(kMaxRequestHeaderBytes);
  stream_.expires_after(kRequestTimeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code error, std::size_t bytes) {
                     self->OnRead(error, bytes);
                   });
}

void HttpSession::OnRead(beast::error_code error, std::size_t) {
  if (error == http::error::end_of_stream) return DoClose();
  if (error) return;  // Timeout, reset or a malformed request: just drop the connection.

  const Request& request = parser_->get();
  const absl::string_view target(request.target().data(), request.target().size());
  const absl::string_view path = target.substr(0, target.find('?'));

  if (path == "/healthz") return Reply(http::status::ok, "ok\n");
  if (path == "/readyz") {
    if (state_->draining.load()) return Reply(http::status::service_unavailable, "draining\n");
    return Reply(http::status::ok, "ready\n");
  }
  if (path == "/messaging" || absl::StartsWith(path, "/messaging/")) {
    if (!beast::websocket::is_upgrade(request)) {
      return Reply(http::status::upgrade_required, "WebSocket upgrade required\n");
    }
    return Reply(http::status::not_implemented, "the WebSocket protocol is not served yet\n");
  }
  Reply(http::status::not_found, "not found\n");
}

void HttpSession::Reply(http::status status, std::string body) {
  auto response = std::make_shared<Response>(status, parser_->get().version());
  response->set(http::field::content_type, "text/plain");
  if (status == http::status::upgrade_required) {
    response->set(http::field::upgrade, "websocket");
    response->set(http::field::connection, "Upgrade");
  }
  response->keep_alive(parser_->get().keep_alive());
  response->body() = std::move(body);
  response->prepare_payload();
  const bool keep_alive = response->keep_alive();
  http::async_write(stream_, *response,
                    [self = shared_from_this(), response, keep_alive](beast::error_code error,
                                                                      std::size_t bytes) {
                      self->OnWrite(keep_alive, error, bytes);
                    });
}

void HttpSession::OnWrite(bool keep_alive, beast::error_code error, std::size_t) {
  if (error) return;
  if (!keep_alive) return DoClose();
  DoRead();
}

void HttpSession::DoClose() {
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace nb::frontend
