#include "tests/integration/device_fixture.h"

#include <fstream>

#include "absl/strings/str_cat.h"

namespace nb::testing {

namespace devicepb = northbound::device::v1;

std::string TestFleet(int bulk_devices, int report_interval_ms) {
  std::string yaml = R"(
products:
  - key: demo
    properties:
      - {id: temperature, type: float, min: -40, max: 125, access: rw}
      - {id: humidity, type: float, min: 0, max: 100, access: r}
    functions:
      - id: slow
      - id: echo
        inputs: [{id: text, type: string, required: true}]
        outputs: [{id: text, type: string}]
    events:
      - id: overheat
        fields: [{id: temperature, type: float}]
  - key: bulk
    properties:
      - {id: level, type: int, min: 0, max: 100, access: rw}
    functions:
      - id: slow
devices:
)";
  absl::StrAppend(&yaml,
                  "  - {key: d1, product: demo, settings: {latency_ms: 5, report_interval_ms: ",
                  report_interval_ms, ", event_interval_ms: ", report_interval_ms,
                  ", initial: {temperature: 20.5}, functions: {slow: {latency_ms: 5000}}}}\n");
  absl::StrAppend(&yaml,
                  "  - {key: d2, product: demo, settings: {latency_ms: 10, report_interval_ms: ",
                  report_interval_ms, ", initial: {temperature: 21.0}}}\n");
  absl::StrAppend(&yaml, "  - {key: d3, product: demo, settings: {online: false}}\n");
  for (int i = 0; i < bulk_devices; ++i) {
    absl::StrAppend(
        &yaml, "  - {key: b", i,
        ", product: bulk, settings: {latency_ms: 5, functions: {slow: {latency_ms: 3000}}}}\n");
  }
  return yaml;
}

DeviceServiceFixture::DeviceServiceFixture(const std::string& fleet, std::vector<std::string> extra,
                                           grpc::ChannelArguments channel_args) {
  auth_ = std::make_unique<ServiceProcess>(ServiceProcess::Start(
      NB_AUTH_SERVICE_BIN, dir_.path(), "auth_service",
      {"--grpc_port=0", "--metrics_port=0", "--database=" + dir_.File("auth.db")},
      {{"NB_ADMIN_TOKEN", kFixtureAdminCredential}}));
  if (!auth_->started()) return;
  const std::string auth_target = absl::StrCat("127.0.0.1:", auth_->port("grpc_port"));
  admin_ = std::make_unique<AuthAdmin>(auth_target, kFixtureAdminCredential);
  std::ofstream(dir_.File("fleet.yaml")) << fleet;
  std::vector<std::string> args = {"--grpc_port=0", "--metrics_port=0",
                                   "--fleet=" + dir_.File("fleet.yaml"),
                                   "--auth_service=" + auth_target};
  args.insert(args.end(), extra.begin(), extra.end());
  service_ = std::make_unique<ServiceProcess>(
      ServiceProcess::Start(NB_DEVICE_SERVICE_BIN, dir_.path(), "device_service", args));
  channel_ = BearerChannel(target(), admin_->CreateClient(AllPermissions()).second, channel_args);
  stub_ = devicepb::DeviceService::NewStub(channel_);
}

std::string DeviceServiceFixture::target() const {
  return absl::StrCat("127.0.0.1:", service_->port("grpc_port"));
}

std::unique_ptr<devicepb::DeviceService::Stub> DeviceServiceFixture::StubFor(
    const std::string& token) {
  if (token.empty()) {
    return devicepb::DeviceService::NewStub(
        grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  }
  return devicepb::DeviceService::NewStub(BearerChannel(target(), token));
}

SendResult Send(devicepb::DeviceService::Stub& stub, const devicepb::SendRequest& request) {
  SendResult result;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = stub.Send(&context, request);
  devicepb::SendReply reply;
  while (reader->Read(&reply)) result.replies.push_back(reply);
  result.status = reader->Finish();
  result.code = ErrorCodeOf(ToAbslStatus(result.status, context));
  return result;
}

northbound::auth::v1::Permissions Grant(const std::string& product,
                                        std::vector<std::string> devices,
                                        std::vector<northbound::auth::v1::Operation> operations) {
  northbound::auth::v1::Permissions permissions;
  auto* grant = permissions.add_products();
  grant->set_product_key(product);
  for (const auto& device : devices) grant->add_device_keys(device);
  for (auto operation : operations) permissions.add_operations(operation);
  return permissions;
}

devicepb::SendRequest Invoke(const std::string& product, const std::string& device,
                             const std::string& function, uint32_t timeout_ms) {
  devicepb::SendRequest request;
  request.set_product_key(product);
  request.add_device_keys(device);
  request.set_message_type(devicepb::INVOKE_FUNCTION);
  request.set_function_id(function);
  request.set_timeout_ms(timeout_ms);
  return request;
}

devicepb::SendRequest Read(const std::string& product, std::vector<std::string> devices,
                           std::vector<std::string> properties) {
  devicepb::SendRequest request;
  request.set_product_key(product);
  request.set_message_type(devicepb::READ_PROPERTY);
  for (const auto& d : devices) request.add_device_keys(d);
  for (const auto& p : properties) request.add_properties(p);
  return request;
}

}  // namespace nb::testing
