#ifndef NORTHBOUND_TESTS_INTEGRATION_STACK_H_
#define NORTHBOUND_TESTS_INTEGRATION_STACK_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "northbound/auth/v1/auth.grpc.pb.h"
#include "tests/support/auth_admin.h"
#include "tests/support/service.h"
#include "tests/support/temp_dir.h"

namespace nb::testing {

inline constexpr char kStackAdminCredential[] = "stack-admin-credential-0123456789";

struct StackOptions {
  std::string fleet = NB_TEST_FLEET;
  std::vector<std::string> frontend_flags;
  std::vector<std::string> device_flags;
  std::vector<std::string> auth_flags;
  // Extra environment of ws-frontend.
  std::map<std::string, std::string> frontend_env;
  // How the test reaches auth-service's ClientAdmin (TLS when auth-service serves it).
  std::shared_ptr<grpc::ChannelCredentials> admin_credentials;
};

// The three services on free ports, started by the test: device-service with a fleet,
// auth-service with a fresh database, ws-frontend pointed at both.
class Stack {
 public:
  explicit Stack(StackOptions options = {});

  bool started() const;
  std::string logs() const;
  int ws_port() const { return frontend_->port("http_port"); }
  int auth_port() const { return auth_port_; }
  AuthAdmin& admin() { return *admin_; }
  ServiceProcess& device() { return *device_; }
  ServiceProcess& auth() { return *auth_; }
  ServiceProcess& frontend() { return *frontend_; }

  // Creates a client and returns {id, token}.
  std::pair<std::string, std::string> CreateClient(
      const northbound::auth::v1::Permissions& permissions);
  // A client allowed everything.
  std::string FullToken();
  void Revoke(const std::string& client_id);

  void StartDevice();
  void StartAuth();

 private:
  StackOptions options_;
  TempDir dir_;
  int device_port_ = 0;
  int auth_port_ = 0;
  std::unique_ptr<ServiceProcess> device_;
  std::unique_ptr<ServiceProcess> auth_;
  std::unique_ptr<ServiceProcess> frontend_;
  std::unique_ptr<AuthAdmin> admin_;
};

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_INTEGRATION_STACK_H_
