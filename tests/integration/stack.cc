#include "tests/integration/stack.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"

namespace nb::testing {

namespace authpb = northbound::auth::v1;

Stack::Stack(StackOptions options) : options_(std::move(options)) {
  // device-service asks auth-service about every caller: auth-service comes first.
  StartAuth();
  if (!auth_->started()) return;
  auth_port_ = auth_->port("grpc_port");
  StartDevice();
  if (!device_->started()) return;
  device_port_ = device_->port("grpc_port");
  std::vector<std::string> flags = {"--port=0", "--metrics_port=0",
                                    absl::StrCat("--device_service=127.0.0.1:", device_port_),
                                    absl::StrCat("--auth_service=127.0.0.1:", auth_port_)};
  flags.insert(flags.end(), options_.frontend_flags.begin(), options_.frontend_flags.end());
  frontend_ = std::make_unique<ServiceProcess>(ServiceProcess::Start(
      NB_WS_FRONTEND_BIN, dir_.path(), "ws_frontend", flags, options_.frontend_env));
  admin_ = std::make_unique<AuthAdmin>(absl::StrCat("127.0.0.1:", auth_port_),
                                       kStackAdminCredential, options_.admin_credentials);
}

void Stack::StartDevice() {
  std::vector<std::string> flags = {absl::StrCat("--grpc_port=", device_port_), "--metrics_port=0",
                                    "--fleet=" + options_.fleet,
                                    absl::StrCat("--auth_service=127.0.0.1:", auth_port_)};
  flags.insert(flags.end(), options_.device_flags.begin(), options_.device_flags.end());
  device_ = std::make_unique<ServiceProcess>(
      ServiceProcess::Start(NB_DEVICE_SERVICE_BIN, dir_.path(), "device_service", flags));
}

void Stack::StartAuth() {
  std::vector<std::string> flags = {absl::StrCat("--grpc_port=", auth_port_), "--metrics_port=0",
                                    "--database=" + dir_.File("auth.db")};
  flags.insert(flags.end(), options_.auth_flags.begin(), options_.auth_flags.end());
  auth_ = std::make_unique<ServiceProcess>(
      ServiceProcess::Start(NB_AUTH_SERVICE_BIN, dir_.path(), "auth_service", flags,
                            {{"NB_ADMIN_TOKEN", kStackAdminCredential}}));
}

bool Stack::started() const {
  return auth_->started() && device_ && device_->started() && frontend_ && frontend_->started();
}

std::string Stack::logs() const {
  std::string logs = absl::StrCat("--- auth-service\n", auth_->log());
  if (device_) absl::StrAppend(&logs, "--- device-service\n", device_->log());
  if (frontend_) absl::StrAppend(&logs, "--- ws-frontend\n", frontend_->log());
  return logs;
}

std::pair<std::string, std::string> Stack::CreateClient(const authpb::Permissions& permissions) {
  return admin_->CreateClient(permissions);
}

std::string Stack::FullToken() { return CreateClient(AllPermissions()).second; }

void Stack::Revoke(const std::string& client_id) { admin_->Revoke(client_id); }

}  // namespace nb::testing
