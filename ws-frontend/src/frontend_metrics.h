#ifndef NORTHBOUND_WS_FRONTEND_FRONTEND_METRICS_H_
#define NORTHBOUND_WS_FRONTEND_FRONTEND_METRICS_H_

#include <map>
#include <string>

#include "common/status.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace nb::frontend {

// ws-frontend's metrics, all children made up front. No token, id or device key is a
// label. Thread-safe.
class FrontendMetrics {
 public:
  explicit FrontendMetrics(prometheus::Registry& registry);

  prometheus::Gauge& connections() { return *connections_; }
  // Bytes waiting in the outbound queues of all sessions.
  prometheus::Gauge& queued_bytes() { return *queued_bytes_; }
  // type: sub, unsub, ping, invalid, binary (in); result, error, complete, pong, authError (out).
  void CountFrameIn(const std::string& type);
  void CountFrameOut(const std::string& type);
  // family: command or event.
  prometheus::Gauge& subscriptions(const std::string& family) { return *subscriptions_.at(family); }
  void CountError(ErrorCode code);
  void CountClose(int code);
  void CountAuthCache(bool hit);
  // rpc: send or subscribe, from start to the end of the stream; list_products,
  // get_product, list_devices or get_device for the HTTP API.
  void ObserveDeviceRpc(const std::string& rpc, double seconds);
  // One answer of the HTTP API (docs/protocol.md §11), by HTTP status.
  void CountApiRequest(int status);
  // wss:// only: handshakes that failed (wrong CA, no client certificate, timeout ...).
  void CountTlsHandshakeFailure() { tls_handshake_failures_->Increment(); }
  // result: ok or error.
  void CountTlsReload(bool ok) { (ok ? tls_reloads_ok_ : tls_reloads_failed_)->Increment(); }
  prometheus::Gauge& tls_certificate_expiry() { return *tls_expiry_; }

 private:
  prometheus::Gauge* connections_;
  prometheus::Gauge* queued_bytes_;
  std::map<std::string, prometheus::Counter*> frames_in_;
  std::map<std::string, prometheus::Counter*> frames_out_;
  std::map<std::string, prometheus::Gauge*> subscriptions_;
  std::map<int, prometheus::Counter*> errors_;
  std::map<int, prometheus::Counter*> closes_;
  prometheus::Counter* cache_hits_;
  prometheus::Counter* cache_misses_;
  std::map<std::string, prometheus::Histogram*> device_rpc_;
  std::map<int, prometheus::Counter*> api_requests_by_status_;
  prometheus::Counter* tls_handshake_failures_;
  prometheus::Counter* tls_reloads_ok_;
  prometheus::Counter* tls_reloads_failed_;
  prometheus::Gauge* tls_expiry_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_FRONTEND_METRICS_H_
