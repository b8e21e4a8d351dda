#include "tests/integration/stack.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"

namespace nb::testing {

namespace authpb = northbound::auth::v1;

authpb::Permissions AllPermissions() {
  authpb::Permissions permissions;
  permissions.set_all_products(true);
  for (auto operation : {authpb::READ_PROPERTY, authpb::WRITE_PROPERTY, authpb::INVOKE_FUNCTION,
                         authpb::SUBSCRIBE_EVENTS}) {
    permissions.add_operations(operation);
  }
  return permissions;
}

Stack::Stack(StackOptions options) : options_(std::move(options)) {
  StartDevice();
  StartAuth();
  if (!device_->started() || !auth_->started()) return;
  device_port_ = device_->port("grpc_port");
  auth_port_ = auth_->port("grpc_port");
  std::vector<std::string> flags = {"--port=0", "--metrics_port=0",
                                    absl::StrCat("--device_service=127.0.0.1:", device_port_),
                                    absl::StrCat("--auth_service=127.0.0.1:", auth_port_)};
  flags.insert(flags.end(), options_.frontend_flags.begin(), options_.frontend_flags.end());
  frontend_ = std::make_unique<ServiceProcess>(
      ServiceProcess::Start(NB_WS_FRONTEND_BIN, dir_.path(), "ws_frontend", flags));
  admin_ = authpb::ClientAdmin::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", auth_port_),
                                                            grpc::InsecureChannelCredentials()));
}

void Stack::StartDevice() {
  std::vector<std::string> flags = {absl::StrCat("--grpc_port=", device_port_), "--metrics_port=0",
                                    "--fleet=" + options_.fleet};
  flags.insert(flags.end(), options_.device_flags.begin(), options_.device_flags.end());
  device_ = std::make_unique<ServiceProcess>(
      ServiceProcess::Start(NB_DEVICE_SERVICE_BIN, dir_.path(), "device_service", flags));
}

void Stack::StartAuth() {
  auth_ = std::make_unique<ServiceProcess>(
      ServiceProcess::Start(NB_AUTH_SERVICE_BIN, dir_.path(), "auth_service",
                            {absl::StrCat("--grpc_port=", auth_port_), "--metrics_port=0",
                             "--database=" + dir_.File("auth.db")},
                            {{"NB_ADMIN_TOKEN", kStackAdminCredential}}));
}

bool Stack::started() const {
  return device_->started() && auth_->started() && frontend_ && frontend_->started();
}

std::string Stack::logs() const {
  std::string logs =
      absl::StrCat("--- device-service\n", device_->log(), "--- auth-service\n", auth_->log());
  if (frontend_) absl::StrAppend(&logs, "--- ws-frontend\n", frontend_->log());
  return logs;
}

std::pair<std::string, std::string> Stack::CreateClient(const authpb::Permissions& permissions) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kStackAdminCredential));
  authpb::CreateClientRequest request;
  request.set_name("test client");
  *request.mutable_permissions() = permissions;
  authpb::CreateClientResponse response;
  if (!admin_->CreateClient(&context, request, &response).ok()) return {};
  return {response.client().id(), response.token()};
}

std::string Stack::FullToken() { return CreateClient(AllPermissions()).second; }

void Stack::Revoke(const std::string& client_id) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kStackAdminCredential));
  authpb::RevokeClientRequest request;
  request.set_id(client_id);
  authpb::Client client;
  admin_->RevokeClient(&context, request, &client);
}

}  // namespace nb::testing
