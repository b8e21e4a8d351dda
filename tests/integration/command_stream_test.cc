// DeviceService.Commands: many commands on one long-lived stream, each authorized with its
// own token and answered as a Send would be. Real device-service and auth-service
// processes, real gRPC; the client (commands_client.h) follows the proto's contract only.
#include <signal.h>

#include <optional>

#include "common/permissions.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "tests/integration/commands_client.h"
#include "tests/integration/device_fixture.h"

namespace nb::testing {
namespace {

class CommandStreamTest : public SharedServiceTest<CommandStreamTest> {
 public:
  static DeviceServiceFixture* Start() { return new DeviceServiceFixture(TestFleet(50, 1000)); }
};

TEST_F(CommandStreamTest, CommandsSentTogetherAreEachAnsweredAndEndedOnce) {
  const std::string token = Client(AllPermissions()).second;
  CommandsClient client(Stub());
  devicepb::SendRequest all = Read("bulk", {}, {});
  all.set_all_devices(true);
  devicepb::CommandRequest nothing;
  nothing.set_command_id(5);
  devicepb::CommandRequest unknown_cancel;
  unknown_cancel.set_command_id(999);
  unknown_cancel.set_cancel(true);
  ASSERT_TRUE(client.Write(
      {CommandsClient::StartRequest(1, token, Read("demo", {"d1", "d2"}, {"temperature"})),
       CommandsClient::StartRequest(2, token, all),
       CommandsClient::StartRequest(3, token, Read("demo", {"d1"}, {"no_such"})), unknown_cancel,
       nothing}));
  ASSERT_TRUE(client.ReadUntilEnded({1, 2, 3, 5}));

  const Outcome& read = client.outcomes[1];
  EXPECT_EQ(read.end->status(), 0) << read.end->message();
  std::map<std::string, double> temperatures;
  for (const auto& reply : read.replies) {
    EXPECT_EQ(reply.code(), ErrorCode::ERROR_CODE_UNSPECIFIED) << reply.message();
    temperatures[reply.device_key()] = reply.payload().fields().at("temperature").number_value();
  }
  EXPECT_EQ(temperatures, (std::map<std::string, double>{{"d1", 20.5}, {"d2", 21.0}}));

  // Fifty devices, each answering once.
  const Outcome& fan_out = client.outcomes[2];
  EXPECT_EQ(fan_out.end->status(), 0) << fan_out.end->message();
  std::set<std::string> devices;
  for (const auto& reply : fan_out.replies) devices.insert(reply.device_key());
  EXPECT_EQ(fan_out.replies.size(), 50u);
  EXPECT_EQ(devices.size(), 50u);

  // Refused as a whole, as Send would be, without touching the others.
  const Outcome& refused = client.outcomes[3];
  EXPECT_TRUE(refused.replies.empty());
  EXPECT_EQ(refused.end->code(), ErrorCode::PROPERTY_UNDEFINED);
  EXPECT_EQ(refused.end->status(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(refused.end->message().find("no_such"), std::string::npos) << refused.end->message();
  EXPECT_EQ(client.outcomes[5].end->code(), ErrorCode::PARAMETER_ERROR);
  // A cancel of an id that is not live is ignored: it gets nothing.
  EXPECT_EQ(client.outcomes.count(999), 0u);

  // Replies travel packed: fewer messages than the 53 replies and 4 ends.
  EXPECT_LT(client.messages, 57);
  const grpc::Status status = client.Close();
  EXPECT_TRUE(status.ok()) << status.error_message();
  for (const auto& [id, outcome] : client.outcomes) EXPECT_EQ(outcome.after_end, 0) << id;
}

TEST_F(CommandStreamTest, EachCommandIsAuthorizedWithItsOwnToken) {
  const std::string reader = Client(Grant("demo", {"d1"}, {authpb::READ_PROPERTY})).second;
  const std::string everything = Client(AllPermissions()).second;
  CommandsClient client(Stub());
  ASSERT_TRUE(client.Write({
      CommandsClient::StartRequest(1, reader, Read("demo", {"d1"}, {"temperature"})),
      CommandsClient::StartRequest(2, reader, Read("demo", {"d2"}, {"temperature"})),
      CommandsClient::StartRequest(3, "", Read("demo", {"d1"}, {"temperature"})),
      CommandsClient::StartRequest(4, "nbt_" + std::string(43, 'Z'), Read("demo", {"d1"})),
      CommandsClient::StartRequest(5, everything, Read("demo", {"d2"}, {"temperature"})),
  }));
  ASSERT_TRUE(client.ReadUntilEnded({1, 2, 3, 4, 5}));
  auto& outcomes = client.outcomes;
  EXPECT_EQ(outcomes[1].end->status(), 0);
  EXPECT_EQ(outcomes[1].replies.size(), 1u);
  EXPECT_EQ(outcomes[2].end->code(), ErrorCode::PERMISSION_DENIED);
  EXPECT_TRUE(outcomes[2].replies.empty());
  for (uint64_t id : {3, 4}) {
    EXPECT_EQ(outcomes[id].end->status(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED))
        << id;
    EXPECT_TRUE(outcomes[id].replies.empty()) << id;
  }
  EXPECT_EQ(outcomes[5].end->status(), 0);
  ASSERT_EQ(outcomes[5].replies.size(), 1u);
  EXPECT_EQ(outcomes[5].replies[0].device_key(), "d2");
  EXPECT_TRUE(client.Close().ok());
}

TEST_F(CommandStreamTest, ACancelledCommandStopsAndTheOthersGoOn) {
  const std::string token = Client(AllPermissions()).second;
  CommandsClient client(Stub());
  // d1's `slow` answers after 5 s.
  ASSERT_TRUE(client.Start(1, token, Invoke("demo", "d1", "slow", 10'000)));
  ASSERT_TRUE(client.Start(2, token, Read("demo", {"d2"}, {"temperature"})));
  ASSERT_TRUE(client.ReadUntilEnded({2}));
  // A second start under a live id is refused; the live command goes on.
  ASSERT_TRUE(client.Start(1, token, Read("demo", {"d2"})));
  ASSERT_TRUE(client.ReadUntilEnded({1}));
  EXPECT_EQ(client.outcomes[1].end->code(), ErrorCode::DUPLICATE_ID);
  client.outcomes.erase(1);

  ASSERT_TRUE(client.Cancel(1));
  ASSERT_TRUE(client.Start(3, token, Read("demo", {"d1"}, {"temperature"})));
  ASSERT_TRUE(client.ReadUntilEnded({3}));
  EXPECT_EQ(client.outcomes[3].end->status(), 0);
  // Nothing more for the cancelled command, and nothing keeps the stream open: the close
  // comes long before the 5 s the device would have taken.
  const Clock::time_point closing = Clock::now();
  EXPECT_TRUE(client.Close().ok());
  EXPECT_LT(Clock::now() - closing, seconds(3));
  EXPECT_EQ(client.outcomes.count(1), 0u);
}

TEST_F(CommandStreamTest, AHalfClosedStreamEndsOnceItsCommandsAreOver) {
  const std::string token = Client(AllPermissions()).second;
  CommandsClient client(Stub());
  ASSERT_TRUE(client.Start(1, token, Invoke("demo", "d1", "slow", 300)));
  const grpc::Status status = client.Close();
  EXPECT_TRUE(status.ok()) << status.error_message();
  const Outcome& outcome = client.outcomes[1];
  ASSERT_TRUE(outcome.end.has_value());
  EXPECT_EQ(outcome.end->status(), 0);
}

TEST_F(CommandStreamTest, RevokingAClientEndsItsCommandsOnly) {
  auto [revoked_id, revoked] = Client(AllPermissions());
  const std::string kept = Client(AllPermissions()).second;
  CommandsClient client(Stub());
  ASSERT_TRUE(client.Start(1, revoked, Invoke("demo", "d1", "slow", 10'000)));
  ASSERT_TRUE(client.Start(2, kept, Invoke("demo", "d1", "slow", 10'000)));
  // Both are live once a later command on the same stream has come back.
  ASSERT_TRUE(client.Start(3, kept, Read("demo", {"d2"})));
  ASSERT_TRUE(client.ReadUntilEnded({3}));
  ASSERT_NO_FATAL_FAILURE(RevokeFirstOfTwo(client, revoked_id));
  ASSERT_TRUE(client.Cancel(2));
  EXPECT_TRUE(client.Close().ok());
}

TEST(CommandStreamShutdownTest, StoppingEndsSubscriptionsAtOnce) {
  DeviceServiceFixture fixture(TestFleet(0, 1000));
  ASSERT_TRUE(fixture.service().started()) << fixture.service().log();
  const std::string token = fixture.admin().CreateClient(AllPermissions()).second;
  CommandsClient client(fixture.stub());
  ASSERT_TRUE(client.Subscribe(1, token, kReports, 0));
  ASSERT_TRUE(client.ReadEvents(1, 1));
  const Clock::time_point stopping = Clock::now();
  fixture.service().process().Signal(SIGTERM);
  const grpc::Status status = client.Drain();
  EXPECT_LT(Clock::now() - stopping, seconds(5));
  const Outcome& live = client.outcomes[1];
  ASSERT_TRUE(live.end.has_value());
  EXPECT_EQ(live.end->status(), static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(fixture.service().process().Wait(seconds(10)), std::optional<int>(0))
      << fixture.service().log();
}

TEST(CommandStreamShutdownTest, StoppingLetsLiveCommandsFinishThenEndsTheStream) {
  DeviceServiceFixture fixture(TestFleet(0, 1000));
  ASSERT_TRUE(fixture.service().started()) << fixture.service().log();
  const std::string token = fixture.admin().CreateClient(AllPermissions()).second;
  CommandsClient client(fixture.stub());
  // Live when the stop comes: d1's `slow` times out after 1 s.
  ASSERT_TRUE(client.Start(1, token, Invoke("demo", "d1", "slow", 1000)));
  ASSERT_TRUE(client.Start(2, token, Read("demo", {"d2"})));
  ASSERT_TRUE(client.ReadUntilEnded({2}));
  fixture.service().process().Signal(SIGTERM);
  const grpc::Status status = client.Drain();
  // The command finished with its device's answer, then the stream ended as unavailable.
  const Outcome& live = client.outcomes[1];
  ASSERT_TRUE(live.end.has_value());
  EXPECT_EQ(live.end->status(), 0) << live.end->message();
  ASSERT_EQ(live.replies.size(), 1u);
  EXPECT_EQ(live.replies[0].code(), ErrorCode::TIME_OUT);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(fixture.service().process().Wait(seconds(10)), std::optional<int>(0))
      << fixture.service().log();
}

}  // namespace
}  // namespace nb::testing
