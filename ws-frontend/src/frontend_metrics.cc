#include "ws-frontend/src/frontend_metrics.h"

#include "common/metrics.h"

namespace nb::frontend {

FrontendMetrics::FrontendMetrics(prometheus::Registry& registry) {
  tls_handshake_failures_ = &prometheus::BuildCounter()
                                 .Name(MetricName("frontend", "tls_handshake_failures", "", true))
                                 .Help("wss:// connections whose TLS handshake failed.")
                                 .Register(registry)
                                 .Add({});
  auto& reloads = prometheus::BuildCounter()
                      .Name(MetricName("frontend", "tls_reloads", "", true))
                      .Help("Certificate reloads after the files changed, by result.")
                      .Register(registry);
  tls_reloads_ok_ = &reloads.Add({{"result", "ok"}});
  tls_reloads_failed_ = &reloads.Add({{"result", "error"}});
  tls_expiry_ = &prometheus::BuildGauge()
                     .Name(MetricName("frontend", "tls_certificate_expiry", "seconds"))
                     .Help(
                         "When the served certificate expires, in seconds since the Unix "
                         "epoch; 0 without TLS.")
                     .Register(registry)
                     .Add({});
  connections_ = &prometheus::BuildGauge()
                      .Name(MetricName("frontend", "connections"))
                      .Help("Open WebSocket connections.")
                      .Register(registry)
                      .Add({});
  queued_bytes_ = &prometheus::BuildGauge()
                       .Name(MetricName("frontend", "outbound_queued", "bytes"))
                       .Help("Bytes waiting in the outbound queues of all sessions.")
                       .Register(registry)
                       .Add({});
  auto& in = prometheus::BuildCounter()
                 .Name(MetricName("frontend", "frames_in", "", true))
                 .Help("Frames received from clients, by type.")
                 .Register(registry);
  for (const char* type : {"sub", "unsub", "ping", "invalid", "binary"})
    frames_in_[type] = &in.Add({{"type", type}});
  auto& out = prometheus::BuildCounter()
                  .Name(MetricName("frontend", "frames_out", "", true))
                  .Help("Frames sent to clients, by type.")
                  .Register(registry);
  for (const char* type : {"result", "error", "complete", "pong", "authError"}) {
    frames_out_[type] = &out.Add({{"type", type}});
  }
  auto& subscriptions = prometheus::BuildGauge()
                            .Name(MetricName("frontend", "subscriptions"))
                            .Help("Live subscriptions, by topic family.")
                            .Register(registry);
  for (const char* family : {"command", "event"})
    subscriptions_[family] = &subscriptions.Add({{"family", family}});
  auto& errors = prometheus::BuildCounter()
                     .Name(MetricName("frontend", "errors", "", true))
                     .Help("Error frames sent, by protocol error code.")
                     .Register(registry);
  for (int code = northbound::common::v1::ErrorCode_MIN + 1;
       code <= northbound::common::v1::ErrorCode_MAX; ++code) {
    errors_[code] =
        &errors.Add({{"code", std::string(ErrorCodeName(static_cast<ErrorCode>(code)))}});
  }
  auto& closes = prometheus::BuildCounter()
                     .Name(MetricName("frontend", "closes", "", true))
                     .Help("Connections closed by the server, by WebSocket close code.")
                     .Register(registry);
  for (int code : {1000, 1001, 1002, 1007, 1008, 1009, 1011, 1013, 4008, 4029}) {
    closes_[code] = &closes.Add({{"code", std::to_string(code)}});
  }
  auto& cache =
      prometheus::BuildCounter()
          .Name(MetricName("frontend", "auth_cache", "", true))
          .Help("Token validations answered from the cache (hit) or by auth-service (miss).")
          .Register(registry);
  cache_hits_ = &cache.Add({{"result", "hit"}});
  cache_misses_ = &cache.Add({{"result", "miss"}});
  auto& rpc = prometheus::BuildHistogram()
                  .Name(MetricName("frontend", "device_rpc_latency", "seconds"))
                  .Help(
                      "Duration of device-service calls made for subscriptions and the HTTP "
                      "API, by RPC.")
                  .Register(registry);
  for (const char* name :
       {"send", "subscribe", "list_products", "get_product", "list_devices", "get_device"}) {
    device_rpc_[name] = &rpc.Add({{"rpc", name}}, LatencyBuckets());
  }
  auto& api = prometheus::BuildCounter()
                  .Name(MetricName("frontend", "api_requests", "", true))
                  .Help("Answers of the HTTP API (/api/v1/), by HTTP status.")
                  .Register(registry);
  for (int status : {200, 400, 401, 403, 404, 405, 500, 503, 504}) {
    api_requests_by_status_[status] = &api.Add({{"status", std::to_string(status)}});
  }
}

void FrontendMetrics::CountApiRequest(int status) {
  // The children are every status http_api.cc answers with.
  if (auto it = api_requests_by_status_.find(status); it != api_requests_by_status_.end()) {
    it->second->Increment();
  }
}

void FrontendMetrics::CountFrameIn(const std::string& type) {
  if (auto it = frames_in_.find(type); it != frames_in_.end()) it->second->Increment();
}

void FrontendMetrics::CountFrameOut(const std::string& type) {
  if (auto it = frames_out_.find(type); it != frames_out_.end()) it->second->Increment();
}

void FrontendMetrics::CountError(ErrorCode code) {
  if (auto it = errors_.find(code); it != errors_.end()) it->second->Increment();
}

void FrontendMetrics::CountClose(int code) {
  if (auto it = closes_.find(code); it != closes_.end()) it->second->Increment();
}

void FrontendMetrics::CountAuthCache(bool hit) { (hit ? cache_hits_ : cache_misses_)->Increment(); }

void FrontendMetrics::ObserveDeviceRpc(const std::string& rpc, double seconds) {
  if (auto it = device_rpc_.find(rpc); it != device_rpc_.end()) it->second->Observe(seconds);
}

}  // namespace nb::frontend
