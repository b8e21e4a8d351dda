// ws-frontend: the northbound WebSocket protocol (PROTOCOL.md) on top of device-service
// and auth-service.
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "common/log.h"
#include "common/service_runtime.h"
#include "ws-frontend/src/listener.h"

ABSL_FLAG(int, port, 8080, "WebSocket and HTTP (/healthz, /readyz) port (0 picks a free one).");
ABSL_FLAG(int, metrics_port, 9100, "Prometheus /metrics port (0 picks a free one).");
ABSL_FLAG(int, threads, 2, "Threads running the network loop.");

int main(int argc, char** argv) {
  auto runtime = nb::ServiceRuntime::Init(argc, argv, "ws-frontend",
                                          "ws-frontend [flags]; see docs/operations.md");
  const int port = absl::GetFlag(FLAGS_port);
  const int threads = absl::GetFlag(FLAGS_threads);
  if (absl::Status s = nb::ValidatePort("port", port); !s.ok()) return runtime->Fail(s);
  if (threads < 1 || threads > 256) {
    return runtime->Fail(absl::InvalidArgumentError("--threads must be 1..256"));
  }
  if (absl::Status s = runtime->StartMetrics(absl::GetFlag(FLAGS_metrics_port)); !s.ok()) {
    return runtime->Fail(s);
  }

  boost::asio::io_context io(threads);
  auto state = std::make_shared<nb::frontend::FrontendState>();
  auto listener = std::make_shared<nb::frontend::Listener>(io, state);
  if (absl::Status s = listener->Open(runtime->options().listen_host, port); !s.ok()) {
    return runtime->Fail(s);
  }
  runtime->AnnouncePort("http_port", listener->port());
  listener->Run();

  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back([&io] { io.run(); });

  const int code = runtime->Run(
      absl::Seconds(30),
      [&] {
        state->draining.store(true);
        listener->Stop();
      },
      [&] {
        work.reset();
        io.stop();
        for (std::thread& thread : pool) thread.join();
      });
  return code;
}
