#include "ws-frontend/src/http_session.h"

#include <chrono>

#include "absl/strings/match.h"
#include "boost/asio/dispatch.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"
#include "boost/beast/websocket/rfc6455.hpp"
#include "ws-frontend/src/server_tls.h"
#include "ws-frontend/src/websocket_session.h"

namespace nb::frontend {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
// Requests before the upgrade are small; anything bigger is not a client of ours.
constexpr std::uint64_t kMaxRequestBodyBytes = 8 * 1024;
constexpr std::uint32_t kMaxRequestHeaderBytes = 16 * 1024;
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(5);

ClientStream MakeStream(boost::asio::ip::tcp::socket socket, const FrontendContext& context) {
  beast::tcp_stream tcp(std::move(socket));
  if (context.tls == nullptr) return ClientStream(std::move(tcp));
  return ClientStream(std::move(tcp), context.tls->current());
}

}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, FrontendContext& context)
    : stream_(MakeStream(std::move(socket), context)), context_(context) {}

void HttpSession::Run() {
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->stream_.is_tls()) return self->DoRead();
    self->stream_.next_layer().expires_after(self->context_.limits.request_timeout);
    self->stream_.tls().async_handshake(
        boost::asio::ssl::stream_base::server,
        [self](beast::error_code error) { self->OnHandshake(error); });
  });
}

void HttpSession::OnHandshake(beast::error_code error) {
  if (error) {
    // A wrong CA, no client certificate, plain HTTP on the TLS port, a stalled client:
    // the connection just goes; there is nobody to answer.
    context_.metrics->CountTlsHandshakeFailure();
    return;
  }
  DoRead();
}

void HttpSession::DoRead() {
  parser_.emplace();
  parser_->body_limit(kMaxRequestBodyBytes);
  parser_->header_limit(kMaxRequestHeaderBytes);
  // One deadline for the whole request, however slowly its bytes come.
  stream_.next_layer().expires_after(context_.limits.request_timeout);
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
    if (context_.state.draining.load())
      return Reply(http::status::service_unavailable, "draining\n");
    if (!context_.devices->Reachable()) {
      return Reply(http::status::service_unavailable, "device-service unreachable\n");
    }
    if (!context_.auth->Reachable()) {
      return Reply(http::status::service_unavailable, "auth-service unreachable\n");
    }
    return Reply(http::status::ok, "ready\n");
  }
  if (path == "/messaging" || absl::StartsWith(path, "/messaging/")) {
    if (!beast::websocket::is_upgrade(request)) {
      return Reply(http::status::upgrade_required, "WebSocket upgrade required\n");
    }
    if (!OriginAllowed(request)) return Reply(http::status::forbidden, "origin not allowed\n");
    if (context_.state.draining.load()) {
      return Reply(http::status::service_unavailable, "shutting down\n");
    }
    return Upgrade(TokenOf(request, path));
  }
  Reply(http::status::not_found, "not found\n");
}

bool HttpSession::OriginAllowed(const Request& request) const {
  auto origin = request.find(http::field::origin);
  // Clients that are not browsers send no Origin; they are not subject to the allow-list.
  if (origin == request.end()) return true;
  const absl::string_view value(origin->value().data(), origin->value().size());
  for (const std::string& allowed : context_.allowed_origins) {
    if (value == allowed) return true;
  }
  return false;
}

std::string HttpSession::TokenOf(const Request& request, absl::string_view path) {
  constexpr absl::string_view kPrefix = "/messaging/";
  if (absl::StartsWith(path, kPrefix)) return std::string(path.substr(kPrefix.size()));
  auto authorization = request.find(http::field::authorization);
  if (authorization == request.end()) return "";
  const absl::string_view value(authorization->value().data(), authorization->value().size());
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWith(value, kBearer)) return "";
  return std::string(value.substr(kBearer.size()));
}

void HttpSession::Upgrade(std::string token) {
  // The upgrade completes whatever the token: a bad one is refused with authError and
  // close 1008, as the protocol says.
  std::make_shared<WebsocketSession>(std::move(stream_), context_, std::move(token))
      ->Run(parser_->release());
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
  http::async_write(
      stream_, *response,
      [self = shared_from_this(), response, keep_alive](
          beast::error_code error, std::size_t bytes) { self->OnWrite(keep_alive, error, bytes); });
}

void HttpSession::OnWrite(bool keep_alive, beast::error_code error, std::size_t) {
  if (error) return;
  if (!keep_alive) return DoClose();
  DoRead();
}

void HttpSession::DoClose() {
  if (stream_.is_tls()) {
    stream_.next_layer().expires_after(kTlsShutdownTimeout);
    stream_.tls().async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      self->stream_.next_layer().socket().close(ignored);
    });
    return;
  }
  beast::error_code ignored;
  stream_.next_layer().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace nb::frontend
