// DeviceService for direct callers: every call carries a client token that auth-service
// vouches for, and the client's permissions bound what it may command and see. Real
// device-service and auth-service processes, real gRPC.
#include <signal.h>

#include <chrono>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "northbound/auth/v1/auth.pb.h"
#include "northbound/device/v1/device_service.grpc.pb.h"
#include "tests/integration/device_fixture.h"
#include "tests/support/process.h"

namespace nb::testing {
namespace {

namespace authpb = northbound::auth::v1;
namespace devicepb = northbound::device::v1;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

struct UnaryResult {
  grpc::Status status;
  ErrorCode code = ErrorCode::ERROR_CODE_UNSPECIFIED;
};

template <typename Call>
UnaryResult Unary(Call call) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  UnaryResult result;
  result.status = call(context);
  result.code = ErrorCodeOf(ToAbslStatus(result.status, context));
  return result;
}

UnaryResult ListDevices(devicepb::DeviceService::Stub& stub, const std::string& product,
                        devicepb::ListDevicesResponse* response) {
  return Unary([&](grpc::ClientContext& context) {
    devicepb::ListDevicesRequest request;
    request.set_product_key(product);
    return stub.ListDevices(&context, request, response);
  });
}

UnaryResult GetDevice(devicepb::DeviceService::Stub& stub, const std::string& product,
                      const std::string& device) {
  return Unary([&](grpc::ClientContext& context) {
    devicepb::GetDeviceRequest request;
    request.set_product_key(product);
    request.set_device_key(device);
    devicepb::Device response;
    return stub.GetDevice(&context, request, &response);
  });
}

// One stack for the tests that leave it as they found it; each makes its own clients.
class DeviceAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fixture_ = new DeviceServiceFixture(TestFleet(2, 100)); }
  static void TearDownTestSuite() { delete fixture_; }
  void SetUp() override {
    ASSERT_TRUE(fixture_->auth().started()) << fixture_->auth().log();
    ASSERT_TRUE(fixture_->service().started()) << fixture_->service().log();
  }

  // {client id, stub calling with its token}.
  std::pair<std::string, std::unique_ptr<devicepb::DeviceService::Stub>> Client(
      const authpb::Permissions& permissions) {
    auto [id, token] = fixture_->admin().CreateClient(permissions);
    EXPECT_FALSE(token.empty());
    return {id, fixture_->StubFor(token)};
  }

  static DeviceServiceFixture* fixture_;
};

DeviceServiceFixture* DeviceAuthTest::fixture_ = nullptr;

TEST_F(DeviceAuthTest, NoTokenOrAWrongOneIsUnauthenticatedOnEveryCall) {
  for (const std::string& token :
       {std::string(), "nbt_" + std::string(43, 'Z'), std::string("garbage")}) {
    SCOPED_TRACE(token.empty() ? "no token" : token);
    auto stub = fixture_->StubFor(token);
    EXPECT_EQ(Send(*stub, Read("demo", {"d1"})).status.error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    devicepb::ListDevicesResponse devices;
    EXPECT_EQ(ListDevices(*stub, "demo", &devices).status.error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(GetDevice(*stub, "demo", "d1").status.error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(Unary([&](grpc::ClientContext& context) {
                devicepb::ListProductsResponse products;
                return stub->ListProducts(&context, {}, &products);
              }).status.error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    devicepb::SubscribeRequest request;
    request.set_topic("/device/demo/*/online");
    auto reader = stub->Subscribe(&context, request);
    devicepb::DeviceEvent event;
    EXPECT_FALSE(reader->Read(&event));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_F(DeviceAuthTest, HealthNeedsNoToken) {
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(fixture_->target(), grpc::InsecureChannelCredentials()));
  grpc::health::v1::HealthCheckResponse response;
  const UnaryResult result = Unary([&](grpc::ClientContext& context) {
    return health->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
  });
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(DeviceAuthTest, CommandsStayWithinTheClientsDevicesAndOperations) {
  auto [id, stub] = Client(Grant("demo", {"d1"}, {authpb::READ_PROPERTY}));
  const SendResult allowed = Send(*stub, Read("demo", {"d1"}, {"temperature"}));
  ASSERT_TRUE(allowed.status.ok()) << allowed.status.error_message();
  ASSERT_EQ(allowed.replies.size(), 1u);
  EXPECT_EQ(allowed.replies[0].code(), ErrorCode::ERROR_CODE_UNSPECIFIED);

  // Another device, one allowed and one not, every device, another product, another
  // operation: refused as a whole, with the code in the trailers.
  devicepb::SendRequest all = Read("demo", {});
  all.set_all_devices(true);
  devicepb::SendRequest write = Read("demo", {"d1"});
  write.set_message_type(devicepb::WRITE_PROPERTY);
  (*write.mutable_values()->mutable_fields())["temperature"].set_number_value(30);
  for (const devicepb::SendRequest& request :
       {Read("demo", {"d2"}), Read("demo", {"d1", "d2"}), all, Read("bulk", {"b0"}), write,
        Invoke("demo", "d1", "echo")}) {
    SCOPED_TRACE(request.ShortDebugString());
    const SendResult refused = Send(*stub, request);
    EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << refused.status.error_message();
    EXPECT_EQ(refused.code, ErrorCode::PERMISSION_DENIED);
    EXPECT_TRUE(refused.replies.empty());
  }
}

TEST_F(DeviceAuthTest, ListingsShowOnlyWhatTheClientMaySee) {
  // Not a structured binding: lambdas below use the stub.
  std::unique_ptr<devicepb::DeviceService::Stub> stub =
      Client(Grant("demo", {"d1", "d3"}, {authpb::READ_PROPERTY})).second;
  devicepb::ListProductsResponse products;
  ASSERT_TRUE(Unary([&](grpc::ClientContext& context) {
                return stub->ListProducts(&context, {}, &products);
              }).status.ok());
  ASSERT_EQ(products.products_size(), 1);
  EXPECT_EQ(products.products(0).product_key(), "demo");
  EXPECT_EQ(products.products(0).device_count(), 2u);

  for (const std::string product : {"demo", ""}) {
    devicepb::ListDevicesResponse devices;
    ASSERT_TRUE(ListDevices(*stub, product, &devices).status.ok());
    std::set<std::string> keys;
    for (const auto& device : devices.devices()) keys.insert(device.device_key());
    EXPECT_EQ(keys, (std::set<std::string>{"d1", "d3"})) << "product '" << product << "'";
    EXPECT_EQ(devices.total_size(), 2u);
  }
  EXPECT_TRUE(GetDevice(*stub, "demo", "d1").status.ok());
  EXPECT_EQ(GetDevice(*stub, "demo", "d2").code, ErrorCode::PERMISSION_DENIED);
  EXPECT_EQ(GetDevice(*stub, "bulk", "b0").code, ErrorCode::PERMISSION_DENIED);
  devicepb::ListDevicesResponse other;
  EXPECT_EQ(ListDevices(*stub, "bulk", &other).code, ErrorCode::PERMISSION_DENIED);
}

TEST_F(DeviceAuthTest, SubscribeDeliversOnlyTheClientsDevices) {
  auto [id, stub] = Client(Grant("demo", {"d1"}, {authpb::SUBSCRIBE_EVENTS}));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(30));
  devicepb::SubscribeRequest request;
  // d1 and d2 both report every 100 ms; the pattern names both.
  request.set_topic("/device/demo/*/message/property/report");
  auto reader = stub->Subscribe(&context, request);
  devicepb::DeviceEvent event;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(reader->Read(&event)) << reader->Finish().error_message();
    EXPECT_EQ(event.device_key(), "d1");
  }
  context.TryCancel();
  reader->Finish();

  auto [reader_id, no_events] = Client(Grant("demo", {}, {authpb::READ_PROPERTY}));
  grpc::ClientContext refused_context;
  auto refused = no_events->Subscribe(&refused_context, request);
  EXPECT_FALSE(refused->Read(&event));
  const grpc::Status status = refused->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ErrorCodeOf(ToAbslStatus(status, refused_context)), ErrorCode::PERMISSION_DENIED);
}

// A client's two kinds of stream, open at once: a Subscribe on `topic` and a Send invoking
// d1's `slow` (it answers after 5 s, so the call is still open when the client changes).
struct OpenStreams {
  OpenStreams(devicepb::DeviceService::Stub& stub, const std::string& topic) {
    for (grpc::ClientContext* context : {&events_context, &send_context}) {
      context->set_deadline(std::chrono::system_clock::now() + seconds(30));
    }
    devicepb::SubscribeRequest request;
    request.set_topic(topic);
    events = stub.Subscribe(&events_context, request);
    events->WaitForInitialMetadata();
    send = stub.Send(&send_context, Invoke("demo", "d1", "slow"));
    send->WaitForInitialMetadata();
  }

  struct End {
    grpc::Status status;
    ErrorCode code;
    milliseconds after;
  };
  // Reads each stream until it ends: its status and code, and how long after `since`.
  std::pair<End, End> WaitForEnd(Clock::time_point since) {
    devicepb::DeviceEvent event;
    while (events->Read(&event)) {
    }
    End events_end{events->Finish(), {}, {}};
    events_end.after = std::chrono::duration_cast<milliseconds>(Clock::now() - since);
    events_end.code = ErrorCodeOf(ToAbslStatus(events_end.status, events_context));
    devicepb::SendReply reply;
    while (send->Read(&reply)) {
    }
    End send_end{send->Finish(), {}, {}};
    send_end.after = std::chrono::duration_cast<milliseconds>(Clock::now() - since);
    send_end.code = ErrorCodeOf(ToAbslStatus(send_end.status, send_context));
    return {events_end, send_end};
  }

  grpc::ClientContext events_context;
  grpc::ClientContext send_context;
  std::unique_ptr<grpc::ClientReader<devicepb::DeviceEvent>> events;
  std::unique_ptr<grpc::ClientReader<devicepb::SendReply>> send;
};

TEST_F(DeviceAuthTest, RevokingAClientEndsItsStreamsWithinTwoSeconds) {
  auto [id, stub] = Client(AllPermissions());
  OpenStreams streams(*stub, "/device/demo/*/**");
  const Clock::time_point revoked = Clock::now();
  ASSERT_TRUE(fixture_->admin().Revoke(id).ok());
  const auto [events, send] = streams.WaitForEnd(revoked);
  for (const OpenStreams::End& end : {events, send}) {
    EXPECT_EQ(end.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << end.status.error_message();
    EXPECT_LT(end.after, seconds(2));
  }
  // And the token opens nothing new.
  EXPECT_EQ(Send(*stub, Read("demo", {"d1"})).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(DeviceAuthTest, NarrowedPermissionsEndTheStreamsTheyNoLongerCover) {
  auto [id, stub] = Client(AllPermissions());
  OpenStreams streams(*stub, "/device/demo/*/online");
  // Still a client, but reads only: neither watching nor invoking is allowed any more.
  ASSERT_TRUE(
      fixture_->admin().SetPermissions(id, Grant("demo", {}, {authpb::READ_PROPERTY})).ok());
  const auto [events, send] = streams.WaitForEnd(Clock::now());
  for (const OpenStreams::End& end : {events, send}) {
    EXPECT_EQ(end.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << end.status.error_message();
    EXPECT_EQ(end.code, ErrorCode::PERMISSION_DENIED);
    EXPECT_LT(end.after, seconds(2));
  }
  EXPECT_TRUE(Send(*stub, Read("demo", {"d2"})).status.ok());
}

TEST(DeviceAuthOutageTest, UnknownTokensAreRefusedWhileAuthServiceIsDownKnownOnesKeepWorking) {
  DeviceServiceFixture fixture(TestFleet(0, 1000));
  ASSERT_TRUE(fixture.service().started()) << fixture.service().log();
  auto known = fixture.StubFor(fixture.admin().CreateClient(AllPermissions()).second);
  auto unseen = fixture.StubFor(fixture.admin().CreateClient(AllPermissions()).second);
  ASSERT_TRUE(Send(*known, Read("demo", {"d1"})).status.ok());

  fixture.auth().process().Signal(SIGKILL);
  fixture.auth().process().Wait(seconds(5));
  // Never fail open: a token device-service has not seen is not taken on trust.
  const SendResult refused = Send(*unseen, Read("demo", {"d1"}));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(refused.code, ErrorCode::SERVER_NOT_AVAILABLE);
  // A token vouched for before the outage keeps working: nobody can revoke it meanwhile.
  const SendResult kept = Send(*known, Read("demo", {"d1"}));
  EXPECT_TRUE(kept.status.ok()) << kept.status.error_message();
}

TEST(DeviceAuthInsecureTest, TheDevelopmentFlagServesCallsWithoutATokenAndSaysSoLoudly) {
  DeviceServiceFixture fixture(TestFleet(0, 1000), {"--insecure_allow_unauthenticated"});
  ASSERT_TRUE(fixture.service().started()) << fixture.service().log();
  auto anonymous = fixture.StubFor("");
  const SendResult result = Send(*anonymous, Read("demo", {"d1"}));
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_NE(fixture.service().log().find("INSECURE"), std::string::npos) << fixture.service().log();
}

TEST_F(DeviceAuthTest, ThePythonExampleInTheDocsReadsADevice) {
  auto [id, token] = fixture_->admin().CreateClient(Grant("demo", {"d1"}, {authpb::READ_PROPERTY}));
  const std::string command =
      absl::StrCat("NB_TOKEN=", token, " PYTHONPATH=", NB_PYTHON_GEN, " /usr/bin/python3 ",
                   NB_DEVICE_CLIENT_EXAMPLE, " --target ", fixture_->target(),
                   " --product demo --device d1 --property temperature");
  const CommandResult ok = RunCommand(command);
  EXPECT_EQ(ok.exit_status, 0) << ok.output;
  EXPECT_NE(ok.output.find("device d1 online"), std::string::npos) << ok.output;
  EXPECT_EQ(ok.output.find("device d2"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("reply d1 {'temperature':"), std::string::npos) << ok.output;

  // A device outside the client's grant: refused, with the code, exit status 1.
  const CommandResult refused =
      RunCommand(absl::StrReplaceAll(command, {{"--device d1", "--device d2"}}));
  EXPECT_EQ(refused.exit_status, 1) << refused.output;
  EXPECT_NE(refused.output.find("refused: PERMISSION_DENIED PERMISSION_DENIED"), std::string::npos)
      << refused.output;
}

}  // namespace
}  // namespace nb::testing
