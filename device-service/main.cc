// device-service: owns the device connections and the thing models; serves DeviceService.
#include "absl/flags/flag.h"
#include "common/service_runtime.h"
#include "device-service/src/device_runtime.h"

ABSL_FLAG(int, grpc_port, 50051, "gRPC port (0 picks a free one).");
ABSL_FLAG(int, metrics_port, 9101, "Prometheus /metrics port (0 picks a free one).");
ABSL_FLAG(std::string, fleet, "device-service/config/demo-fleet.yaml",
          "The fleet file: products with thing models, and devices.");
ABSL_FLAG(int, driver_threads, 2, "Threads that run the device drivers and command timers.");
ABSL_FLAG(int, max_devices_per_command, 1000, "Most devices one Send may address.");
ABSL_FLAG(int, default_timeout_ms, 10000, "Per-device wait when a Send names none.");
ABSL_FLAG(int, subscriber_queue, 1024,
          "Events queued per Subscribe stream before the oldest are dropped.");

int main(int argc, char** argv) {
  auto runtime = nb::ServiceRuntime::Init(argc, argv, "device-service",
                                          "device-service [flags]; see docs/operations.md");
  if (absl::Status s = nb::ValidatePort("grpc_port", absl::GetFlag(FLAGS_grpc_port)); !s.ok()) {
    return runtime->Fail(s);
  }
  nb::device::DeviceRuntimeOptions options;
  options.fleet_path = absl::GetFlag(FLAGS_fleet);
  options.driver_threads = absl::GetFlag(FLAGS_driver_threads);
  options.dispatcher.max_devices = absl::GetFlag(FLAGS_max_devices_per_command);
  options.dispatcher.default_timeout_ms = absl::GetFlag(FLAGS_default_timeout_ms);
  options.service.subscriber_queue = absl::GetFlag(FLAGS_subscriber_queue);
  if (options.driver_threads < 1 || options.driver_threads > 64) {
    return runtime->Fail(absl::InvalidArgumentError("--driver_threads must be 1..64"));
  }
  if (absl::GetFlag(FLAGS_max_devices_per_command) < 1 ||
      absl::GetFlag(FLAGS_default_timeout_ms) < 100 ||
      absl::GetFlag(FLAGS_default_timeout_ms) > 60000 ||
      absl::GetFlag(FLAGS_subscriber_queue) < 1) {
    return runtime->Fail(absl::InvalidArgumentError(
        "--max_devices_per_command and --subscriber_queue must be positive, "
        "--default_timeout_ms 100..60000"));
  }
  if (absl::Status s = runtime->StartMetrics(absl::GetFlag(FLAGS_metrics_port)); !s.ok()) {
    return runtime->Fail(s);
  }
  auto devices = nb::device::DeviceRuntime::Create(options, runtime->metrics().registry());
  if (!devices.ok()) return runtime->Fail(devices.status());
  if (absl::Status s = (*devices)->Start(); !s.ok()) return runtime->Fail(s);

  nb::GrpcServerOptions grpc_options;
  grpc_options.port = absl::GetFlag(FLAGS_grpc_port);
  if (absl::Status s = runtime->StartGrpc(grpc_options, {&(*devices)->service()}); !s.ok()) {
    return runtime->Fail(s);
  }
  return runtime->Run(
      absl::Seconds(5), [&] { (*devices)->EndStreams(); }, [&] { (*devices)->Stop(); });
}
