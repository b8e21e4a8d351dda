#ifndef NORTHBOUND_COMMON_SERVICE_RUNTIME_H_
#define NORTHBOUND_COMMON_SERVICE_RUNTIME_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/flags.h"
#include "common/grpc_server.h"
#include "common/metrics.h"

namespace nb {

// The life of a service process, in order:
//   Init      block termination signals, parse flags, configure logging
//   StartMetrics, then build the service's components, then StartGrpc
//   Run       announce the ports, wait for SIGTERM/SIGINT, shut down in order, return 0
// Everything runs on the main thread; the components own their threads.
class ServiceRuntime {
 public:
  // Exits with status 2 and a message on bad flags.
  static std::unique_ptr<ServiceRuntime> Init(int argc, char** argv, std::string service,
                                              std::string usage);

  const CommonOptions& options() const { return options_; }

  absl::Status StartMetrics(int port);
  Metrics& metrics() { return *metrics_; }

  absl::Status StartGrpc(GrpcServerOptions options, const std::vector<grpc::Service*>& services);
  GrpcServer* grpc_server() { return grpc_server_.get(); }

  // Adds a port to the ports file (for listeners other than gRPC and metrics).
  void AnnouncePort(std::string name, int port) { ports_.emplace_back(std::move(name), port); }

  // Runs `before_grpc_shutdown` (for example: end live streams), then shuts the gRPC server
  // down within `grace`, then runs `after_grpc_shutdown` (stop the components the
  // service depended on). Returns the process exit code.
  int Run(absl::Duration grace, std::function<void()> before_grpc_shutdown = {},
          std::function<void()> after_grpc_shutdown = {});

  // Logs a fatal start-up error and returns the exit code for it.
  int Fail(const absl::Status& status);

 private:
  ServiceRuntime() = default;

  std::string service_;
  CommonOptions options_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<GrpcServer> grpc_server_;
  std::vector<std::pair<std::string, int>> ports_;
};

}  // namespace nb

#endif  // NORTHBOUND_COMMON_SERVICE_RUNTIME_H_
