// device-service: owns the device connections and the thing models; serves DeviceService.
#include "absl/flags/flag.h"
#include "common/log.h"
#include "common/service_runtime.h"
#include "common/tls.h"
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
ABSL_FLAG(std::string, auth_service, "localhost:50052",
          "auth-service gRPC address: it vouches for every caller's client token.");
ABSL_FLAG(int, auth_cache_ms, 5000, "How long a token validation is reused.");
ABSL_FLAG(int, auth_timeout_ms, 2000, "Deadline of one token validation.");
ABSL_FLAG(int, auth_outage_grace_ms, 600000,
          "While auth-service is unreachable, a token it vouched for within this long keeps "
          "working (no revocation can be made meanwhile); unknown tokens are refused. 0: none.");
ABSL_FLAG(bool, insecure_allow_unauthenticated, false,
          "DEVELOPMENT ONLY: serve DeviceService calls without a client token, with every "
          "permission. Anyone who reaches the port can then command every device.");

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
  options.auth.service = absl::GetFlag(FLAGS_auth_service);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> auth_credentials =
      nb::GrpcChannelCredentials(runtime->options().tls_client);
  if (!auth_credentials.ok()) return runtime->Fail(auth_credentials.status());
  options.auth.credentials = *auth_credentials;
  options.auth.allow_unauthenticated = absl::GetFlag(FLAGS_insecure_allow_unauthenticated);
  options.auth.cache_ttl = std::chrono::milliseconds(absl::GetFlag(FLAGS_auth_cache_ms));
  options.auth.timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_auth_timeout_ms));
  options.auth.outage_grace = std::chrono::milliseconds(absl::GetFlag(FLAGS_auth_outage_grace_ms));
  if (absl::GetFlag(FLAGS_auth_cache_ms) < 0 || absl::GetFlag(FLAGS_auth_timeout_ms) < 1 ||
      absl::GetFlag(FLAGS_auth_outage_grace_ms) < 0) {
    return runtime->Fail(absl::InvalidArgumentError(
        "--auth_cache_ms and --auth_outage_grace_ms must be >= 0, --auth_timeout_ms positive"));
  }
  if (options.auth.allow_unauthenticated) {
    nb::log::Warn(
        "INSECURE: --insecure_allow_unauthenticated is set; DeviceService serves every caller "
        "without a token and with every permission. Never use this outside development.");
  } else if (options.auth.service.empty()) {
    return runtime->Fail(absl::InvalidArgumentError(
        "--auth_service is empty: callers could not be authenticated (use "
        "--insecure_allow_unauthenticated for local development only)"));
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
