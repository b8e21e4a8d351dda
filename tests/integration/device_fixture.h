#ifndef NORTHBOUND_TESTS_INTEGRATION_DEVICE_FIXTURE_H_
#define NORTHBOUND_TESTS_INTEGRATION_DEVICE_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "grpcpp/grpcpp.h"
#include "northbound/auth/v1/auth.pb.h"
#include "northbound/device/v1/device_service.grpc.pb.h"
#include "tests/support/auth_admin.h"
#include "tests/support/service.h"
#include "tests/support/temp_dir.h"

namespace nb::testing {

// Products demo (d1, d2 online; d3 offline) and bulk (b0..b{bulk_devices-1}); d1 and d2
// report every `report_interval_ms`.
std::string TestFleet(int bulk_devices, int report_interval_ms);

inline constexpr char kFixtureAdminCredential[] = "fixture-admin-credential-0123456789";

// One device-service process with the auth-service it asks about callers, and a stub that
// calls as a client with every permission.
class DeviceServiceFixture {
 public:
  explicit DeviceServiceFixture(const std::string& fleet, std::vector<std::string> extra = {},
                                grpc::ChannelArguments channel_args = {});

  ServiceProcess& service() { return *service_; }
  ServiceProcess& auth() { return *auth_; }
  AuthAdmin& admin() { return *admin_; }
  std::string target() const;
  northbound::device::v1::DeviceService::Stub& stub() { return *stub_; }
  // A stub calling with `token` ("" for none).
  std::unique_ptr<northbound::device::v1::DeviceService::Stub> StubFor(const std::string& token);

 private:
  TempDir dir_;
  std::unique_ptr<ServiceProcess> auth_;
  std::unique_ptr<AuthAdmin> admin_;
  std::unique_ptr<ServiceProcess> service_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<northbound::device::v1::DeviceService::Stub> stub_;
};

struct SendResult {
  std::vector<northbound::device::v1::SendReply> replies;
  grpc::Status status;
  ErrorCode code = ErrorCode::ERROR_CODE_UNSPECIFIED;
};

SendResult Send(northbound::device::v1::DeviceService::Stub& stub,
                const northbound::device::v1::SendRequest& request);

// Permissions for `operations` on `devices` (every device when empty) of `product`.
northbound::auth::v1::Permissions Grant(const std::string& product,
                                        std::vector<std::string> devices,
                                        std::vector<northbound::auth::v1::Operation> operations);

// INVOKE_FUNCTION of `function` on one device; `timeout_ms` 0 is the service's default.
northbound::device::v1::SendRequest Invoke(const std::string& product, const std::string& device,
                                           const std::string& function, uint32_t timeout_ms = 0);

northbound::device::v1::SendRequest Read(const std::string& product,
                                         std::vector<std::string> devices,
                                         std::vector<std::string> properties = {});

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_INTEGRATION_DEVICE_FIXTURE_H_
