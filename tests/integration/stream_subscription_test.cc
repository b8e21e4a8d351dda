// Event subscriptions on a DeviceService.Commands stream: events against credit, JSON
// members, shared events, refusals and revocation. Real device-service and auth-service
// processes, real gRPC; the client (commands_client.h) follows the proto's contract only.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "boost/json/parse.hpp"
#include "common/permissions.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "tests/integration/commands_client.h"
#include "tests/integration/device_fixture.h"

namespace nb::testing {
namespace {

// Subscriptions on a Commands stream: d1 and d2 report every 20 ms, and each subscription
// queues at most 8 events in device-service.
class StreamSubscriptionTest : public SharedServiceTest<StreamSubscriptionTest> {
 public:
  static DeviceServiceFixture* Start() {
    return new DeviceServiceFixture(TestFleet(0, 20), {"--subscriber_queue=8"});
  }
};

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

// The timestamps of a subscription's events of d1 (which reports every 20 ms), in order.
std::vector<int64_t> Timestamps(const Outcome& outcome) {
  std::vector<int64_t> timestamps;
  for (const devicepb::DeviceEvent& event : outcome.events) {
    timestamps.push_back(event.timestamp_ms());
  }
  for (const devicepb::JsonEvent& json : outcome.json_events) {
    const boost::json::object members = FrameMembers(json);
    timestamps.push_back(members.contains("timestamp") && members.at("timestamp").is_int64()
                             ? members.at("timestamp").as_int64()
                             : -1);
  }
  return timestamps;
}

TEST_F(StreamSubscriptionTest, SharingSubscriptionsGetEachEventOnceForAllInOrderAndAlone) {
  const std::string token = Client(AllPermissions()).second;
  CommandsClient client(Stub());
  constexpr char kD1Reports[] = "/device/demo/d1/message/property/report";
  // 1-4 share JSON events, 5 does not, 6, 7 and 9 share DeviceEvents; 8 shares JSON events
  // but takes only 4 before it gives credit. (The first of a kind that an event reaches
  // may have it written at once, alone; three or more leave at least two to meet.)
  const std::vector<uint64_t> flowing = {1, 2, 3, 4, 5, 6, 7, 9};
  const std::set<uint64_t> json_sharing = {1, 2, 3, 4, 8};
  const std::set<uint64_t> event_sharing = {6, 7, 9};
  for (uint64_t id : flowing) {
    const bool json = id <= 5;
    ASSERT_TRUE(client.Subscribe(
        id, token, kD1Reports, 0,
        json ? devicepb::JSON_MEMBERS : devicepb::EVENT_ENCODING_UNSPECIFIED, id != 5));
  }
  ASSERT_TRUE(client.Subscribe(8, token, kD1Reports, 4, devicepb::JSON_MEMBERS, true));
  // 50 events each (1 s of d1's reports), within the default window of 64.
  ASSERT_TRUE(client.ReadUntil([&] {
    for (uint64_t id : flowing) {
      if (client.outcomes[id].shared.size() < 50) return false;
    }
    return client.outcomes[8].shared.size() >= 4;
  }));

  // Every subscription got each of d1's events once, in order, none dropped: all the same
  // events from the time the last of them went live.
  std::vector<std::vector<int64_t>> timestamps;
  int64_t from = 0;
  int64_t to = INT64_MAX;
  for (uint64_t id : flowing) {
    const Outcome& outcome = client.outcomes[id];
    EXPECT_FALSE(outcome.end.has_value()) << id;
    EXPECT_EQ(event_sharing.contains(id) ? outcome.json_events.size() : outcome.events.size(), 0u)
        << id;
    for (const devicepb::DeviceEvent& event : outcome.events) EXPECT_EQ(event.dropped_before(), 0u);
    for (const devicepb::JsonEvent& json : outcome.json_events) {
      EXPECT_EQ(json.dropped_before(), 0u);
    }
    timestamps.push_back(Timestamps(outcome));
    EXPECT_TRUE(std::is_sorted(timestamps.back().begin(), timestamps.back().end())) << id;
    EXPECT_EQ(std::adjacent_find(timestamps.back().begin(), timestamps.back().end()),
              timestamps.back().end())
        << id << " got an event twice";
    from = std::max(from, timestamps.back().front());
    to = std::min(to, timestamps.back().back());
  }
  auto between = [&](const std::vector<int64_t>& all) {
    return std::vector<int64_t>(std::lower_bound(all.begin(), all.end(), from),
                                std::upper_bound(all.begin(), all.end(), to));
  };
  ASSERT_GE(between(timestamps[0]).size(), 20u) << "the subscriptions were live together briefly";
  for (size_t i = 1; i < timestamps.size(); ++i) {
    EXPECT_EQ(between(timestamps[i]), between(timestamps[0])) << "subscription " << flowing[i];
  }

  // Shared events went once for several sharing subscriptions of the same encoding, and
  // only for them; 5 got each alone.
  int json_groups = 0;
  int event_groups = 0;
  for (const std::set<uint64_t>& group : client.groups) {
    const bool json =
        std::includes(json_sharing.begin(), json_sharing.end(), group.begin(), group.end());
    const bool events =
        std::includes(event_sharing.begin(), event_sharing.end(), group.begin(), group.end());
    EXPECT_TRUE(json || events) << ::testing::PrintToString(group);
    json_groups += json;
    event_groups += events;
  }
  EXPECT_GT(json_groups, 0);
  EXPECT_GT(event_groups, 0);
  EXPECT_EQ(std::count(client.outcomes[5].shared.begin(), client.outcomes[5].shared.end(), true),
            0);

  // 8, given credit after its queue overflowed, gets the newest events its queue kept, the
  // first alone, saying how many it missed.
  ASSERT_TRUE(client.Credit(8, 4));
  ASSERT_TRUE(client.ReadJsonEvents(8, 5));
  EXPECT_GT(client.outcomes[8].json_events[4].dropped_before(), 20u);
  EXPECT_FALSE(client.outcomes[8].shared[4]);
  for (uint64_t id = 1; id <= 9; ++id) ASSERT_TRUE(client.Cancel(id));
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

}  // namespace
}  // namespace nb::testing
