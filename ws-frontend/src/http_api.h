#ifndef NORTHBOUND_WS_FRONTEND_HTTP_API_H_
#define NORTHBOUND_WS_FRONTEND_HTTP_API_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "boost/beast/http/status.hpp"
#include "boost/beast/http/verb.hpp"
#include "ws-frontend/src/frontend_context.h"

namespace nb::frontend {

// An answer of the HTTP API: a status and a JSON body.
struct ApiAnswer {
  boost::beast::http::status status = boost::beast::http::status::ok;
  std::string body;
};

inline constexpr absl::string_view kApiPrefix = "/api/v1/";

// The read-only HTTP API of docs/protocol.md §11: products, one product, devices (paged)
// and one device, for the client whose Bearer `token` is given, with its permissions
// applied by device-service. `target` is the request target (path and query) under
// kApiPrefix. Checks the method, the token (auth-service), the path and its parameters,
// then proxies to device-service's ListProducts, GetProduct, ListDevices or GetDevice.
// `done` runs exactly once: inline for an answer known at once, else on a gRPC thread.
void ServeApi(FrontendContext& context, boost::beast::http::verb method, absl::string_view target,
              std::string token, std::function<void(ApiAnswer)> done);

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_HTTP_API_H_
