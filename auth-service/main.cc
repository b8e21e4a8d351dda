// auth-service: northbound clients, their tokens and permissions.
#include "absl/flags/flag.h"
#include "common/service_runtime.h"
#include "northbound/auth/v1/auth.grpc.pb.h"

ABSL_FLAG(int, grpc_port, 50052, "gRPC port (0 picks a free one).");
ABSL_FLAG(int, metrics_port, 9102, "Prometheus /metrics port (0 picks a free one).");

int main(int argc, char** argv) {
  auto runtime = nb::ServiceRuntime::Init(argc, argv, "auth-service",
                                          "auth-service [flags]; see docs/operations.md");
  if (absl::Status s = nb::ValidatePort("grpc_port", absl::GetFlag(FLAGS_grpc_port)); !s.ok()) {
    return runtime->Fail(s);
  }
  if (absl::Status s = runtime->StartMetrics(absl::GetFlag(FLAGS_metrics_port)); !s.ok()) {
    return runtime->Fail(s);
  }
  northbound::auth::v1::AuthService::CallbackService auth;
  northbound::auth::v1::ClientAdmin::CallbackService admin;
  nb::GrpcServerOptions grpc_options;
  grpc_options.port = absl::GetFlag(FLAGS_grpc_port);
  if (absl::Status s = runtime->StartGrpc(grpc_options, {&auth, &admin}); !s.ok()) {
    return runtime->Fail(s);
  }
  return runtime->Run(absl::Seconds(5));
}
