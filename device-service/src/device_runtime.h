#ifndef NORTHBOUND_DEVICE_SERVICE_DEVICE_RUNTIME_H_
#define NORTHBOUND_DEVICE_SERVICE_DEVICE_RUNTIME_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "common/auth_client.h"
#include "device-service/src/authorizer.h"
#include "device-service/src/command_dispatcher.h"
#include "device-service/src/device_service_impl.h"
#include "device-service/src/driver.h"
#include "device-service/src/driver_registry.h"

namespace nb::device {

// How DeviceService callers are authenticated.
struct DeviceAuthOptions {
  // auth-service's address; empty means none, and then every call is refused unless
  // allow_unauthenticated.
  std::string service;
  // The channel's credentials (TLS); insecure when null.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Development only: calls without a token may do everything.
  bool allow_unauthenticated = false;
  std::chrono::milliseconds cache_ttl{5000};
  std::chrono::milliseconds timeout{2000};
  // AuthClient::SetOutageGrace: how long a token already vouched for keeps working while
  // auth-service cannot be reached (a restart), so live WebSocket sessions keep theirs.
  std::chrono::milliseconds outage_grace{600'000};
};

struct DeviceRuntimeOptions {
  std::string fleet_path;
  // The driver kinds a fleet may name; the built-in ones when null.
  const DriverRegistry* drivers = nullptr;
  int driver_threads = 2;
  DispatcherOptions dispatcher;
  ServiceOptions service;
  DeviceAuthOptions auth;
};

// Everything device-service runs, wired together: fleet, registry, drivers, event bus,
// dispatcher and the gRPC service. Built and torn down on the main thread.
class DeviceRuntime {
 public:
  // Loads and checks the fleet; nothing runs yet. Errors name the fleet file line.
  static absl::StatusOr<std::unique_ptr<DeviceRuntime>> Create(
      const DeviceRuntimeOptions& options, prometheus::Registry& metrics_registry);
  ~DeviceRuntime();

  // Starts the driver threads and connects the devices.
  absl::Status Start();
  DeviceServiceImpl& service() { return *service_; }
  CommandDispatcher& dispatcher() { return *dispatcher_; }
  DeviceRegistry& registry() { return *registry_; }
  EventBus& bus() { return bus_; }
  // Ends live streams (before the gRPC server shuts down).
  void EndStreams() { service_->EndSubscriptions(); }
  // Stops every driver (commands in flight get NO_REPLY; no driver callback runs after),
  // then joins the driver threads. After the gRPC server is down.
  void Stop();
  // The driver serving devices of kind `name`, or null: for tests.
  Driver* FindDriver(absl::string_view name) const;

 private:
  DeviceRuntime() = default;

  boost::asio::io_context io_;
  std::unique_ptr<DeviceMetrics> metrics_;
  std::unique_ptr<AuthClient> auth_;
  std::unique_ptr<Authorizer> authorizer_;
  EventBus bus_;
  std::unique_ptr<DeviceRegistry> registry_;
  std::vector<std::unique_ptr<Driver>> drivers_;
  std::unique_ptr<CommandDispatcher> dispatcher_;
  std::unique_ptr<DeviceServiceImpl> service_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  int thread_count_ = 2;
};

}  // namespace nb::device

#endif  // NORTHBOUND_DEVICE_SERVICE_DEVICE_RUNTIME_H_
