#include "ws-frontend/src/http_session.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/post.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"
#include "boost/beast/websocket/rfc6455.hpp"
#include "ws-frontend/src/console_assets.h"
#include "ws-frontend/src/http_api.h"
#include "ws-frontend/src/server_tls.h"
#include "ws-frontend/src/websocket_session.h"
#include "ws-frontend/src/websocket_wire.h"

namespace nb::frontend {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
// Requests before the upgrade are small; anything bigger is not a client of ours.
constexpr std::uint64_t kMaxRequestBodyBytes = 8 * 1024;
constexpr std::uint32_t kMaxRequestHeaderBytes = 16 * 1024;
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(5);

// The console's pages may load and connect to nothing but this origin (docs/console.md).
constexpr char kConsolePolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// The subprotocol a browser offers to say it speaks docs/protocol.md; offered together
// with "bearer.<token>", the one way a browser's WebSocket can carry a token outside the
// URL.
constexpr absl::string_view kSubprotocol = "northbound";
constexpr absl::string_view kBearerSubprotocol = "bearer.";

const char* ContentTypeOf(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  if (path.ends_with(".png")) return "image/png";
  // The protocol's text, shown as text rather than downloaded.
  if (path.ends_with(".md")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

absl::string_view View(beast::string_view value) { return {value.data(), value.size()}; }

// The entries of a Sec-WebSocket-Protocol header.
std::vector<absl::string_view> Subprotocols(const http::request<http::string_body>& request) {
  std::vector<absl::string_view> entries;
  auto [begin, end] = request.equal_range(http::field::sec_websocket_protocol);
  for (auto field = begin; field != end; ++field) {
    for (absl::string_view entry : absl::StrSplit(View(field->value()), ',', absl::SkipEmpty())) {
      entries.push_back(absl::StripAsciiWhitespace(entry));
    }
  }
  return entries;
}

// Made in place (the result is not moved): a TCP stream's move allocates its state anew.
ClientStream MakeStream(boost::asio::ip::tcp::socket socket, const FrontendContext& context) {
  if (context.tls == nullptr) return ClientStream(std::move(socket));
  return ClientStream(std::move(socket), context.tls->current());
}

}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, FrontendContext& context)
    : stream_(MakeStream(std::move(socket), context)), context_(context) {}

void HttpSession::Run() {
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->stream_.is_tls()) return self->DoRead();
    self->stream_.expires_after(self->context_.limits.request_timeout);
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
  stream_.expires_after(context_.limits.request_timeout);
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
    // RFC 6455 §4.2.1 and §4.4.
    if (request[http::field::sec_websocket_version] != "13") {
      return Reply(http::status::upgrade_required, "Sec-WebSocket-Version must be 13\n");
    }
    const auto key = request[http::field::sec_websocket_key];
    if (!IsWebsocketKey(absl::string_view(key.data(), key.size()))) {
      return Reply(http::status::bad_request, "missing or invalid Sec-WebSocket-Key\n");
    }
    const std::vector<absl::string_view> offered = Subprotocols(request);
    return Upgrade(TokenOf(request, path), std::string(key),
                   std::find(offered.begin(), offered.end(), kSubprotocol) != offered.end());
  }
  if (absl::StartsWith(path, kApiPrefix)) return ServeApi(target);
  if (context_.serve_console) {
    if (path == "/" || path == "/console") return Redirect("/console/");
    if (absl::StartsWith(path, "/console/")) {
      return ServeConsoleFile(path.substr(std::string_view("/console/").size()));
    }
  }
  Reply(http::status::not_found, "not found\n");
}

void HttpSession::ServeConsoleFile(absl::string_view requested) {
  const std::string_view path =
      requested.empty() ? "index.html" : std::string_view(requested.data(), requested.size());
  const ConsoleAsset* asset = FindConsoleAsset(path);
  if (asset == nullptr) return Reply(http::status::not_found, "not found\n");
  const Request& request = parser_->get();
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return Reply(http::status::method_not_allowed, "GET only\n");
  }
  auto response = std::make_shared<Response>(http::status::ok, request.version());
  response->set(http::field::content_type, ContentTypeOf(path));
  response->set("Content-Security-Policy", kConsolePolicy);
  response->set(http::field::cache_control, "no-cache");
  response->set("X-Content-Type-Options", "nosniff");
  response->set("Referrer-Policy", "no-referrer");
  response->keep_alive(request.keep_alive());
  response->body() = std::string(asset->content);
  response->prepare_payload();
  if (request.method() == http::verb::head) response->body().clear();
  Write(std::move(response));
}

void HttpSession::ServeApi(absl::string_view target) {
  const Request& request = parser_->get();
  auto strand = stream_.get_executor();
  // The answer holds the session: nothing else does while device-service is asked.
  nb::frontend::ServeApi(
      context_, request.method(), target, BearerOf(request),
      [self = shared_from_this(), strand, version = request.version(),
       keep_alive = request.keep_alive()](ApiAnswer answer) {
        auto response = std::make_shared<Response>(answer.status, version);
        response->set(http::field::content_type, "application/json");
        response->set(http::field::cache_control, "no-store");
        response->set("X-Content-Type-Options", "nosniff");
        if (answer.status == http::status::unauthorized) {
          response->set(http::field::www_authenticate, "Bearer realm=\"northbound\"");
        }
        if (answer.status == http::status::method_not_allowed) {
          response->set(http::field::allow, "GET");
        }
        response->keep_alive(keep_alive);
        response->body() = std::move(answer.body);
        response->prepare_payload();
        boost::asio::post(strand,
                          [self = std::move(self), response = std::move(response)]() mutable {
                            self->Write(std::move(response));
                          });
      });
}

void HttpSession::Redirect(absl::string_view location) {
  auto response = std::make_shared<Response>(http::status::found, parser_->get().version());
  response->set(http::field::location, std::string_view(location.data(), location.size()));
  response->set(http::field::content_type, "text/plain");
  response->keep_alive(parser_->get().keep_alive());
  response->body() = "the console is at /console/\n";
  response->prepare_payload();
  Write(std::move(response));
}

bool HttpSession::OriginAllowed(const Request& request) const {
  auto origin = request.find(http::field::origin);
  // Clients that are not browsers send no Origin; they are not subject to the allow-list.
  if (origin == request.end()) return true;
  const absl::string_view value = View(origin->value());
  for (const std::string& allowed : context_.allowed_origins) {
    if (value == allowed) return true;
  }
  // A page this frontend served (the console) connects back to the host it came from.
  // The scheme is not compared: a TLS-terminating proxy in front changes it.
  auto host = request.find(http::field::host);
  if (host == request.end()) return false;
  absl::string_view authority = value;
  if (!absl::ConsumePrefix(&authority, "http://") && !absl::ConsumePrefix(&authority, "https://")) {
    return false;
  }
  return absl::EqualsIgnoreCase(authority, View(host->value()));
}

std::string HttpSession::BearerOf(const Request& request) {
  auto authorization = request.find(http::field::authorization);
  if (authorization == request.end()) return "";
  absl::string_view value = View(authorization->value());
  if (!absl::ConsumePrefix(&value, "Bearer ")) return "";
  return std::string(absl::StripAsciiWhitespace(value));
}

std::string HttpSession::TokenOf(const Request& request, absl::string_view path) {
  constexpr absl::string_view kPrefix = "/messaging/";
  if (absl::StartsWith(path, kPrefix)) return std::string(path.substr(kPrefix.size()));
  if (std::string bearer = BearerOf(request); !bearer.empty()) return bearer;
  for (absl::string_view entry : Subprotocols(request)) {
    if (absl::ConsumePrefix(&entry, kBearerSubprotocol)) return std::string(entry);
  }
  return "";
}

void HttpSession::Upgrade(std::string token, std::string key, bool subprotocol) {
  // The upgrade completes whatever the token: a bad one is refused with authError and
  // close 1008, as the protocol says. The WebSocket session's own timeouts take over from
  // here; a plain connection becomes a bare socket, moved into the session for nothing.
  stream_.DropTimeouts();
  parser_.reset();
  std::make_shared<WebsocketSession>(std::move(stream_), context_, std::move(token),
                                     subprotocol ? std::string(kSubprotocol) : std::string())
      ->Run(std::move(key));
}

void HttpSession::Reply(http::status status, std::string body) {
  auto response = std::make_shared<Response>(status, parser_->get().version());
  response->set(http::field::content_type, "text/plain");
  if (status == http::status::upgrade_required) {
    response->set(http::field::upgrade, "websocket");
    response->set(http::field::connection, "Upgrade");
    response->set(http::field::sec_websocket_version, "13");
  }
  response->keep_alive(parser_->get().keep_alive());
  response->body() = std::move(body);
  response->prepare_payload();
  Write(std::move(response));
}

void HttpSession::Write(std::shared_ptr<Response> response) {
  const bool keep_alive = response->keep_alive();
  // A fresh deadline: an API answer may have taken part of the request's.
  stream_.expires_after(context_.limits.request_timeout);
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
    stream_.expires_after(kTlsShutdownTimeout);
    stream_.tls().async_shutdown(
        [self = shared_from_this()](beast::error_code) { self->stream_.Close(); });
    return;
  }
  stream_.ShutdownSend();
}

}  // namespace nb::frontend
