#include "common/service_runtime.h"

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "common/ports_file.h"
#include "common/signals.h"

namespace nb {

std::unique_ptr<ServiceRuntime> ServiceRuntime::Init(int argc, char** argv, std::string service,
                                                     std::string usage) {
  BlockTerminationSignals();
#ifdef NDEBUG
  // Debian's Abseil is built without NDEBUG, so by default every absl::Mutex (gRPC's locks
  // are absl::Mutex) records lock order in a global graph on each acquisition, to detect
  // deadlocks: a measurable share of the command path (docs/performance.md). Release
  // builds turn it off; debug and sanitizer builds, which run the tests, keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  ParseFlags(argc, argv, usage);
  auto runtime = std::unique_ptr<ServiceRuntime>(new ServiceRuntime());
  runtime->service_ = std::move(service);
  log::SetService(runtime->service_);
  if (absl::Status status = LoadCommonOptions(runtime->options_); !status.ok()) {
    std::fprintf(stderr, "%s: %s\n", runtime->service_.c_str(),
                 std::string(status.message()).c_str());
    std::exit(2);
  }
  return runtime;
}

absl::Status ServiceRuntime::StartMetrics(int port) {
  absl::StatusOr<std::unique_ptr<Metrics>> metrics = Metrics::Start(options_.listen_host, port);
  if (!metrics.ok()) return metrics.status();
  metrics_ = *std::move(metrics);
  ports_.emplace_back("metrics_port", metrics_->port());
  return absl::OkStatus();
}

absl::Status ServiceRuntime::StartGrpc(GrpcServerOptions options,
                                       const std::vector<grpc::Service*>& services) {
  options.host = options_.listen_host;
  if (!options.credentials) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        GrpcServerCredentials(options_.tls_server);
    if (!credentials.ok()) return credentials.status();
    options.credentials = *std::move(credentials);
  }
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(options, services);
  if (!server.ok()) return server.status();
  grpc_server_ = *std::move(server);
  ports_.emplace_back("grpc_port", grpc_server_->port());
  return absl::OkStatus();
}

int ServiceRuntime::Fail(const absl::Status& status) {
  log::Error("start-up failed", {{"error", std::string(status.message())}});
  return 1;
}

int ServiceRuntime::Run(absl::Duration grace, std::function<void()> before_grpc_shutdown,
                        std::function<void()> after_grpc_shutdown) {
  if (absl::Status status = WritePortsFile(options_.ports_file, ports_); !status.ok()) {
    return Fail(status);
  }
  {
    boost::json::object fields;
    for (const auto& [name, port] : ports_) fields[name] = port;
    log::Info("serving", {{"ports", fields}});
  }
  const int signal_number = WaitForTerminationSignal();
  log::Info("shutting down", {{"signal", signal_number}});
  if (before_grpc_shutdown) before_grpc_shutdown();
  if (grpc_server_) grpc_server_->Shutdown(grace);
  if (after_grpc_shutdown) after_grpc_shutdown();
  log::Info("stopped");
  return 0;
}

}  // namespace nb
