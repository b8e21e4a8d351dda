// Hostile clients against the running stack: mutated and random frames, partial frames,
// slow upgrades (slowloris), and a storm of connections dropped before any handshake.
// Whatever they do, ws-frontend stays up, bounded in memory, and other clients' round trips
// stay correct.

#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"
#include "tests/support/http_get.h"
#include "tests/support/process.h"
#include "tests/support/raw_connection.h"
#include "tests/support/seed_frames.h"
#include "tests/support/ws_client.h"

namespace nb::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::string OneLine(const std::string& frame) { return absl::StrReplaceAll(frame, {{"\n", ""}}); }

// The seed's READ through a fresh id: result with device1's and device2's temperature,
// then complete.
bool RoundTripWorks(WsClient& client, int n) {
  const std::string id = absl::StrCat("control-", n);
  std::string frame = absl::StrReplaceAll(OneLine(kSeedReadProperty), {{"request-id", id}});
  if (!client.SendText(frame)) return false;
  const std::vector<boost::json::object> frames = UntilComplete(client, id);
  int results = 0;
  for (const auto& f : frames) {
    if (FrameString(f, "id") != id) continue;
    if (FrameString(f, "type") == "result" &&
        boost::json::serialize(f).find("temperature") != std::string::npos) {
      ++results;
    }
  }
  return results == 2 && !frames.empty() && FrameString(frames.back(), "type") == "complete";
}

// One mutation of `frame`: a flipped byte, a cut, an insertion, a duplicated run or a
// truncation, sometimes several.
std::string Mutate(std::string frame, std::mt19937& random) {
  const int rounds = 1 + static_cast<int>(random() % 3);
  for (int r = 0; r < rounds && !frame.empty(); ++r) {
    const size_t at = random() % frame.size();
    switch (random() % 6) {
      case 0:
        frame[at] = static_cast<char>(random() % 256);
        break;
      case 1:
        frame.erase(at, 1 + random() % 16);
        break;
      case 2:
        frame.insert(at, std::string(1 + random() % 8, "{}[]\":,\\0a9-*/"[random() % 14]));
        break;
      case 3:
        frame.insert(at, frame.substr(at, 1 + random() % 32));
        break;
      case 4:
        frame.resize(at);
        break;
      default:
        frame[at] = "\"{}[],:"[random() % 7];
    }
  }
  return frame;
}

std::vector<std::string> SeedFrames() {
  return {
      OneLine(kSeedReadProperty),
      OneLine(kSeedWriteProperty),
      OneLine(kSeedInvokeFunction),
      R"({"type":"ping","id":"p"})",
      R"({"id":"u","type":"unsub"})",
      R"({"id":"e","type":"sub","topic":"/device/sagoo-product/*/message/property/report"})",
      R"({"id":"f","type":"sub","topic":"/device-message-sender/sagoo-product/*","parameter":{"functionId":"calibrate","inputs":{"reference":21}}})"};
}

TEST(HostileClientTest, MutatedAndRandomFramesNeverHurtOtherClients) {
  Stack stack({.frontend_flags = {"--frames_per_second=1000000", "--frame_burst=1000000"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  const std::string token = stack.FullToken();
  WsClient control;
  ASSERT_TRUE(control.Connect(stack.ws_port(), "/messaging/" + token).upgraded);
  ASSERT_TRUE(RoundTripWorks(control, 0));

  const unsigned seed = std::random_device{}();
  SCOPED_TRACE(absl::StrCat("random seed ", seed));
  std::mt19937 random(seed);
  const std::vector<std::string> seeds = SeedFrames();
  auto hostile = std::make_unique<WsClient>();
  ASSERT_TRUE(hostile->Connect(stack.ws_port(), "/messaging/" + token).upgraded);
  int reconnects = 0;
  constexpr int kFrames = 3000;
  for (int i = 1; i <= kFrames; ++i) {
    std::string frame;
    if (random() % 10 == 0) {
      frame.resize(random() % 512);
      for (char& c : frame) c = static_cast<char>(random() % 256);
    } else {
      frame = Mutate(seeds[random() % seeds.size()], random);
    }
    // A frame the server closes for (invalid UTF-8 is 1007): the client comes back.
    const bool sent = random() % 20 == 0 ? hostile->SendBinary(frame) : hostile->SendText(frame);
    if (!sent) {
      ++reconnects;
      hostile = std::make_unique<WsClient>();
      ASSERT_TRUE(hostile->Connect(stack.ws_port(), "/messaging/" + token).upgraded)
          << "frame " << i << stack.logs();
    }
    if (i % 500 == 0) {
      ASSERT_TRUE(RoundTripWorks(control, i)) << "after frame " << i;
    }
  }
  hostile.reset();
  EXPECT_TRUE(RoundTripWorks(control, kFrames + 1));
  EXPECT_FALSE(stack.frontend().process().Wait(milliseconds(1)).has_value()) << stack.logs();
  EXPECT_GT(ScrapeMetric(stack.frontend().port("metrics_port"),
                         R"(northbound_frontend_frames_in_total{type="invalid"})"),
            0);
  std::printf("hostile frames: %d sent, %d reconnects after the server closed\n", kFrames,
              reconnects);
}

TEST(HostileClientTest, SlowUpgradesAndPartialFramesAreDropped) {
  Stack stack({.frontend_flags = {"--request_timeout_seconds=2", "--idle_timeout_seconds=4"}});
  ASSERT_TRUE(stack.started()) << stack.logs();
  const std::string token = stack.FullToken();
  WsClient control;
  ASSERT_TRUE(control.Connect(stack.ws_port(), "/messaging/" + token).upgraded);

  // Slowloris: an upgrade request one byte a second never gets to finish.
  const std::string upgrade = UpgradeRequest("/messaging/" + token);
  RawConnection slow(stack.ws_port());
  ASSERT_TRUE(slow.connected());
  const Clock::time_point start = Clock::now();
  bool dropped = false;
  size_t sent = 0;
  while (!dropped && sent < upgrade.size()) {
    if (!slow.Send(upgrade.substr(sent++, 1))) break;
    dropped = slow.ClosedWithin(seconds(1));
    ASSERT_TRUE(RoundTripWorks(control, 100 + static_cast<int>(sent)));
  }
  EXPECT_TRUE(dropped || sent < upgrade.size()) << "the slow upgrade was never dropped";
  EXPECT_LT(Clock::now() - start, seconds(10));
  EXPECT_EQ(slow.received().find("101"), std::string::npos) << slow.received();

  // An upgraded connection that sends half a frame and stalls: dropped at the idle
  // timeout, like any silent client.
  RawConnection partial(stack.ws_port());
  ASSERT_TRUE(partial.Send(upgrade));
  ASSERT_FALSE(partial.ClosedWithin(milliseconds(500)));
  ASSERT_NE(partial.received().find("101"), std::string::npos) << partial.received();
  // FIN + text, masked, 16-bit length 1000; then 10 of the 1000 bytes.
  std::string header = {'\x81', '\xFE', '\x03', '\xE8', 'k', 'e', 'y', '!'};
  ASSERT_TRUE(partial.Send(header + std::string(10, 'x')));
  // The control client keeps talking meanwhile (it would be idle too otherwise).
  bool partial_dropped = false;
  for (int i = 1; i <= 15 && !partial_dropped; ++i) {
    partial_dropped = partial.ClosedWithin(seconds(1));
    ASSERT_TRUE(RoundTripWorks(control, i));
  }
  EXPECT_TRUE(partial_dropped) << "a stalled half frame was never dropped";
}

// Between messages the frontend waits for the next one without a buffer, then reads it in
// pieces: a message may come in fragments, with a ping among them, each on its own after
// a pause; and an empty message is a message too.
TEST(HostileClientTest, FragmentedAndEmptyMessagesAreReadWhole) {
  Stack stack;
  ASSERT_TRUE(stack.started()) << stack.logs();
  RawConnection client(stack.ws_port());
  ASSERT_TRUE(client.Send(UpgradeRequest("/messaging/" + stack.FullToken())));
  ASSERT_TRUE(client.TakeUpgradeResponse(seconds(10)));
  const auto next_text = [&]() -> std::optional<boost::json::object> {
    std::optional<RawConnection::Frame> frame = client.NextFrame(seconds(10));
    if (!frame || frame->opcode != 0x1 || !frame->fin) {
      ADD_FAILURE() << "no text frame";
      return std::nullopt;
    }
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(frame->payload, error);
    if (error || !value.is_object()) {
      ADD_FAILURE() << frame->payload;
      return std::nullopt;
    }
    return value.as_object();
  };

  // An empty text message is not JSON: an error frame, and the connection stays.
  ASSERT_TRUE(client.Send(ClientFrame(0x1, true, "")));
  std::optional<boost::json::object> error = next_text();
  ASSERT_TRUE(error);
  EXPECT_EQ(FrameString(*error, "type"), "error") << boost::json::serialize(*error);

  // A ping message in three fragments, a WebSocket ping between the first two, each sent
  // on its own: the WebSocket ping is answered at once, the message once whole.
  const std::string message = R"({"type":"ping","id":"in-fragments"})";
  ASSERT_TRUE(client.Send(ClientFrame(0x1, false, message.substr(0, 5))));
  ASSERT_FALSE(client.ClosedWithin(milliseconds(100)));
  ASSERT_TRUE(client.Send(ClientFrame(0x9, true, "are you there")));
  std::optional<RawConnection::Frame> pong = client.NextFrame(seconds(10));
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 0xA);
  EXPECT_EQ(pong->payload, "are you there");
  ASSERT_TRUE(client.Send(ClientFrame(0x0, false, message.substr(5, 20))));
  ASSERT_FALSE(client.ClosedWithin(milliseconds(100)));
  ASSERT_TRUE(client.Send(ClientFrame(0x0, true, message.substr(25))));
  std::optional<boost::json::object> answer = next_text();
  ASSERT_TRUE(answer);
  EXPECT_EQ(FrameString(*answer, "type"), "pong");
  EXPECT_EQ(FrameString(*answer, "id"), "in-fragments");

  // And the connection still reads whole messages after them.
  ASSERT_TRUE(client.Send(ClientFrame(0x1, true, R"({"type":"ping","id":"after"})")));
  answer = next_text();
  ASSERT_TRUE(answer);
  EXPECT_EQ(FrameString(*answer, "id"), "after");
}

// For tests that read the frontend's RSS.
StackOptions RssOptions() {
  StackOptions options;
#ifdef NB_SANITIZED
  // AddressSanitizer holds freed memory in a quarantine (256 MiB by default) to catch uses
  // after free: with a small one, RSS shows what the frontend itself keeps. Leaks are
  // still checked at exit.
  options.frontend_env = {{"ASAN_OPTIONS", "detect_leaks=1:quarantine_size_mb=1"}};
#endif
  return options;
}

TEST(HostileClientTest, TenThousandConnectionsDroppedBeforeTheHandshakeLeaveNoTrace) {
  Stack stack(RssOptions());
  ASSERT_TRUE(stack.started()) << stack.logs();
  WsClient control;
  ASSERT_TRUE(control.Connect(stack.ws_port(), "/messaging/" + stack.FullToken()).upgraded);
  ASSERT_TRUE(RoundTripWorks(control, 0));
  const int pid = stack.frontend().process().pid();
  const long baseline = RssKib(pid);

  int refused = 0;
  for (int i = 0; i < 10000; ++i) {
    RawConnection connection(stack.ws_port());
    if (!connection.connected()) {
      ++refused;
      continue;
    }
    // Some say half a request first; all go away without finishing.
    if (i % 2 == 0) connection.Send("GET /messaging/");
    if (i % 1000 == 999) {
      ASSERT_TRUE(RoundTripWorks(control, i));
    }
  }
  EXPECT_EQ(refused, 0);
  // Every dropped connection's memory comes back.
  long rss = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        rss = RssKib(pid);
        return rss <= baseline + 8 * 1024;
      },
      seconds(20)))
      << "RSS " << baseline << " KiB before, " << rss << " KiB after";
  EXPECT_TRUE(RoundTripWorks(control, 10001));
  std::printf("ws-frontend RSS: %ld KiB before 10000 dropped connections, %ld KiB after\n",
              baseline, rss);
}

TEST(HostileClientTest, OneLargeFrameDoesNotPinItsSizeForTheConnectionsLife) {
  Stack stack(RssOptions());
  ASSERT_TRUE(stack.started()) << stack.logs();
  const int pid = stack.frontend().process().pid();
  constexpr int kConnections = 300;
  const std::string token = stack.FullToken();
  // A valid frame of 60 KB (a ping with padding the frontend ignores): read in pieces,
  // it must still be parsed whole and answered.
  const std::string large =
      absl::StrCat(R"({"type":"ping","id":"big","pad":")", std::string(60'000, 'x'), R"("})");
  auto connect_and_send_large = [&]() -> std::unique_ptr<WsClient> {
    auto client = std::make_unique<WsClient>();
    if (!client->Connect(stack.ws_port(), "/messaging/" + token).upgraded) {
      ADD_FAILURE() << "not upgraded";
      return {};
    }
    if (!client->SendText(large)) {
      ADD_FAILURE() << "not sent";
      return {};
    }
    std::optional<boost::json::object> answer = client->ReceiveJson();
    if (!answer || FrameString(*answer, "type") != "pong" || FrameString(*answer, "id") != "big") {
      ADD_FAILURE() << (answer ? boost::json::serialize(*answer) : "no answer");
      return {};
    }
    return client;
  };
  // The first large frame warms up what any of them needs (parser, allocator arenas).
  std::unique_ptr<WsClient> first = connect_and_send_large();
  ASSERT_NE(first, nullptr);
  const long baseline = RssKib(pid);

  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(connect_and_send_large());
    ASSERT_NE(clients.back(), nullptr) << "connection " << i;
  }
  // Kept, each connection's 60 KB read buffer would add ~19 MiB; let go, the 300 idle
  // connections cost what idle connections cost.
  const long rss = RssKib(pid);
  EXPECT_LT(rss - baseline, 8 * 1024)
      << "RSS " << baseline << " KiB before, " << rss << " KiB after";
  EXPECT_TRUE(RoundTripWorks(*clients.back(), 1));
  std::printf(
      "ws-frontend RSS: %ld KiB before %d connections that each sent a 60 KB frame, %ld "
      "KiB after\n",
      baseline, kConnections, rss);
}

}  // namespace
}  // namespace nb::testing
