#include "auth-service/src/auth_runtime.h"

namespace nb::auth {

absl::StatusOr<std::unique_ptr<AuthRuntime>> AuthRuntime::Create(const AuthRuntimeOptions& options,
                                                                 prometheus::Registry& registry) {
  absl::StatusOr<std::unique_ptr<ClientStore>> store = ClientStore::Open(options.database_path);
  if (!store.ok()) return store.status();
  auto runtime = std::unique_ptr<AuthRuntime>(new AuthRuntime());
  runtime->metrics_ = std::make_unique<AuthMetrics>(registry);
  runtime->directory_ =
      std::make_unique<ClientDirectory>(*std::move(store), runtime->feed_, *runtime->metrics_);
  runtime->executor_ = std::make_unique<SerialExecutor>();
  runtime->auth_service_ = std::make_unique<AuthServiceImpl>(*runtime->directory_, runtime->feed_);
  runtime->admin_service_ = std::make_unique<ClientAdminImpl>(
      *runtime->directory_, *runtime->executor_, *runtime->metrics_, options.admin_credential);
  AuthRuntime* self = runtime.get();
  runtime->sweeper_ = std::thread([self] {
    while (!self->stop_sweeping_.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      self->executor_->Post([self] { self->directory_->SweepExpired(); });
    }
  });
  return runtime;
}

AuthRuntime::~AuthRuntime() {
  stop_sweeping_.Notify();
  sweeper_.join();
  executor_.reset();
}

}  // namespace nb::auth
