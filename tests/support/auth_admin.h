#ifndef NORTHBOUND_TESTS_SUPPORT_AUTH_ADMIN_H_
#define NORTHBOUND_TESTS_SUPPORT_AUTH_ADMIN_H_

#include <memory>
#include <string>
#include <utility>

#include "common/permissions.h"
#include "grpcpp/grpcpp.h"
#include "northbound/auth/v1/auth.grpc.pb.h"

namespace nb::testing {

// An operator on auth-service's ClientAdmin, holding the admin credential.
class AuthAdmin {
 public:
  AuthAdmin(const std::string& target, std::string credential,
            std::shared_ptr<grpc::ChannelCredentials> channel_credentials = nullptr);

  // Creates a client; returns {id, token}, both empty on failure.
  std::pair<std::string, std::string> CreateClient(
      const northbound::auth::v1::Permissions& permissions);
  grpc::Status Revoke(const std::string& client_id);
  grpc::Status SetPermissions(const std::string& client_id,
                              const northbound::auth::v1::Permissions& permissions);

 private:
  void Authorize(grpc::ClientContext& context) const;

  std::string credential_;
  std::unique_ptr<northbound::auth::v1::ClientAdmin::Stub> stub_;
};

// A channel that sends "authorization: Bearer <token>" on every call, as a direct
// DeviceService caller does.
std::shared_ptr<grpc::Channel> BearerChannel(
    const std::string& target, const std::string& token, const grpc::ChannelArguments& args = {},
    std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_SUPPORT_AUTH_ADMIN_H_
