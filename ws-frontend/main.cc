// ws-frontend: the northbound WebSocket protocol (docs/protocol.md) on top of device-service
// and auth-service.
#include <chrono>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "common/service_runtime.h"
#include "ws-frontend/src/frontend_runtime.h"

ABSL_FLAG(int, port, 8080, "WebSocket and HTTP (/healthz, /readyz) port (0 picks a free one).");
ABSL_FLAG(int, metrics_port, 9100, "Prometheus /metrics port (0 picks a free one).");
ABSL_FLAG(int, threads, 2, "Network loops, one thread each; connections are spread across them.");
ABSL_FLAG(std::string, device_service, "localhost:50051", "device-service gRPC address.");
ABSL_FLAG(std::string, auth_service, "localhost:50052", "auth-service gRPC address.");
ABSL_FLAG(int, device_channels, 4,
          "gRPC connections to device-service; subscriptions are spread over them.");
ABSL_FLAG(bool, console, true, "Serve the operator console at /console/ (docs/console.md).");
ABSL_FLAG(std::string, allowed_origins, "",
          "Comma-separated exact browser origins allowed to connect, e.g. "
          "https://dash.example.com. Requests without Origin, and pages of the frontend's own "
          "host (the console), are always allowed.");
ABSL_FLAG(int, max_frame_bytes, 64 * 1024, "Largest client frame; larger closes with 1009.");
ABSL_FLAG(int, max_subscriptions, 128, "Live subscriptions per connection.");
ABSL_FLAG(double, frames_per_second, 100, "Sustained client frames per second per connection.");
ABSL_FLAG(double, frame_burst, 200, "Burst of client frames allowed above the sustained rate.");
ABSL_FLAG(int, rate_abuse_seconds, 10, "Seconds of continuous rate limiting before close 4029.");
ABSL_FLAG(int, outbound_limit_bytes, 4 * 1024 * 1024,
          "Bytes queued for one client before close 4008; backpressure on command replies "
          "starts at half.");
ABSL_FLAG(int, event_linger_ms, 0,
          "How long (0..1000 ms) a connection's event frames may wait for the frames after them, "
          "to leave in one write; 0 writes each at once.");
ABSL_FLAG(int, event_backlog_bytes, 64 * 1024,
          "Bytes queued for one client past which ws-frontend takes none of its events until "
          "the queue drained to half; device-service meanwhile drops the oldest.");
ABSL_FLAG(int, slow_consumer_seconds, 10,
          "Seconds a client's queue may stay past half the limit, or its events held back, "
          "before close 4008.");
ABSL_FLAG(int, socket_send_buffer_bytes, 256 * 1024,
          "Kernel send buffer per client connection, bounding memory per client; 0 lets the "
          "kernel autotune it.");
ABSL_FLAG(int, idle_timeout_seconds, 60, "Idle connections are pinged, then dropped after this.");
ABSL_FLAG(int, request_timeout_seconds, 10,
          "A connection must finish its TLS handshake, and then each HTTP request (the "
          "WebSocket upgrade included), within this long, or it is dropped (slowloris).");
ABSL_FLAG(int, auth_cache_ms, 5000, "How long a token validation is reused.");
ABSL_FLAG(int, auth_timeout_ms, 2000, "Deadline of one token validation.");
ABSL_FLAG(int, tls_reload_interval_ms, 10000,
          "With --tls_cert_file: how often the certificate files are checked for a rotation.");
ABSL_FLAG(int, drain_seconds, 30, "Grace period for closing sessions on SIGTERM.");

int main(int argc, char** argv) {
  auto runtime = nb::ServiceRuntime::Init(argc, argv, "ws-frontend",
                                          "ws-frontend [flags]; see docs/operations.md");
  if (absl::Status s = nb::ValidatePort("port", absl::GetFlag(FLAGS_port)); !s.ok()) {
    return runtime->Fail(s);
  }
  if (absl::GetFlag(FLAGS_drain_seconds) <= 0) {
    return runtime->Fail(absl::InvalidArgumentError("--drain_seconds must be positive"));
  }
  nb::frontend::FrontendRuntimeOptions options;
  options.listen_host = runtime->options().listen_host;
  options.port = absl::GetFlag(FLAGS_port);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.device_service = absl::GetFlag(FLAGS_device_service);
  options.auth_service = absl::GetFlag(FLAGS_auth_service);
  options.device_channels = absl::GetFlag(FLAGS_device_channels);
  options.serve_console = absl::GetFlag(FLAGS_console);
  options.allowed_origins =
      absl::StrSplit(absl::GetFlag(FLAGS_allowed_origins), ',', absl::SkipWhitespace());
  options.auth_cache = std::chrono::milliseconds(absl::GetFlag(FLAGS_auth_cache_ms));
  options.auth_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_auth_timeout_ms));
  options.tls = runtime->options().tls_server;
  options.backend_tls = runtime->options().tls_client;
  options.tls_reload_interval =
      std::chrono::milliseconds(absl::GetFlag(FLAGS_tls_reload_interval_ms));
  nb::frontend::SessionLimits& limits = options.limits;
  limits.max_frame_bytes = absl::GetFlag(FLAGS_max_frame_bytes);
  limits.max_subscriptions = absl::GetFlag(FLAGS_max_subscriptions);
  limits.frames_per_second = absl::GetFlag(FLAGS_frames_per_second);
  limits.frame_burst = absl::GetFlag(FLAGS_frame_burst);
  limits.rate_abuse_window = std::chrono::seconds(absl::GetFlag(FLAGS_rate_abuse_seconds));
  limits.outbound_limit_bytes = absl::GetFlag(FLAGS_outbound_limit_bytes);
  limits.event_backlog_bytes = absl::GetFlag(FLAGS_event_backlog_bytes);
  limits.event_linger = std::chrono::milliseconds(absl::GetFlag(FLAGS_event_linger_ms));
  limits.slow_consumer_after = std::chrono::seconds(absl::GetFlag(FLAGS_slow_consumer_seconds));
  limits.idle_timeout = std::chrono::seconds(absl::GetFlag(FLAGS_idle_timeout_seconds));
  limits.request_timeout = std::chrono::seconds(absl::GetFlag(FLAGS_request_timeout_seconds));
  limits.socket_send_buffer_bytes = absl::GetFlag(FLAGS_socket_send_buffer_bytes);

  if (absl::Status s = runtime->StartMetrics(absl::GetFlag(FLAGS_metrics_port)); !s.ok()) {
    return runtime->Fail(s);
  }
  auto frontend = nb::frontend::FrontendRuntime::Create(options, runtime->metrics().registry());
  if (!frontend.ok()) return runtime->Fail(frontend.status());
  if (absl::Status s = (*frontend)->Start(); !s.ok()) return runtime->Fail(s);
  runtime->AnnouncePort("http_port", (*frontend)->port());

  const absl::Duration grace = absl::Seconds(absl::GetFlag(FLAGS_drain_seconds));
  return runtime->Run(
      grace, [&] { (*frontend)->Drain(grace); }, [&] { (*frontend)->Stop(); });
}
