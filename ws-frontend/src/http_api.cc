#include "ws-frontend/src/http_api.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/json/object.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "boost/url/parse.hpp"
#include "common/status.h"
#include "google/protobuf/util/json_util.h"
#include "northbound/auth/v1/auth.pb.h"

namespace nb::frontend {

namespace http = boost::beast::http;
namespace device = northbound::device::v1;
namespace auth = northbound::auth::v1;

namespace {

// device-service answers from memory; this is for a device-service that is away.
constexpr auto kCallDeadline = std::chrono::seconds(5);
// The largest page ListDevices gives (device-service's own limit).
constexpr uint32_t kMaxPageSize = 1000;
// Longer keys exist in no fleet; they are refused before anything is asked.
constexpr size_t kMaxKeyBytes = 128;

ApiAnswer Error(http::status status, absl::string_view code, absl::string_view message) {
  boost::json::object body;
  body["code"] = boost::json::string_view(code.data(), code.size());
  body["message"] = boost::json::string_view(message.data(), message.size());
  return {status, boost::json::serialize(body)};
}

ApiAnswer ParameterError(absl::string_view message) {
  return Error(http::status::bad_request, "PARAMETER_ERROR", message);
}

http::status HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return http::status::bad_request;
    case absl::StatusCode::kUnauthenticated:
      return http::status::unauthorized;
    case absl::StatusCode::kPermissionDenied:
      return http::status::forbidden;
    case absl::StatusCode::kNotFound:
      return http::status::not_found;
    case absl::StatusCode::kUnavailable:
      return http::status::service_unavailable;
    case absl::StatusCode::kDeadlineExceeded:
      return http::status::gateway_timeout;
    default:
      return http::status::internal_server_error;
  }
}

// A failed device-service call as the API reports it: the protocol's error code and the
// service's message, except for internal errors, whose details stay in the logs.
ApiAnswer FailedCall(const absl::Status& status) {
  const http::status code = HttpStatusFor(status.code());
  if (code == http::status::internal_server_error) {
    return Error(code, "SYSTEM_ERROR", "device-service failed; see its log");
  }
  if (code == http::status::service_unavailable || code == http::status::gateway_timeout) {
    return Error(code, "SERVER_NOT_AVAILABLE", "device-service is not available; try again later");
  }
  return Error(code, ErrorCodeName(ErrorCodeOf(status)), status.message());
}

ApiAnswer Json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  // `online: false`, `deviceCount: 0` and empty lists are answers too.
  options.always_print_primitive_fields = true;
  std::string body;
  if (!google::protobuf::util::MessageToJsonString(message, &body, options).ok()) {
    return Error(http::status::internal_server_error, "SYSTEM_ERROR",
                 "could not encode the answer");
  }
  return {http::status::ok, std::move(body)};
}

// DeviceService's asynchronous unary methods, callback form.
using AsyncStub = device::DeviceService::StubInterface::async_interface;
template <typename Request, typename Response>
using AsyncMethod = void (AsyncStub::*)(grpc::ClientContext*, const Request*, Response*,
                                        std::function<void(grpc::Status)>);

// Calls one unary DeviceService method as the client holding `token`. `rpc` names it in
// metrics.
template <typename Request, typename Response>
void CallDevice(FrontendContext& context, const char* rpc, const std::string& token,
                Request request, AsyncMethod<Request, Response> method,
                std::function<void(ApiAnswer)> done) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  // device-service applies this client's permissions (docs/auth.md, "Direct callers").
  call->context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  call->context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  // Shutdown waits for these, as for the sessions' streams, before the channels go.
  LiveCalls& live = context.devices->live_calls();
  live.Add();
  (context.devices->NextStub().async()->*method)(
      &call->context, &call->request, &call->response,
      [call, done = std::move(done), &live, metrics = context.metrics, rpc,
       started = std::chrono::steady_clock::now()](grpc::Status status) {
        metrics->ObserveDeviceRpc(
            rpc, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        done(status.ok() ? Json(call->response) : FailedCall(ToAbslStatus(status, call->context)));
        live.Remove();
      });
}

bool ValidKey(absl::string_view key) { return !key.empty() && key.size() <= kMaxKeyBytes; }

// What a request asks for, once its path and query are understood.
struct Route {
  enum Kind { kProducts, kProduct, kDevices, kDevice } kind;
  std::string product;
  std::string device;
  uint32_t page_size = 0;
  std::string page_token;
};

// The route of `target`, or the answer that refuses it.
std::variant<Route, ApiAnswer> Parse(absl::string_view target) {
  auto url = boost::urls::parse_origin_form(std::string_view(target.data(), target.size()));
  if (!url) return ParameterError("the request target is not a valid path");
  std::vector<std::string> segments;
  for (auto segment : url->segments()) segments.push_back(std::string(segment));
  // segments: "api", "v1", ...
  if (segments.size() < 3) return Error(http::status::not_found, "NOT_FOUND", "no such resource");
  segments.erase(segments.begin(), segments.begin() + 2);

  Route route;
  std::vector<std::string> allowed_params;
  if (segments.size() == 1 && segments[0] == "products") {
    route.kind = Route::kProducts;
  } else if (segments.size() == 2 && segments[0] == "products") {
    route.kind = Route::kProduct;
    route.product = segments[1];
  } else if (segments.size() == 4 && segments[0] == "products" && segments[2] == "devices") {
    route.kind = Route::kDevice;
    route.product = segments[1];
    route.device = segments[3];
  } else if (segments.size() == 1 && segments[0] == "devices") {
    route.kind = Route::kDevices;
    allowed_params = {"product", "page_size", "page_token"};
  } else {
    return Error(http::status::not_found, "NOT_FOUND", "no such resource");
  }
  if (route.kind != Route::kProducts && route.kind != Route::kDevices && !ValidKey(route.product)) {
    return ParameterError("the product key must be 1..128 bytes");
  }
  if (route.kind == Route::kDevice && !ValidKey(route.device)) {
    return ParameterError("the device key must be 1..128 bytes");
  }

  for (auto param : url->params()) {
    const std::string key(param.key);
    if (std::find(allowed_params.begin(), allowed_params.end(), key) == allowed_params.end()) {
      return ParameterError(absl::StrCat("unknown query parameter ", Quoted(key)));
    }
    const std::string value(param.value);
    if (key == "product") {
      if (!ValidKey(value)) return ParameterError("product must be 1..128 bytes");
      route.product = value;
    } else if (key == "page_size") {
      if (!absl::SimpleAtoi(value, &route.page_size) || route.page_size == 0 ||
          route.page_size > kMaxPageSize) {
        return ParameterError(absl::StrCat("page_size must be a whole number 1..", kMaxPageSize));
      }
    } else if (key == "page_token") {
      route.page_token = value;
    }
  }
  return route;
}

void Dispatch(FrontendContext& context, const std::string& token, const Route& route,
              std::function<void(ApiAnswer)> done) {
  switch (route.kind) {
    case Route::kProducts:
      return CallDevice<device::ListProductsRequest, device::ListProductsResponse>(
          context, "list_products", token, {}, &AsyncStub::ListProducts, std::move(done));
    case Route::kProduct: {
      device::GetProductRequest request;
      request.set_product_key(route.product);
      return CallDevice<device::GetProductRequest, device::Product>(
          context, "get_product", token, std::move(request), &AsyncStub::GetProduct,
          std::move(done));
    }
    case Route::kDevices: {
      device::ListDevicesRequest request;
      request.set_product_key(route.product);
      request.set_page_size(route.page_size);
      request.set_page_token(route.page_token);
      request.set_include_values(true);
      return CallDevice<device::ListDevicesRequest, device::ListDevicesResponse>(
          context, "list_devices", token, std::move(request), &AsyncStub::ListDevices,
          std::move(done));
    }
    case Route::kDevice: {
      device::GetDeviceRequest request;
      request.set_product_key(route.product);
      request.set_device_key(route.device);
      return CallDevice<device::GetDeviceRequest, device::Device>(
          context, "get_device", token, std::move(request), &AsyncStub::GetDevice, std::move(done));
    }
  }
}

}  // namespace

void ServeApi(FrontendContext& context, http::verb method, absl::string_view target,
              std::string token, std::function<void(ApiAnswer)> answer) {
  // Every answer is counted, whichever step gives it.
  auto done = [answer = std::move(answer), metrics = context.metrics](ApiAnswer a) {
    metrics->CountApiRequest(static_cast<int>(a.status));
    answer(std::move(a));
  };
  if (method != http::verb::get) {
    return done(Error(http::status::method_not_allowed, "METHOD_NOT_ALLOWED",
                      "the API is read-only: GET only"));
  }
  if (token.empty()) {
    return done(Error(http::status::unauthorized, "UNAUTHENTICATED",
                      "send the client token as Authorization: Bearer <token>"));
  }
  auto parsed = Parse(target);
  if (auto* answer = std::get_if<ApiAnswer>(&parsed)) return done(std::move(*answer));
  // The token is checked here too, not only by device-service, so that the API refuses
  // what a WebSocket session would, whatever device-service's own settings.
  context.auth->Validate(
      token, false,
      [&context, token, route = std::get<Route>(std::move(parsed)),
       done = std::move(done)](absl::StatusOr<auth::ValidateTokenResponse> result) mutable {
        if (!result.ok()) {
          return done(Error(http::status::service_unavailable, "SERVER_NOT_AVAILABLE",
                            "auth-service is not available; try again later"));
        }
        if (result->status() != auth::VALID) {
          return done(Error(http::status::unauthorized, "UNAUTHENTICATED", "invalid token"));
        }
        Dispatch(context, token, route, std::move(done));
      });
}

}  // namespace nb::frontend
