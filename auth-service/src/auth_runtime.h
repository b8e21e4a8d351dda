#ifndef NORTHBOUND_AUTH_SERVICE_AUTH_RUNTIME_H_
#define NORTHBOUND_AUTH_SERVICE_AUTH_RUNTIME_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "auth-service/src/auth_service_impl.h"

namespace nb::auth {

struct AuthRuntimeOptions {
  std::string database_path;
  std::string admin_credential;
};

// auth-service's parts wired together: store, directory, database thread, feed, the two
// gRPC services and the expiry sweep. Built and stopped on the main thread.
class AuthRuntime {
 public:
  static absl::StatusOr<std::unique_ptr<AuthRuntime>> Create(const AuthRuntimeOptions& options,
                                                             prometheus::Registry& registry);
  ~AuthRuntime();

  AuthServiceImpl& auth_service() { return *auth_service_; }
  ClientAdminImpl& admin_service() { return *admin_service_; }
  void EndStreams() { auth_service_->EndWatches(); }

 private:
  AuthRuntime() = default;

  std::unique_ptr<AuthMetrics> metrics_;
  RevocationFeed feed_;
  std::unique_ptr<ClientDirectory> directory_;
  // Declared after the directory: destroyed (joined) before it.
  std::unique_ptr<SerialExecutor> executor_;
  std::unique_ptr<AuthServiceImpl> auth_service_;
  std::unique_ptr<ClientAdminImpl> admin_service_;
  absl::Notification stop_sweeping_;
  std::thread sweeper_;
};

}  // namespace nb::auth

#endif  // NORTHBOUND_AUTH_SERVICE_AUTH_RUNTIME_H_
