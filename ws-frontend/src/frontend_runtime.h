#ifndef NORTHBOUND_WS_FRONTEND_FRONTEND_RUNTIME_H_
#define NORTHBOUND_WS_FRONTEND_FRONTEND_RUNTIME_H_

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "common/auth_client.h"
#include "common/tls.h"
#include "prometheus/registry.h"
#include "ws-frontend/src/device_client.h"
#include "ws-frontend/src/frontend_context.h"
#include "ws-frontend/src/frontend_metrics.h"
#include "ws-frontend/src/listener.h"
#include "ws-frontend/src/server_tls.h"

namespace nb::frontend {

struct FrontendRuntimeOptions {
  std::string listen_host = "0.0.0.0";
  int port = 8080;  // 0 picks a free one
  int threads = 2;  // network loops, one thread each
  std::string device_service = "localhost:50051";
  std::string auth_service = "localhost:50052";
  int device_channels = 4;
  std::vector<std::string> allowed_origins;
  bool serve_console = true;
  SessionLimits limits;
  std::chrono::milliseconds auth_cache{5000};
  std::chrono::milliseconds auth_timeout{2000};
  // wss:// when tls.enabled(); client certificates required when tls.client_ca_file.
  TlsServerFiles tls;
  // How often the certificate files are checked for a rotation.
  std::chrono::milliseconds tls_reload_interval{10'000};
  // TLS towards device-service and auth-service.
  TlsClientFiles backend_tls;
};

// Everything ws-frontend runs, wired together: the network loop and its threads, the
// clients of auth-service and device-service, the listener and the sessions it accepts.
// Built, started, drained and stopped on the main thread, in that order.
class FrontendRuntime {
 public:
  // Checks the options; opens nothing yet.
  static absl::StatusOr<std::unique_ptr<FrontendRuntime>> Create(
      const FrontendRuntimeOptions& options, prometheus::Registry& metrics_registry);
  ~FrontendRuntime();

  // Binds the port, starts the loop threads and the revocation watch, and accepts.
  absl::Status Start();
  // The bound port (after Start).
  int port() const { return listener_->port(); }
  // Fails readiness, stops accepting, closes every session with 1001 and waits up to
  // `grace` for them; then ends the auth watch and waits for the device-service calls.
  void Drain(absl::Duration grace);
  // Stops the loop and joins its threads. After Drain.
  void Stop();

 private:
  FrontendRuntime(const FrontendRuntimeOptions& options, prometheus::Registry& metrics_registry,
                  std::shared_ptr<grpc::ChannelCredentials> backend_credentials,
                  std::unique_ptr<ServerTls> tls);
  void ScheduleTlsReload();

  const FrontendRuntimeOptions options_;
  // The network loops: `threads` io_contexts, each run by one thread. A session lives on
  // one of them, so what it posts to itself never wakes another thread. The first also
  // runs the accept loop, the auth client's timers and the certificate reload.
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
  boost::asio::io_context& io_;
  FrontendMetrics metrics_;
  FrontendContext context_;
  DeviceClient devices_;
  AuthClient auth_;
  std::unique_ptr<ServerTls> tls_;
  std::unique_ptr<boost::asio::steady_timer> tls_timer_;
  std::shared_ptr<Listener> listener_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_FRONTEND_RUNTIME_H_
