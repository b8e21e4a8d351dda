// Faults end to end: services killed under live sessions, a thousand live connections,
// a client that stops reading (and one still unread when the frontend stops), one that
// pauses while a large answer queues up, a client that pings amid a stream of events. Real
// processes, real sockets.
#include <signal.h>
#include <sys/resource.h>

#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"
#include "tests/support/http_get.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_client.h"

namespace nb::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<WsClient> Connect(Stack& stack, const std::string& token) {
  auto client = std::make_unique<WsClient>();
  EXPECT_TRUE(client->Connect(stack.ws_port(), "/messaging/" + token).upgraded);
  return client;
}

bool Pong(WsClient& client) {
  if (!client.SendText(R"({"type":"ping","id":"alive"})")) return false;
  for (int i = 0; i < 50; ++i) {
    auto frame = client.ReceiveJson(seconds(10));
    if (!frame) return false;
    if (FrameString(*frame, "type") == "pong") return true;
  }
  return false;
}

TEST(FaultsTest, DeviceServiceKilledMidStreamThenBack) {
  Stack stack;
  ASSERT_TRUE(stack.started()) << stack.logs();
  const std::string token = stack.FullToken();
  auto watcher = Connect(stack, token);
  auto bystander = Connect(stack, token);
  watcher->SendText(R"({"id":"ev","type":"sub","topic":"/device/sagoo-product/*/**"})");
  watcher->SendText(
      R"({"id":"slow","type":"sub","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"functionId":"firmwareUpgrade","inputs":{"version":"3"}}})");
  ASSERT_TRUE(watcher->ReceiveJson());  // Events flow.

  stack.device().process().Signal(SIGKILL);
  stack.device().process().Wait(seconds(5));
  std::map<std::string, std::vector<std::string>> by_id;
  for (int i = 0; i < 200 && (by_id["ev"].empty() || by_id["ev"].back() != "complete" ||
                              by_id["slow"].empty() || by_id["slow"].back() != "complete");
       ++i) {
    auto frame = watcher->ReceiveJson(seconds(10));
    ASSERT_TRUE(frame) << "no complete after device-service died";
    const std::string type = FrameString(*frame, "type");
    if (type == "result") continue;  // Events from before the kill.
    by_id[FrameString(*frame, "id")].push_back(type == "error" ? FrameString(*frame, "code")
                                                               : type);
  }
  for (const char* id : {"ev", "slow"}) {
    EXPECT_EQ(by_id[id], (std::vector<std::string>{"SERVER_NOT_AVAILABLE", "complete"})) << id;
  }
  EXPECT_TRUE(Pong(*bystander)) << "another session was affected";

  stack.StartDevice();
  ASSERT_TRUE(stack.device().started()) << stack.logs();
  // The frontend reconnects by itself; a new command works once it has.
  bool answered = false;
  for (int attempt = 0; attempt < 100 && !answered; ++attempt) {
    const std::string id = absl::StrCat("again", attempt);
    watcher->SendText(absl::StrCat(
        R"({"id":")", id,
        R"(","type":"sub","topic":"/device-message-sender/sagoo-product/device1","parameter":{"properties":["temperature"]}})"));
    for (int i = 0; i < 3; ++i) {
      auto frame = watcher->ReceiveJson(seconds(10));
      ASSERT_TRUE(frame);
      if (FrameString(*frame, "type") == "result" && FrameString(*frame, "id") == id)
        answered = true;
      if (FrameString(*frame, "type") == "complete") break;
    }
    if (!answered) absl::SleepFor(absl::Milliseconds(100));  // Reconnect backoff.
  }
  EXPECT_TRUE(answered) << stack.logs();
}

TEST(FaultsTest, AuthServiceKilledThenBack) {
  Stack stack;
  ASSERT_TRUE(stack.started()) << stack.logs();
  const std::string token = stack.FullToken();
  auto existing = Connect(stack, token);
  ASSERT_TRUE(Pong(*existing));
  // device-service vouches for a token it has seen during an outage (its
  // --auth_outage_grace_ms), never for one it has not: the session has commanded before.
  auto read = [&](const std::string& id) {
    existing->SendText(absl::StrCat(
        R"({"id":")", id,
        R"(","type":"sub","topic":"/device-message-sender/sagoo-product/device1","parameter":{"properties":["temperature"]}})"));
    const std::vector<json::object> frames = UntilComplete(*existing, id);
    return frames.empty() ? std::string() : FrameString(frames.front(), "type");
  };
  ASSERT_EQ(read("before"), "result");

  stack.auth().process().Signal(SIGKILL);
  stack.auth().process().Wait(seconds(5));
  // New connections are refused with 1013 (after the cache of this token expires).
  bool refused = false;
  for (int attempt = 0; attempt < 100 && !refused; ++attempt) {
    WsClient fresh;
    // A well-formed token the cache cannot know.
    ASSERT_TRUE(fresh.Connect(stack.ws_port(), "/messaging/nbt_" + std::string(43, 'Z')).upgraded);
    auto frame = fresh.ReceiveJson();
    refused = frame && FrameString(*frame, "code") == "SERVER_NOT_AVAILABLE" &&
              fresh.WaitForClose() == 1013;
  }
  EXPECT_TRUE(refused);
  // The existing session keeps working.
  EXPECT_EQ(read("during"), "result");

  stack.StartAuth();
  ASSERT_TRUE(stack.auth().started()) << stack.logs();
  bool admitted = false;
  for (int attempt = 0; attempt < 100 && !admitted; ++attempt) {
    WsClient again;
    ASSERT_TRUE(again.Connect(stack.ws_port(), "/messaging/" + token).upgraded);
    admitted = Pong(again);
    if (!admitted) absl::SleepFor(absl::Milliseconds(100));  // Reconnect backoff.
  }
  EXPECT_TRUE(admitted);
}

TEST(FaultsTest, AThousandConnectionsEachGetEveryEventInOrder) {
  rlimit files;
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  ASSERT_GE(files.rlim_cur, 2500u) << "needs file descriptors for 1000 connections";

  TempDir dir;
  std::ofstream(dir.File("fleet.yaml")) << R"(
products:
  - key: p
    properties: [{id: level, type: double, min: 0, max: 100}]
devices:
  - {key: d1, product: p, settings: {report_interval_ms: 100}}
)";
  // The clients are read one after another, so the last ones go unread for as long as the
  // loop takes (over a minute under AddressSanitizer on a loaded machine). An unread client
  // answers no ping, and the frontend rightly drops it after --idle_timeout_seconds: give
  // it more time than the loop can take, as ordering, not idleness, is what is tested. The
  // same for the slow-consumer close: a client unread for half a minute has its events
  // held back (device-service keeps them meanwhile, far fewer than its queue holds).
  Stack stack({.fleet = dir.File("fleet.yaml"),
               .frontend_flags = {"--idle_timeout_seconds=600", "--slow_consumer_seconds=600"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  const std::string token = stack.FullToken();
  constexpr int kClients = 1000;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(Connect(stack, token));
    ASSERT_TRUE(clients.back()->SendText(
        R"({"id":"e","type":"sub","topic":"/device/p/d1/message/property/report"})"));
  }
  const int device_metrics = stack.device().port("metrics_port");
  ASSERT_TRUE(WaitFor(
      [&] { return ScrapeMetric(device_metrics, "northbound_device_subscriptions") == kClients; },
      seconds(60)))
      << "not every subscription reached device-service";
  const double published_before = ScrapeMetric(
      device_metrics, "northbound_device_events_published_total{kind=\"property_report\"}");
  const int64_t window_start = absl::ToUnixMillis(absl::Now());
  ASSERT_TRUE(WaitFor(
      [&] {
        return ScrapeMetric(device_metrics,
                            "northbound_device_events_published_total{kind=\"property_report\"}") >=
               published_before + 10;
      },
      seconds(30)));
  const int64_t window_end = absl::ToUnixMillis(absl::Now());

  std::vector<int64_t> reference;
  for (int i = 0; i < kClients; ++i) {
    std::vector<int64_t> seen;
    while (true) {
      auto frame = clients[i]->ReceiveJson(seconds(20));
      ASSERT_TRUE(frame) << "client " << i << " stopped receiving";
      ASSERT_EQ(FrameString(*frame, "type"), "result") << json::serialize(*frame);
      const int64_t timestamp = frame->at("timestamp").as_int64();
      if (timestamp > window_end) break;
      if (timestamp >= window_start) seen.push_back(timestamp);
    }
    ASSERT_TRUE(std::is_sorted(seen.begin(), seen.end()))
        << "client " << i << " got events out of order";
    if (i == 0) {
      reference = seen;
      ASSERT_GE(reference.size(), 5u);
    } else {
      ASSERT_EQ(seen, reference) << "client " << i << " did not get the same events";
    }
  }
  EXPECT_EQ(ScrapeMetric(stack.frontend().port("metrics_port"), "northbound_frontend_connections"),
            kClients);
}

// Writes into `dir` a fleet of product `fast`: 20 devices reporting every millisecond
// (thousands of events a second; far fewer under the sanitizers), each report about 300
// bytes as a frame. Returns its path.
std::string FastFleet(TempDir& dir) {
  std::string fleet = R"(
products:
  - key: fast
    properties: [{id: level, type: double, min: 0, max: 100}, {id: label, type: string}]
devices:
)";
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&fleet, "  - {key: d", i, ", product: fast, settings: {report_interval_ms: 1, ",
                    "initial: {label: '", std::string(200, 'x'), "'}}}\n");
  }
  std::ofstream(dir.File("fleet.yaml")) << fleet;
  return dir.File("fleet.yaml");
}

TEST(FaultsTest, ClientThatStopsReadingKeepsFrontendMemoryBoundedAndGets4008) {
  TempDir dir;
  const std::string fleet = FastFleet(dir);
  // Events are held back past 256 KiB queued. (A client's kernel goes on taking a few KiB
  // now and then while it does not read, as it compacts its receive queue: a mark of
  // tens of KiB could drain to its half and resume.)
  Stack stack({.fleet = fleet,
               .frontend_flags = {"--slow_consumer_seconds=2", "--outbound_limit_bytes=1048576",
                                  "--event_backlog_bytes=262144"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  WsClient client;
  client.SetReceiveBuffer(64 * 1024);
  ASSERT_TRUE(client.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  client.SendText(R"({"type":"sub","id":"all","topic":"/device/fast/*/**"})");
  const pid_t frontend = stack.frontend().process().pid();
  const int metrics_port = stack.frontend().port("metrics_port");
  const long rss_start = RssKib(frontend);
  long rss_peak = rss_start;
  double queued_peak = 0;
  // Not reading is the behaviour under test; sample the frontend meanwhile.
  for (int i = 0; i < 24; ++i) {
    absl::SleepFor(absl::Milliseconds(250));
    rss_peak = std::max(rss_peak, RssKib(frontend));
    queued_peak = std::max(queued_peak,
                           ScrapeMetric(metrics_port, "northbound_frontend_outbound_queued_bytes"));
  }
  // The queue fills to where the client's events are held back, 256 KiB (past half of it,
  // they would have been taken again), and stops there, far below its 1 MiB limit...
  EXPECT_GT(queued_peak, 128 * 1024) << "the client's queue never filled";
  EXPECT_LE(queued_peak, 256 * 1024 + 16 * 1024);
#ifndef NB_SANITIZED
  // ...and so does the process: far below what 6 s of unread events would take. (Under
  // the sanitizers freed memory is held in quarantine, so RSS says nothing there.)
  EXPECT_LT(rss_peak - rss_start, 32 * 1024) << rss_start << " KiB -> " << rss_peak << " KiB";
#endif
  EXPECT_EQ(client.WaitForClose(seconds(60)), 4008);
}

TEST(FaultsTest, ClientThatReadsSlowlyGetsTheNewestEventsWithDropCountsAndStays) {
  TempDir dir;
  // Far more events than this client takes (at most 33 a second).
  const std::string fleet = FastFleet(dir);
  // Events are held back past 4 KiB queued, and the kernel buffers little more: this client,
  // reading a burst every 300 ms, is held back at times, never for the 10 s that would
  // close it. device-service keeps at most 32 of its events meanwhile.
  Stack stack({.fleet = fleet,
               .frontend_flags = {"--event_backlog_bytes=4096", "--socket_send_buffer_bytes=4096"},
               .device_flags = {"--subscriber_queue=32"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  WsClient client;
  client.SetReceiveBuffer(4096);
  ASSERT_TRUE(client.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  client.SendText(R"({"type":"sub","id":"r","topic":"/device/fast/*/message/property/report"})");
  int events = 0;
  int64_t dropped = 0;
  std::map<std::string, int64_t> last_timestamp;
  const auto end = std::chrono::steady_clock::now() + seconds(4);
  while (std::chrono::steady_clock::now() < end) {
    absl::SleepFor(absl::Milliseconds(300));
    for (int i = 0; i < 10; ++i) {
      auto frame = client.ReceiveJson(milliseconds(200));
      if (!frame) break;
      ASSERT_EQ(FrameString(*frame, "type"), "result") << json::serialize(*frame);
      ++events;
      if (frame->contains("dropped")) dropped += frame->at("dropped").as_int64();
      const int64_t timestamp = frame->at("timestamp").as_int64();
      int64_t& last = last_timestamp[FrameString(*frame, "deviceId")];
      EXPECT_GE(timestamp, last) << "events of one device out of order";
      last = timestamp;
    }
    ASSERT_EQ(client.close_code(), 0) << "closed: " << client.close_reason();
  }
  EXPECT_GT(events, 50);
  // What could not wait was dropped, and said so.
  EXPECT_GT(dropped, 0) << events << " events taken";
  // Still connected and answered at once.
  ASSERT_TRUE(client.SendText(R"({"type":"ping","id":"p"})"));
  bool pong = false;
  while (auto frame = client.ReceiveJson(seconds(10))) {
    if (FrameString(*frame, "type") == "pong") {
      pong = true;
      break;
    }
  }
  EXPECT_TRUE(pong) << "closed: " << client.close_code();
}

TEST(FaultsTest, SigtermWithAWriteStuckOnAClientThatStopsReadingStillExitsZero) {
  TempDir dir;
  // This client never reads, so a write to it is still out when the 1 s grace ends and the
  // frontend stops its loops. The process must still exit 0, its sessions freed with the
  // loops (under ASan, a session kept alive by its own pending write is a leak, and fails).
  Stack stack({.fleet = FastFleet(dir),
               .frontend_flags = {"--drain_seconds=1", "--socket_send_buffer_bytes=4096"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  WsClient client;
  client.SetReceiveBuffer(4096);
  ASSERT_TRUE(client.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  client.SendText(R"({"type":"sub","id":"all","topic":"/device/fast/*/**"})");
  const int metrics_port = stack.frontend().port("metrics_port");
  // Both sockets' buffers are full once frames wait in the queue behind the write.
  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (ScrapeMetric(metrics_port, "northbound_frontend_outbound_queued_bytes") < 16 * 1024) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the client's queue never filled";
    absl::SleepFor(absl::Milliseconds(50));
  }
  stack.frontend().process().Signal(SIGTERM);
  const std::optional<int> status = stack.frontend().process().Wait(seconds(20));
  ASSERT_TRUE(status.has_value()) << "still running 20 s after SIGTERM";
  EXPECT_EQ(*status, 0) << stack.logs();
}

TEST(FaultsTest, AClientThatPausesReadingGetsEveryReplyOfALargeReadWholeAndThenTheComplete) {
  TempDir dir;
  // 600 devices with a 300-byte label: a READ of all of them answers with about 250 KiB of
  // frames, several writes' worth. With both socket buffers small, they wait in the
  // frontend's queue while the client does not read, and leave a batch at a time.
  constexpr int kDevices = 600;
  const std::string label(300, 'x');
  std::string fleet = R"(
products:
  - key: wide
    properties: [{id: label, type: string}]
devices:
)";
  for (int i = 0; i < kDevices; ++i) {
    absl::StrAppend(&fleet, "  - {key: w", i, ", product: wide, settings: {initial: {label: '",
                    label, "'}}}\n");
  }
  std::ofstream(dir.File("fleet.yaml")) << fleet;
  Stack stack(
      {.fleet = dir.File("fleet.yaml"), .frontend_flags = {"--socket_send_buffer_bytes=4096"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  WsClient client;
  client.SetReceiveBuffer(4096);
  ASSERT_TRUE(client.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  client.SendText(R"({"type":"sub","id":"all","topic":"/device-message-sender/wide/*",
    "parameter":{"properties":["label"]}})");
  const int metrics_port = stack.frontend().port("metrics_port");
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (ScrapeMetric(metrics_port, "northbound_frontend_outbound_queued_bytes") < 160 * 1024) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the replies never queued up";
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Every device's answer once, each frame whole, then the complete, then a pong.
  std::set<std::string> devices;
  const std::vector<json::object> frames = UntilComplete(client, "all", seconds(30));
  ASSERT_EQ(frames.size(), static_cast<size_t>(kDevices + 1));
  for (int i = 0; i < kDevices; ++i) {
    const json::object& frame = frames[static_cast<size_t>(i)];
    ASSERT_EQ(FrameString(frame, "type"), "result") << json::serialize(frame);
    EXPECT_EQ(frame.at("payload").at("label").as_string(), label);
    EXPECT_TRUE(devices.insert(FrameString(frame, "deviceId")).second)
        << "twice: " << FrameString(frame, "deviceId");
  }
  EXPECT_EQ(devices.size(), static_cast<size_t>(kDevices));
  EXPECT_EQ(FrameString(frames.back(), "type"), "complete");
  EXPECT_TRUE(Pong(client));
  // All written, and counted out of the queue. A write is counted out when its completion
  // runs, which may be just after the client has read its bytes.
  EXPECT_TRUE(WaitFor(
      [&] { return ScrapeMetric(metrics_port, "northbound_frontend_outbound_queued_bytes") == 0; },
      seconds(5)))
      << ScrapeMetric(metrics_port, "northbound_frontend_outbound_queued_bytes")
      << " bytes still counted as queued";
}

TEST(FaultsTest, WebSocketPingsAmidAStreamOfEventsAreAllAnsweredAndNoFrameIsTorn) {
  TempDir dir;
  // Events arrive in bursts and leave in batches of frames written past Beast, while Beast
  // answers the client's pings between them. The client is python3-websockets, written from
  // RFC 6455, which fails the connection on any frame torn or out of place. A small socket
  // buffer makes batches leave in pieces, with the pongs waiting on them.
  Stack stack({.fleet = FastFleet(dir), .frontend_flags = {"--socket_send_buffer_bytes=4096"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  const CommandResult result = RunCommand(absl::StrCat(
      "/usr/bin/python3 ", NB_PING_CLIENT_PEER, " ws://127.0.0.1:", stack.ws_port(), "/messaging/",
      stack.FullToken(), " --topic '/device/fast/*/message/property/report' --seconds 3",
      " --ping-ms 2"));
  // Every event frame whole and in order, every ping answered.
  ASSERT_EQ(result.exit_status, 0) << result.output << stack.logs();
  const json::object summary = json::parse(result.output).as_object();
  EXPECT_GE(summary.at("events").as_int64(), 100) << result.output;
  EXPECT_GE(summary.at("pings").as_int64(), 20) << result.output;
}

}  // namespace
}  // namespace nb::testing
