#include "auth-service/src/auth_metrics.h"

#include "absl/strings/ascii.h"
#include "common/metrics.h"

namespace nb::auth {

namespace authpb = northbound::auth::v1;

AuthMetrics::AuthMetrics(prometheus::Registry& registry) {
  auto& validations = prometheus::BuildCounter()
                          .Name(MetricName("auth", "validations", "", true))
                          .Help("Token validations by result.")
                          .Register(registry);
  for (int status = authpb::TokenStatus_MIN + 1; status <= authpb::TokenStatus_MAX; ++status) {
    validations_[status] =
        &validations.Add({{"result", absl::AsciiStrToLower(authpb::TokenStatus_Name(
                                         static_cast<authpb::TokenStatus>(status)))}});
  }
  validation_latency_ = &prometheus::BuildHistogram()
                             .Name(MetricName("auth", "validation_latency", "seconds"))
                             .Help("Time to validate a token inside the service.")
                             .Register(registry)
                             .Add({}, LatencyBuckets());
  auto& clients = prometheus::BuildGauge()
                      .Name(MetricName("auth", "clients"))
                      .Help("Stored clients by state.")
                      .Register(registry);
  for (int state = authpb::ClientState_MIN + 1; state <= authpb::ClientState_MAX; ++state) {
    clients_[state] = &clients.Add({{"state", absl::AsciiStrToLower(authpb::ClientState_Name(
                                                  static_cast<authpb::ClientState>(state)))}});
  }
  auto& admin = prometheus::BuildCounter()
                    .Name(MetricName("auth", "admin_operations", "", true))
                    .Help("ClientAdmin calls by operation and result.")
                    .Register(registry);
  for (const char* operation : {"create", "list", "get", "update", "revoke", "rotate", "delete"}) {
    for (const char* result : {"ok", "invalid", "not_found", "unauthenticated", "error"}) {
      admin_[{operation, result}] = &admin.Add({{"operation", operation}, {"result", result}});
    }
  }
}

void AuthMetrics::CountValidation(authpb::TokenStatus status, double seconds) {
  auto it = validations_.find(status);
  if (it != validations_.end()) it->second->Increment();
  validation_latency_->Observe(seconds);
}

void AuthMetrics::SetClients(authpb::ClientState state, double count) {
  auto it = clients_.find(state);
  if (it != clients_.end()) it->second->Set(count);
}

void AuthMetrics::CountAdmin(const std::string& operation, const std::string& result) {
  auto it = admin_.find({operation, result});
  if (it != admin_.end()) it->second->Increment();
}

}  // namespace nb::auth
