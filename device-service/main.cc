// device-service: owns the device connections and the thing models; serves DeviceService.
#include "absl/flags/flag.h"
#include "common/service_runtime.h"
#include "northbound/device/v1/device_service.grpc.pb.h"

ABSL_FLAG(int, grpc_port, 50051, "gRPC port (0 picks a free one).");
ABSL_FLAG(int, metrics_port, 9101, "Prometheus /metrics port (0 picks a free one).");

int main(int argc, char** argv) {
  auto runtime = nb::ServiceRuntime::Init(argc, argv, "device-service",
                                          "device-service [flags]; see docs/operations.md");
  if (absl::Status s = nb::ValidatePort("grpc_port", absl::GetFlag(FLAGS_grpc_port)); !s.ok()) {
    return runtime->Fail(s);
  }
  if (absl::Status s = runtime->StartMetrics(absl::GetFlag(FLAGS_metrics_port)); !s.ok()) {
    return runtime->Fail(s);
  }
  northbound::device::v1::DeviceService::CallbackService service;
  nb::GrpcServerOptions grpc_options;
  grpc_options.port = absl::GetFlag(FLAGS_grpc_port);
  if (absl::Status s = runtime->StartGrpc(grpc_options, {&service}); !s.ok()) {
    return runtime->Fail(s);
  }
  return runtime->Run(absl::Seconds(5));
}
