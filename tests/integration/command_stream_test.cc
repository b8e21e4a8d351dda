// DeviceService.Commands: many commands on one long-lived stream, each authorized with its
// own token and answered as a Send would be. Real device-service and auth-service
// processes, real gRPC; the client below follows the proto's contract only.
#include <signal.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>

#include "boost/json/parse.hpp"
#include "common/permissions.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "northbound/auth/v1/auth.pb.h"
#include "northbound/device/v1/device_service.grpc.pb.h"
#include "tests/integration/device_fixture.h"

namespace nb::testing {
namespace {

namespace authpb = northbound::auth::v1;
namespace devicepb = northbound::device::v1;
using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

// What one command or subscription produced on the stream.
struct Outcome {
  std::vector<devicepb::SendReply> replies;
  std::vector<devicepb::DeviceEvent> events;
  // A JSON_MEMBERS subscription's events.
  std::vector<devicepb::JsonEvent> json_events;
  std::optional<devicepb::CommandEnd> end;
  // Events that came after the end: there must be none.
  int after_end = 0;
};

// A synchronous client of one Commands stream.
class CommandsClient {
 public:
  explicit CommandsClient(devicepb::DeviceService::Stub& stub) {
    context_.set_deadline(std::chrono::system_clock::now() + seconds(60));
    stream_ = stub.Commands(&context_);
  }

  static devicepb::CommandRequest StartRequest(uint64_t id, const std::string& token,
                                               devicepb::SendRequest send) {
    devicepb::CommandRequest request;
    request.set_command_id(id);
    request.set_token(token);
    *request.mutable_send() = std::move(send);
    return request;
  }

  // Everything in one message.
  bool Write(std::vector<devicepb::CommandRequest> requests) {
    devicepb::CommandRequests message;
    for (auto& request : requests) *message.add_requests() = std::move(request);
    return stream_->Write(message);
  }
  bool Start(uint64_t id, const std::string& token, devicepb::SendRequest send) {
    return Write({StartRequest(id, token, std::move(send))});
  }
  bool Subscribe(uint64_t id, const std::string& token, const std::string& topic, uint32_t window,
                 devicepb::EventEncoding encoding = devicepb::EVENT_ENCODING_UNSPECIFIED) {
    devicepb::CommandRequest request;
    request.set_command_id(id);
    request.set_token(token);
    request.mutable_subscribe()->set_topic(topic);
    request.mutable_subscribe()->set_window(window);
    request.mutable_subscribe()->set_encoding(encoding);
    return Write({request});
  }
  bool Credit(uint64_t id, uint32_t count) {
    devicepb::CommandRequest request;
    request.set_command_id(id);
    request.set_credit(count);
    return Write({request});
  }
  bool Cancel(uint64_t id) {
    devicepb::CommandRequest request;
    request.set_command_id(id);
    request.set_cancel(true);
    return Write({request});
  }

  // Reads until every one of `ids` ended; false if the stream ended first.
  bool ReadUntilEnded(const std::set<uint64_t>& ids) {
    return ReadUntil([&] {
      for (uint64_t id : ids) {
        if (!outcomes[id].end) return false;
      }
      return true;
    });
  }
  // Reads until `id` has `count` events; false if the stream ended first.
  bool ReadEvents(uint64_t id, size_t count) {
    return ReadUntil([&] { return outcomes[id].events.size() >= count; });
  }
  bool ReadJsonEvents(uint64_t id, size_t count) {
    return ReadUntil([&] { return outcomes[id].json_events.size() >= count; });
  }
  template <typename Done>
  bool ReadUntil(Done done) {
    devicepb::CommandEvents events;
    while (!done()) {
      if (!stream_->Read(&events)) return false;
      Take(events);
    }
    return true;
  }

  // Half-closes, reads whatever is left and returns the stream's status.
  grpc::Status Close() {
    stream_->WritesDone();
    return Drain();
  }
  // Reads until the stream ends and returns its status.
  grpc::Status Drain() {
    devicepb::CommandEvents events;
    while (stream_->Read(&events)) Take(events);
    return stream_->Finish();
  }

  std::map<uint64_t, Outcome> outcomes;
  int messages = 0;

 private:
  void Take(const devicepb::CommandEvents& events) {
    ++messages;
    for (const devicepb::CommandEvent& event : events.events()) {
      Outcome& outcome = outcomes[event.command_id()];
      if (outcome.end) {
        ++outcome.after_end;
      } else if (event.has_end()) {
        outcome.end = event.end();
      } else if (event.has_event()) {
        outcome.events.push_back(event.event());
      } else if (event.has_event_json()) {
        outcome.json_events.push_back(event.event_json());
      } else {
        outcome.replies.push_back(event.reply());
      }
    }
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<devicepb::CommandRequests, devicepb::CommandEvents>>
      stream_;
};

// A suite sharing one device-service (and its auth-service), which `Suite::Start` makes.
template <typename Suite>
class SharedServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fixture_ = Suite::Start(); }
  static void TearDownTestSuite() {
    delete fixture_;
    fixture_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(fixture_->auth().started()) << fixture_->auth().log();
    ASSERT_TRUE(fixture_->service().started()) << fixture_->service().log();
  }
  // {client id, token}.
  static std::pair<std::string, std::string> Client(const authpb::Permissions& permissions) {
    return fixture_->admin().CreateClient(permissions);
  }
  static devicepb::DeviceService::Stub& Stub() { return fixture_->stub(); }
  // Revokes `client_id`, the client of id 1 on `client`: 1 ends UNAUTHENTICATED within 2 s,
  // while 2, another client's, goes on.
  static void RevokeFirstOfTwo(CommandsClient& client, const std::string& client_id) {
    const Clock::time_point revoking = Clock::now();
    ASSERT_TRUE(fixture_->admin().Revoke(client_id).ok());
    ASSERT_TRUE(client.ReadUntilEnded({1}));
    EXPECT_LT(Clock::now() - revoking, seconds(2));
    EXPECT_EQ(client.outcomes[1].end->status(),
              static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
    EXPECT_FALSE(client.outcomes[2].end.has_value());
  }

  static inline DeviceServiceFixture* fixture_ = nullptr;
};

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

// Subscriptions on a Commands stream: d1 and d2 report every 20 ms, and each subscription
// queues at most 8 events in device-service.
class StreamSubscriptionTest : public SharedServiceTest<StreamSubscriptionTest> {
 public:
  static DeviceServiceFixture* Start() {
    return new DeviceServiceFixture(TestFleet(0, 20), {"--subscriber_queue=8"});
  }
};

constexpr char kReports[] = "/device/demo/*/message/property/report";

TEST_F(StreamSubscriptionTest, EventsFlowAgainstCreditAndASlowSubscriberLosesTheOldest) {
  const std::string token = Client(AllPermissions()).second;
  CommandsClient client(Stub());
  ASSERT_TRUE(client.Subscribe(1, token, kReports, 4));
  ASSERT_TRUE(client.Subscribe(2, token, "/device/demo/d1/**", 0));
  ASSERT_TRUE(client.ReadEvents(1, 4));
  // Without credit nothing more comes for 1, while 2 (default window, 64) goes on, with
  // credit for what it took: 100 events of d1 take two seconds.
  ASSERT_TRUE(client.ReadEvents(2, 60));
  ASSERT_TRUE(client.Credit(2, 60));
  ASSERT_TRUE(client.ReadEvents(2, 100));
  EXPECT_EQ(client.outcomes[1].events.size(), 4u);
  for (const devicepb::DeviceEvent& event : client.outcomes[1].events) {
    EXPECT_EQ(event.kind(), devicepb::PROPERTY_REPORT) << event.topic();
  }
  for (const devicepb::DeviceEvent& event : client.outcomes[2].events) {
    EXPECT_EQ(event.device_key(), "d1") << event.topic();
  }

  // Credit for 1 (more than its window, which caps it): what its queue kept, the newest 8,
  // comes, the first saying how many of the events published meanwhile were dropped; then
  // no more than the window again.
  ASSERT_TRUE(client.Credit(1, 100));
  ASSERT_TRUE(client.ReadEvents(1, 8));
  EXPECT_GT(client.outcomes[1].events[4].dropped_before(), 40u);
  ASSERT_TRUE(client.Credit(2, 60));
  ASSERT_TRUE(client.ReadEvents(2, 160));
  EXPECT_EQ(client.outcomes[1].events.size(), 8u);
  // Per device, in the order they were published.
  std::map<std::string, int64_t> last;
  for (const devicepb::DeviceEvent& event : client.outcomes[1].events) {
    EXPECT_GE(event.timestamp_ms(), last[event.device_key()]) << event.device_key();
    last[event.device_key()] = event.timestamp_ms();
  }

  // A cancelled subscription gets no end; the half-closed stream ends.
  ASSERT_TRUE(client.Cancel(1));
  ASSERT_TRUE(client.Cancel(2));
  EXPECT_TRUE(client.Close().ok());
  EXPECT_FALSE(client.outcomes[1].end.has_value());
  EXPECT_FALSE(client.outcomes[2].end.has_value());
}

// The members of a WebSocket event frame (docs/protocol.md §5), as an object.
boost::json::object FrameMembers(const devicepb::JsonEvent& event) {
  EXPECT_EQ(event.members().substr(0, 1), ",") << event.members();
  boost::json::error_code error;
  boost::json::value value = boost::json::parse("{" + event.members().substr(1) + "}", error);
  EXPECT_FALSE(error) << event.members();
  return value.is_object() ? value.as_object() : boost::json::object();
}

TEST_F(StreamSubscriptionTest, JsonSubscriptionsGetEventsRenderedAsFrameMembersAgainstCredit) {
  const std::string token = Client(AllPermissions()).second;
  CommandsClient client(Stub());
  // 2 is live (it has an event) before 1 starts, so every event 1 gets, 2 gets too. (Each
  // start waits on its token's validation, so two starts may go live in either order.)
  ASSERT_TRUE(client.Subscribe(2, token, "/device/demo/d1/**", 0));
  ASSERT_TRUE(client.ReadEvents(2, 1));
  ASSERT_TRUE(client.Subscribe(1, token, "/device/demo/d1/**", 4, devicepb::JSON_MEMBERS));
  ASSERT_TRUE(client.ReadJsonEvents(1, 4));
  // Without credit nothing more comes for 1 while 2 goes on (40 reports take 0.8 s).
  ASSERT_TRUE(client.ReadEvents(2, 40));
  EXPECT_EQ(client.outcomes[1].json_events.size(), 4u);
  EXPECT_TRUE(client.outcomes[1].events.empty());
  EXPECT_TRUE(client.outcomes[2].json_events.empty());

  // Each is the event 2 got as a DeviceEvent, rendered.
  std::map<std::pair<int64_t, std::string>, const devicepb::DeviceEvent*> by_time_and_topic;
  for (const devicepb::DeviceEvent& event : client.outcomes[2].events) {
    by_time_and_topic[{event.timestamp_ms(), event.topic()}] = &event;
  }
  for (const devicepb::JsonEvent& json : client.outcomes[1].json_events) {
    const boost::json::object members = FrameMembers(json);
    ASSERT_TRUE(members.contains("timestamp") && members.at("timestamp").is_int64() &&
                members.contains("topic") && members.at("topic").is_string())
        << json.members();
    const devicepb::DeviceEvent* event = by_time_and_topic[{
        members.at("timestamp").as_int64(), std::string(members.at("topic").as_string())}];
    ASSERT_NE(event, nullptr) << json.members();
    EXPECT_EQ(members.at("deviceId"), "d1");
    const boost::json::object& payload = members.at("payload").as_object();
    EXPECT_EQ(payload.size(), static_cast<size_t>(event->payload().fields_size()));
    for (const auto& [key, value] : event->payload().fields()) {
      ASSERT_TRUE(payload.contains(key)) << key;
      if (value.has_number_value()) {
        EXPECT_EQ(payload.at(key).to_number<double>(), value.number_value()) << key;
      } else if (value.has_string_value()) {
        EXPECT_EQ(payload.at(key), boost::json::value(value.string_value())) << key;
      } else if (value.has_bool_value()) {
        EXPECT_EQ(payload.at(key), value.bool_value()) << key;
      }
    }
    EXPECT_EQ(json.dropped_before(), 0u);
  }

  // Credit, capped at the window: 4 of what its queue kept (the newest 8), the first saying
  // how many were dropped.
  ASSERT_TRUE(client.Credit(1, 100));
  ASSERT_TRUE(client.ReadJsonEvents(1, 8));
  EXPECT_GT(client.outcomes[1].json_events[4].dropped_before(), 20u);
  ASSERT_TRUE(client.Cancel(1));
  ASSERT_TRUE(client.Cancel(2));
  EXPECT_TRUE(client.Close().ok());
}

TEST_F(StreamSubscriptionTest, RefusedSubscriptionsEndWithTheirCodeAndLeaveTheOthersAlone) {
  const std::string token = Client(AllPermissions()).second;
  const std::string no_events = Client(Grant("demo", {}, {authpb::READ_PROPERTY})).second;
  CommandsClient client(Stub());
  ASSERT_TRUE(client.Subscribe(1, token, kReports, 0));
  ASSERT_TRUE(client.Subscribe(2, no_events, kReports, 0));
  ASSERT_TRUE(client.Subscribe(3, token, "/devices/demo/d1/online", 0));
  ASSERT_TRUE(client.Subscribe(4, token, kReports, 5000));
  ASSERT_TRUE(client.Subscribe(5, "", kReports, 0));
  ASSERT_TRUE(client.Subscribe(6, token, kReports, 0, static_cast<devicepb::EventEncoding>(7)));
  ASSERT_TRUE(client.Subscribe(1, token, kReports, 0));
  ASSERT_TRUE(client.ReadUntil([&] {
    return client.outcomes[2].end && client.outcomes[3].end && client.outcomes[4].end &&
           client.outcomes[5].end && client.outcomes[6].end && client.outcomes[1].end &&
           client.outcomes[1].after_end >= 3;
  }));
  EXPECT_EQ(client.outcomes[2].end->code(), ErrorCode::PERMISSION_DENIED);
  EXPECT_EQ(client.outcomes[3].end->code(), ErrorCode::UNKNOWN_TOPIC);
  EXPECT_EQ(client.outcomes[4].end->code(), ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(client.outcomes[5].end->status(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_EQ(client.outcomes[6].end->code(), ErrorCode::PARAMETER_ERROR);
  // The second start of 1 was refused as a duplicate; the first goes on (its events come
  // after that end).
  EXPECT_EQ(client.outcomes[1].end->code(), ErrorCode::DUPLICATE_ID);
  for (uint64_t id : {2, 3, 4, 5, 6}) EXPECT_TRUE(client.outcomes[id].events.empty()) << id;
  ASSERT_TRUE(client.Cancel(1));
  EXPECT_TRUE(client.Close().ok());
}

TEST_F(StreamSubscriptionTest, RevokingAClientEndsItsSubscriptionsAndHalfClosingEndsTheRest) {
  auto [revoked_id, revoked] = Client(AllPermissions());
  const std::string kept = Client(AllPermissions()).second;
  CommandsClient client(Stub());
  ASSERT_TRUE(client.Subscribe(1, revoked, kReports, 0));
  ASSERT_TRUE(client.Subscribe(2, kept, kReports, 0));
  ASSERT_TRUE(client.ReadUntil(
      [&] { return !client.outcomes[1].events.empty() && !client.outcomes[2].events.empty(); }));
  ASSERT_NO_FATAL_FAILURE(RevokeFirstOfTwo(client, revoked_id));
  // Half-closed, the stream cannot cancel 2 any more: it ends (OK), and so does the stream.
  const grpc::Status status = client.Close();
  EXPECT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(client.outcomes[2].end.has_value());
  EXPECT_EQ(client.outcomes[2].end->status(), 0);
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
