// A synchronous client of DeviceService.Commands that follows the proto's contract only,
// and a suite sharing one device-service, for the tests of that stream.
#ifndef NORTHBOUND_TESTS_INTEGRATION_COMMANDS_CLIENT_H_
#define NORTHBOUND_TESTS_INTEGRATION_COMMANDS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "northbound/auth/v1/auth.pb.h"
#include "northbound/device/v1/device_service.grpc.pb.h"
#include "tests/integration/device_fixture.h"

namespace nb::testing {

namespace authpb = northbound::auth::v1;
namespace devicepb = northbound::device::v1;
using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

// The test fleet's property reports (TestFleet).
inline constexpr char kReports[] = "/device/demo/*/message/property/report";

// What one command or subscription produced on the stream.
struct Outcome {
  std::vector<devicepb::SendReply> replies;
  std::vector<devicepb::DeviceEvent> events;
  // A JSON_MEMBERS subscription's events.
  std::vector<devicepb::JsonEvent> json_events;
  std::optional<devicepb::CommandEnd> end;
  // Events that came after the end: there must be none.
  int after_end = 0;
  // For each of `events` or `json_events`: whether it came in a CommandEvent naming other
  // subscriptions too (more_command_ids).
  std::vector<bool> shared;
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
                 devicepb::EventEncoding encoding = devicepb::EVENT_ENCODING_UNSPECIFIED,
                 bool share_events = false) {
    devicepb::CommandRequest request;
    request.set_command_id(id);
    request.set_token(token);
    request.mutable_subscribe()->set_topic(topic);
    request.mutable_subscribe()->set_window(window);
    request.mutable_subscribe()->set_encoding(encoding);
    request.mutable_subscribe()->set_share_events(share_events);
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
  // The subscriptions each shared event was for.
  std::vector<std::set<uint64_t>> groups;

 private:
  void Take(const devicepb::CommandEvents& events) {
    ++messages;
    for (const devicepb::CommandEvent& event : events.events()) {
      // An event shared by several subscriptions is each one's, in the order named.
      TakeFor(event.command_id(), event);
      for (uint64_t id : event.more_command_ids()) TakeFor(id, event);
      if (event.more_command_ids_size() > 0) {
        std::set<uint64_t>& group =
            groups.emplace_back(event.more_command_ids().begin(), event.more_command_ids().end());
        group.insert(event.command_id());
      }
    }
  }
  void TakeFor(uint64_t id, const devicepb::CommandEvent& event) {
    Outcome& outcome = outcomes[id];
    const bool shared = event.more_command_ids_size() > 0;
    if (outcome.end) {
      ++outcome.after_end;
    } else if (event.has_end()) {
      outcome.end = event.end();
    } else if (event.has_event()) {
      outcome.events.push_back(event.event());
      outcome.shared.push_back(shared);
    } else if (event.has_event_json()) {
      outcome.json_events.push_back(event.event_json());
      outcome.shared.push_back(shared);
    } else {
      outcome.replies.push_back(event.reply());
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

}  // namespace nb::testing

#endif  // NORTHBOUND_TESTS_INTEGRATION_COMMANDS_CLIENT_H_
