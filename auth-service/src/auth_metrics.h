#ifndef NORTHBOUND_AUTH_SERVICE_AUTH_METRICS_H_
#define NORTHBOUND_AUTH_SERVICE_AUTH_METRICS_H_

#include <map>
#include <string>
#include <utility>

#include "northbound/auth/v1/auth.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace nb::auth {

// auth-service's metrics; all children created up front. Thread-safe.
class AuthMetrics {
 public:
  explicit AuthMetrics(prometheus::Registry& registry);

  void CountValidation(northbound::auth::v1::TokenStatus status, double seconds);
  void SetClients(northbound::auth::v1::ClientState state, double count);
  // `operation`: create, list, get, update, revoke, rotate, delete;
  // `result`: ok, invalid, not_found, unauthenticated, error.
  void CountAdmin(const std::string& operation, const std::string& result);

 private:
  std::map<int, prometheus::Counter*> validations_;
  prometheus::Histogram* validation_latency_;
  std::map<int, prometheus::Gauge*> clients_;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> admin_;
};

}  // namespace nb::auth

#endif  // NORTHBOUND_AUTH_SERVICE_AUTH_METRICS_H_
