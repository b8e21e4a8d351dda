#include "tests/support/auth_admin.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/support/client_interceptor.h"

namespace nb::testing {

namespace authpb = northbound::auth::v1;

AuthAdmin::AuthAdmin(const std::string& target, std::string credential,
                     std::shared_ptr<grpc::ChannelCredentials> channel_credentials)
    : credential_(std::move(credential)),
      stub_(authpb::ClientAdmin::NewStub(
          grpc::CreateChannel(target, channel_credentials ? channel_credentials
                                                          : grpc::InsecureChannelCredentials()))) {}

void AuthAdmin::Authorize(grpc::ClientContext& context) const {
  context.AddMetadata("authorization", absl::StrCat("Bearer ", credential_));
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

std::pair<std::string, std::string> AuthAdmin::CreateClient(
    const authpb::Permissions& permissions) {
  grpc::ClientContext context;
  Authorize(context);
  authpb::CreateClientRequest request;
  request.set_name("test client");
  *request.mutable_permissions() = permissions;
  authpb::CreateClientResponse response;
  if (!stub_->CreateClient(&context, request, &response).ok()) return {};
  return {response.client().id(), response.token()};
}

grpc::Status AuthAdmin::Revoke(const std::string& client_id) {
  grpc::ClientContext context;
  Authorize(context);
  authpb::RevokeClientRequest request;
  request.set_id(client_id);
  authpb::Client client;
  return stub_->RevokeClient(&context, request, &client);
}

grpc::Status AuthAdmin::SetPermissions(const std::string& client_id,
                                       const authpb::Permissions& permissions) {
  grpc::ClientContext context;
  Authorize(context);
  authpb::UpdateClientRequest request;
  request.set_id(client_id);
  request.add_update_mask("permissions");
  *request.mutable_permissions() = permissions;
  authpb::Client client;
  return stub_->UpdateClient(&context, request, &client);
}

namespace {

class BearerInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(const std::string& header) : header_(header) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", header_});
    }
    methods->Proceed();
  }

 private:
  const std::string& header_;
};

class BearerFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerFactory(std::string token) : header_(absl::StrCat("Bearer ", token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerInterceptor(header_);
  }

 private:
  const std::string header_;
};

}  // namespace

std::shared_ptr<grpc::Channel> BearerChannel(
    const std::string& target, const std::string& token, const grpc::ChannelArguments& args,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<BearerFactory>(token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      target, credentials ? credentials : grpc::InsecureChannelCredentials(), args,
      std::move(factories));
}

}  // namespace nb::testing
