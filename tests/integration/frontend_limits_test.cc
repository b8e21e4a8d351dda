// The WebSocket protocol's limits and failure paths end to end, each with a stack of its
// own (flags differ): subscriptions, rate abuse, idle connections, auth-service down,
// SIGTERM drain.
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/json/object.hpp"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"
#include "tests/support/http_get.h"
#include "tests/support/process.h"
#include "tests/support/service.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_client.h"

namespace nb::testing {
namespace {

using std::chrono::seconds;

class FrontendLimitsTest : public ::testing::Test {};

TEST_F(FrontendLimitsTest, TooManySubscriptionsAndPersistentAbuse) {
  Stack stack({.frontend_flags = {"--max_subscriptions=2", "--rate_abuse_seconds=1",
                                  "--frames_per_second=20", "--frame_burst=20"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  WsClient client;
  ASSERT_TRUE(client.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  for (const char* id : {"a", "b", "c"}) {
    client.SendText(absl::StrCat(R"({"type":"sub","id":")", id,
                                 R"(","topic":"/device/sagoo-product/device1/online"})"));
  }
  auto error = client.ReceiveJson();
  ASSERT_TRUE(error);
  EXPECT_EQ(FrameString(*error, "code"), "TOO_MANY_SUBSCRIPTIONS");
  EXPECT_EQ(FrameString(*error, "id"), "c");
  auto complete = client.ReceiveJson();
  ASSERT_TRUE(complete);
  EXPECT_EQ(FrameString(*complete, "type"), "complete");

  // Keep exceeding the rate for longer than the abuse window.
  const auto until = std::chrono::steady_clock::now() + seconds(3);
  while (client.close_code() == 0 && std::chrono::steady_clock::now() < until) {
    if (!client.SendText(R"({"type":"ping"})")) break;
  }
  EXPECT_EQ(client.WaitForClose(), 4029);
}

TEST_F(FrontendLimitsTest, SilentConnectionIsDroppedAfterTheIdleTimeout) {
  Stack stack({.frontend_flags = {"--idle_timeout_seconds=2"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  WsClient active;
  WsClient silent;
  ASSERT_TRUE(active.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  ASSERT_TRUE(silent.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  // The active client talks every half second; the silent one neither reads nor writes,
  // so it cannot answer the server's pings.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(active.SendText(R"({"type":"ping"})"));
    ASSERT_TRUE(active.ReceiveJson()) << "the active client lost its connection";
    absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_FALSE(silent.Receive(std::chrono::seconds(5)).has_value());
  EXPECT_NE(silent.close_code(), 0) << "the silent connection is still open";
}

TEST_F(FrontendLimitsTest, AuthServiceDownMeans1013) {
  Stack stack;
  ASSERT_TRUE(stack.started()) << stack.logs();
  const std::string token = stack.FullToken();
  stack.auth().process().Signal(SIGKILL);
  stack.auth().process().Wait(seconds(5));
  WsClient client;
  ASSERT_TRUE(client.Connect(stack.ws_port(), "/messaging/" + token).upgraded);
  auto frame = client.ReceiveJson();
  ASSERT_TRUE(frame);
  EXPECT_EQ(FrameString(*frame, "code"), "SERVER_NOT_AVAILABLE");
  EXPECT_EQ(client.WaitForClose(), 1013);
}

TEST_F(FrontendLimitsTest, SigtermDrainsWith1001AndExitsZero) {
  Stack stack;
  ASSERT_TRUE(stack.started()) << stack.logs();
  WsClient client;
  ASSERT_TRUE(client.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  client.SendText(R"({"type":"sub","id":"live","topic":"/device/sagoo-product/*/**"})");
  ASSERT_TRUE(client.ReceiveJson());
  stack.frontend().process().Signal(SIGTERM);
  EXPECT_EQ(client.WaitForClose(), 1001);
  const std::optional<int> status = stack.frontend().process().Wait(seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << stack.logs();
}

// How many devices one command may address is device-service's setting alone: the
// frontend passes every permitted key on and relays device-service's PARAMETER_ERROR.
TEST_F(FrontendLimitsTest, DeviceServiceSetsTheDevicesPerCommand) {
  Stack stack({.device_flags = {"--max_devices_per_command=2"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  WsClient client;
  ASSERT_TRUE(client.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  const std::string read = R"(,"parameter":{"properties":["temperature"]}})";
  client.SendText(
      R"({"type":"sub","id":"three","topic":"/device-message-sender/sagoo-product/device1,device2,device3")" +
      read);
  std::vector<boost::json::object> frames = UntilComplete(client, "three");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(FrameString(frames[0], "type"), "error");
  EXPECT_EQ(FrameString(frames[0], "code"), "PARAMETER_ERROR");
  EXPECT_NE(FrameString(frames[0], "message").find("more than 2"), std::string::npos)
      << FrameString(frames[0], "message");
  EXPECT_EQ(FrameString(frames[1], "type"), "complete");

  client.SendText(
      R"({"type":"sub","id":"two","topic":"/device-message-sender/sagoo-product/device1,device2,device1")" +
      read);
  frames = UntilComplete(client, "two");
  int results = 0;
  for (const boost::json::object& frame : frames) results += FrameString(frame, "type") == "result";
  EXPECT_EQ(results, 2) << "a repeated key counts once";
}

// --event_linger_ms: events wait in the queue for the frames after them; any other frame,
// and the drain's close, takes them along, first. Nothing is lost or reordered.
TEST_F(FrontendLimitsTest, LingeringEventsLeaveAheadOfTheNextFrameAndBeforeTheDrainClose) {
  Stack stack({.frontend_flags = {"--event_linger_ms=1000"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  WsClient client;
  ASSERT_TRUE(client.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  client.SendText(
      R"({"type":"sub","id":"rep","topic":"/device/sagoo-product/device1/message/property/report"})");
  const int metrics_port = stack.frontend().port("metrics_port");
  // Events written at once leave the queue within microseconds; lingering, they stay.
  auto events_wait = [&] {
    return WaitFor(
        [&] { return ScrapeMetric(metrics_port, "northbound_frontend_outbound_queued_bytes") > 0; },
        seconds(20));
  };
  int64_t last_timestamp = 0;
  // The frames up to the first that is not an event; the events before it counted.
  auto events_until_other = [&](int& events) -> std::optional<boost::json::object> {
    events = 0;
    while (auto frame = client.ReceiveJson()) {
      if (FrameString(*frame, "id") != "rep") return frame;
      EXPECT_EQ(FrameString(*frame, "type"), "result");
      EXPECT_FALSE(frame->contains("dropped")) << "events were dropped";
      const int64_t timestamp = frame->at("timestamp").as_int64();
      EXPECT_GT(timestamp, last_timestamp) << "events out of order";
      last_timestamp = timestamp;
      ++events;
    }
    return std::nullopt;
  };

  ASSERT_TRUE(events_wait()) << "no event ever waited in the queue";
  client.SendText(R"({"type":"ping","id":"p1"})");
  int events = 0;
  std::optional<boost::json::object> pong = events_until_other(events);
  ASSERT_TRUE(pong) << "no pong";
  EXPECT_EQ(FrameString(*pong, "type"), "pong");
  EXPECT_GE(events, 1) << "the waiting events did not leave ahead of the pong";

  ASSERT_TRUE(events_wait()) << "no event waited in the queue after the pong";
  stack.frontend().process().Signal(SIGTERM);
  EXPECT_FALSE(events_until_other(events)) << "a frame other than an event before the close";
  EXPECT_GE(events, 1) << "the waiting events did not leave before the close";
  EXPECT_EQ(client.close_code(), 1001);
  const std::optional<int> status = stack.frontend().process().Wait(seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << stack.logs();
}

TEST_F(FrontendLimitsTest, EventLingerOutsideItsRangeIsRefusedAtStart) {
  for (const char* flag : {"--event_linger_ms=-1", "--event_linger_ms=1001"}) {
    TempDir dir;
    ServiceProcess frontend = ServiceProcess::Start(NB_WS_FRONTEND_BIN, dir.path(), "ws_frontend",
                                                    {"--port=0", "--metrics_port=0", flag});
    EXPECT_FALSE(frontend.started()) << flag;
    EXPECT_NE(frontend.log().find("--event_linger_ms must be 0..1000"), std::string::npos)
        << frontend.log();
  }
}

// The slow consumer (4008) is covered with its memory bound in faults_test.cc.

}  // namespace
}  // namespace nb::testing
