// ws-frontend: the northbound WebSocket protocol (docs/protocol.md) on top of device-service
// and auth-service.
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "common/log.h"
#include "common/service_runtime.h"
#include "ws-frontend/src/listener.h"
#include "ws-frontend/src/websocket_session.h"

ABSL_FLAG(int, port, 8080, "WebSocket and HTTP (/healthz, /readyz) port (0 picks a free one).");
ABSL_FLAG(int, metrics_port, 9100, "Prometheus /metrics port (0 picks a free one).");
ABSL_FLAG(int, threads, 2, "Threads running the network loop.");
ABSL_FLAG(std::string, device_service, "localhost:50051", "device-service gRPC address.");
ABSL_FLAG(std::string, auth_service, "localhost:50052", "auth-service gRPC address.");
ABSL_FLAG(int, device_channels, 4,
          "gRPC connections to device-service; subscriptions are spread over them.");
ABSL_FLAG(std::string, allowed_origins, "",
          "Comma-separated exact browser origins allowed to connect, e.g. "
          "https://dash.example.com. Requests without Origin are always allowed.");
ABSL_FLAG(int, max_frame_bytes, 64 * 1024, "Largest client frame; larger closes with 1009.");
ABSL_FLAG(int, max_subscriptions, 128, "Live subscriptions per connection.");
ABSL_FLAG(double, frames_per_second, 100, "Sustained client frames per second per connection.");
ABSL_FLAG(double, frame_burst, 200, "Burst of client frames allowed above the sustained rate.");
ABSL_FLAG(int, rate_abuse_seconds, 10, "Seconds of continuous rate limiting before close 4029.");
ABSL_FLAG(int, max_devices_per_command, 1000, "Most devices one command may address.");
ABSL_FLAG(int, outbound_limit_bytes, 4 * 1024 * 1024,
          "Bytes queued for one client before close 4008; backpressure starts at half.");
ABSL_FLAG(int, slow_consumer_seconds, 10,
          "Seconds a client's queue may stay past half the limit before close 4008.");
ABSL_FLAG(int, socket_send_buffer_bytes, 256 * 1024,
          "Kernel send buffer per client connection, bounding memory per client; 0 lets the "
          "kernel autotune it.");
ABSL_FLAG(int, idle_timeout_seconds, 60, "Idle connections are pinged, then dropped after this.");
ABSL_FLAG(int, auth_cache_ms, 5000, "How long a token validation is reused.");
ABSL_FLAG(int, auth_timeout_ms, 2000, "Deadline of one token validation.");
ABSL_FLAG(int, drain_seconds, 30, "Grace period for closing sessions on SIGTERM.");

namespace {

absl::Status CheckPositive(const char* name, double value) {
  if (value <= 0) return absl::InvalidArgumentError(absl::StrCat("--", name, " must be positive"));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  auto runtime = nb::ServiceRuntime::Init(argc, argv, "ws-frontend",
                                          "ws-frontend [flags]; see docs/operations.md");
  const int port = absl::GetFlag(FLAGS_port);
  const int threads = absl::GetFlag(FLAGS_threads);
  if (absl::Status s = nb::ValidatePort("port", port); !s.ok()) return runtime->Fail(s);
  if (threads < 1 || threads > 256) {
    return runtime->Fail(absl::InvalidArgumentError("--threads must be 1..256"));
  }
  for (auto [name, value] : std::initializer_list<std::pair<const char*, double>>{
           {"device_channels", absl::GetFlag(FLAGS_device_channels)},
           {"max_frame_bytes", absl::GetFlag(FLAGS_max_frame_bytes)},
           {"max_subscriptions", absl::GetFlag(FLAGS_max_subscriptions)},
           {"frames_per_second", absl::GetFlag(FLAGS_frames_per_second)},
           {"frame_burst", absl::GetFlag(FLAGS_frame_burst)},
           {"rate_abuse_seconds", absl::GetFlag(FLAGS_rate_abuse_seconds)},
           {"max_devices_per_command", absl::GetFlag(FLAGS_max_devices_per_command)},
           {"outbound_limit_bytes", absl::GetFlag(FLAGS_outbound_limit_bytes)},
           {"slow_consumer_seconds", absl::GetFlag(FLAGS_slow_consumer_seconds)},
           {"idle_timeout_seconds", absl::GetFlag(FLAGS_idle_timeout_seconds)},
           {"auth_timeout_ms", absl::GetFlag(FLAGS_auth_timeout_ms)},
           {"drain_seconds", absl::GetFlag(FLAGS_drain_seconds)}}) {
    if (absl::Status s = CheckPositive(name, value); !s.ok()) return runtime->Fail(s);
  }
  if (absl::Status s = runtime->StartMetrics(absl::GetFlag(FLAGS_metrics_port)); !s.ok()) {
    return runtime->Fail(s);
  }

  boost::asio::io_context io(threads);
  nb::frontend::FrontendMetrics metrics(runtime->metrics().registry());
  nb::frontend::FrontendContext context;
  nb::frontend::SessionLimits& limits = context.limits;
  limits.max_frame_bytes = absl::GetFlag(FLAGS_max_frame_bytes);
  limits.max_subscriptions = absl::GetFlag(FLAGS_max_subscriptions);
  limits.frames_per_second = absl::GetFlag(FLAGS_frames_per_second);
  limits.frame_burst = absl::GetFlag(FLAGS_frame_burst);
  limits.rate_abuse_window = std::chrono::seconds(absl::GetFlag(FLAGS_rate_abuse_seconds));
  limits.outbound_limit_bytes = absl::GetFlag(FLAGS_outbound_limit_bytes);
  limits.slow_consumer_after = std::chrono::seconds(absl::GetFlag(FLAGS_slow_consumer_seconds));
  limits.idle_timeout = std::chrono::seconds(absl::GetFlag(FLAGS_idle_timeout_seconds));
  limits.socket_send_buffer_bytes = absl::GetFlag(FLAGS_socket_send_buffer_bytes);
  if (limits.socket_send_buffer_bytes < 0) {
    return runtime->Fail(absl::InvalidArgumentError("--socket_send_buffer_bytes must be >= 0"));
  }
  limits.plan.max_devices = absl::GetFlag(FLAGS_max_devices_per_command);
  context.allowed_origins =
      absl::StrSplit(absl::GetFlag(FLAGS_allowed_origins), ',', absl::SkipWhitespace());
  context.metrics = &metrics;

  nb::frontend::DeviceClient devices(absl::GetFlag(FLAGS_device_service),
                                     absl::GetFlag(FLAGS_device_channels));
  nb::frontend::AuthClient auth(
      grpc::CreateChannel(absl::GetFlag(FLAGS_auth_service), grpc::InsecureChannelCredentials()),
      io, metrics, std::chrono::milliseconds(absl::GetFlag(FLAGS_auth_cache_ms)),
      std::chrono::milliseconds(absl::GetFlag(FLAGS_auth_timeout_ms)));
  context.devices = &devices;
  context.auth = &auth;

  auto listener = std::make_shared<nb::frontend::Listener>(io, context);
  if (absl::Status s = listener->Open(runtime->options().listen_host, port); !s.ok()) {
    return runtime->Fail(s);
  }
  runtime->AnnouncePort("http_port", listener->port());

  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back([&io] { io.run(); });

  // A revocation (or a reconnected watch, after which anything may have changed) makes
  // the affected sessions ask auth-service again; those no longer valid close with 1008.
  auth.StartWatch(
      [&context](const std::string& client_id) {
        context.registry.ForEach([&](const auto& session) { session->Revalidate(client_id); });
      },
      [&context] { context.registry.ForEach([](const auto& session) { session->Revalidate(); }); });
  listener->Run();

  const absl::Duration grace = absl::Seconds(absl::GetFlag(FLAGS_drain_seconds));
  return runtime->Run(
      grace,
      [&] {
        // Fail readiness, stop accepting, close every session with 1001, wait for them.
        context.state.draining.store(true);
        listener->Stop();
        context.registry.ForEach([](const auto& session) { session->Shutdown(); });
        const absl::Time deadline = absl::Now() + grace;
        while (context.registry.size() > 0 && absl::Now() < deadline) {
          absl::SleepFor(absl::Milliseconds(20));
        }
        auth.Stop();
        // Cancelled streams end on gRPC threads; their reactors post to the io_context and
        // hold contexts on the channels, so both must outlive the last of them.
        const auto left = std::chrono::milliseconds(
            std::max<int64_t>(absl::ToInt64Milliseconds(deadline - absl::Now()), 1000));
        if (!devices.live_calls().WaitIdle(left)) {
          nb::log::Error("device-service calls still live at shutdown",
                         {{"calls", std::to_string(devices.live_calls().live())}});
        }
      },
      [&] {
        work.reset();
        io.stop();
        for (std::thread& thread : pool) thread.join();
      });
}
