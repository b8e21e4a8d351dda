// The WebSocket protocol itself (RFC 6455), byte by byte against the running stack: the
// handshake's answer and refusals, the close handshake from either side, the close codes of
// frames that break the protocol, and the server's pings of a quiet connection.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"
#include "tests/support/http_get.h"
#include "tests/support/raw_connection.h"

namespace nb::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string CloseBody(uint16_t code, const std::string& reason = "") {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + reason;
}

// Header names and values compared without case, as HTTP has them.
bool HasHeader(const std::string& head, const std::string& line) {
  return absl::StrContains(absl::AsciiStrToLower(head), absl::AsciiStrToLower(line));
}

std::optional<uint16_t> CloseCodeOf(const RawConnection::Frame& frame) {
  if (frame.opcode != 0x8 || frame.payload.size() < 2) return std::nullopt;
  return static_cast<uint16_t>((static_cast<uint8_t>(frame.payload[0]) << 8) |
                               static_cast<uint8_t>(frame.payload[1]));
}

// The next frame that is not one of the server's pings (a loaded machine may be slow
// enough for one).
std::optional<RawConnection::Frame> NextNotPing(RawConnection& connection) {
  std::optional<RawConnection::Frame> frame;
  do {
    frame = connection.NextFrame(seconds(10));
  } while (frame && frame->opcode == 0x9);
  return frame;
}

class WebsocketProtocolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new Stack({.frontend_flags = {"--idle_timeout_seconds=2"}});
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(stack_->started()) << stack_->logs(); }

  // A connection upgraded and authenticated: its JSON ping has had its pong.
  static std::unique_ptr<RawConnection> Upgraded() {
    auto connection = std::make_unique<RawConnection>(stack_->ws_port());
    EXPECT_TRUE(connection->Send(UpgradeRequest("/messaging/" + stack_->FullToken())));
    EXPECT_TRUE(connection->TakeUpgradeResponse(seconds(10))) << connection->received();
    EXPECT_TRUE(connection->Send(ClientFrame(0x1, true, R"({"type":"ping","id":"ready"})")));
    std::optional<RawConnection::Frame> pong = NextNotPing(*connection);
    EXPECT_TRUE(pong && pong->opcode == 0x1 && absl::StrContains(pong->payload, "pong"));
    return connection;
  }

  // Sends `bytes` on a fresh connection and expects a close frame with `code`, then the
  // end of the connection.
  static void ExpectClosedWith(const std::string& bytes, uint16_t code) {
    std::unique_ptr<RawConnection> connection = Upgraded();
    ASSERT_TRUE(connection->Send(bytes));
    std::optional<RawConnection::Frame> frame = NextNotPing(*connection);
    ASSERT_TRUE(frame.has_value()) << "no close frame";
    EXPECT_EQ(CloseCodeOf(*frame), code) << frame->opcode << " " << frame->payload;
    EXPECT_TRUE(connection->ClosedWithin(seconds(10))) << "the connection stayed open";
  }

  static Stack* stack_;
};

Stack* WebsocketProtocolTest::stack_ = nullptr;

// RFC 6455 §1.3's example key and its answer.
TEST_F(WebsocketProtocolTest, TheHandshakeAnswersWithTheStandardsAcceptKey) {
  RawConnection connection(stack_->ws_port());
  ASSERT_TRUE(connection.Send(UpgradeRequest("/messaging/" + stack_->FullToken())));
  ASSERT_TRUE(connection.TakeUpgradeResponse(seconds(10))) << connection.head();
  EXPECT_TRUE(absl::StrContains(connection.head(),
                                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
      << connection.head();
  EXPECT_TRUE(HasHeader(connection.head(), "Upgrade: websocket\r\n"));
  EXPECT_TRUE(HasHeader(connection.head(), "Connection: Upgrade\r\n"));
  // No extension was agreed: nothing but frames follow.
  EXPECT_FALSE(HasHeader(connection.head(), "Sec-WebSocket-Extensions"));
}

TEST_F(WebsocketProtocolTest, UpgradesWithAnotherVersionOrNoValidKeyAreRefused) {
  const std::string target = "/messaging/" + stack_->FullToken();
  RawConnection old_version(stack_->ws_port());
  ASSERT_TRUE(old_version.Send(UpgradeRequest(target, "", "8")));
  EXPECT_FALSE(old_version.TakeUpgradeResponse(seconds(10)));
  EXPECT_TRUE(old_version.head().starts_with("HTTP/1.1 426")) << old_version.head();
  EXPECT_TRUE(HasHeader(old_version.head(), "Sec-WebSocket-Version: 13\r\n"));

  for (const std::string key : {"", "c2hvcnQ=", "dGhlIHNhbXBsZSBub25j!!!!"}) {
    std::string request = UpgradeRequest(target);
    const std::string example = "dGhlIHNhbXBsZSBub25jZQ==";
    request.replace(request.find(example), example.size(), key);
    RawConnection connection(stack_->ws_port());
    ASSERT_TRUE(connection.Send(request));
    EXPECT_FALSE(connection.TakeUpgradeResponse(seconds(10))) << key;
    EXPECT_TRUE(connection.head().starts_with("HTTP/1.1 400")) << key << ": " << connection.head();
  }
}

// §5.5.1: the close is answered with the client's code, and then the server ends the TCP
// connection (§7.1.1).
TEST_F(WebsocketProtocolTest, TheClientsCloseIsAnsweredWithItsCodeAndTheConnectionEnds) {
  std::unique_ptr<RawConnection> connection = Upgraded();
  ASSERT_TRUE(connection->Send(ClientFrame(0x8, true, CloseBody(4000, "done here"))));
  std::optional<RawConnection::Frame> frame = NextNotPing(*connection);
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(CloseCodeOf(*frame), 4000);
  EXPECT_TRUE(connection->ClosedWithin(seconds(10)));

  // A close with no body is answered with one with no body.
  connection = Upgraded();
  ASSERT_TRUE(connection->Send(ClientFrame(0x8, true, "")));
  frame = NextNotPing(*connection);
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->opcode, 0x8);
  EXPECT_EQ(frame->payload, "");
  EXPECT_TRUE(connection->ClosedWithin(seconds(10)));
}

TEST_F(WebsocketProtocolTest, FramesThatBreakTheProtocolCloseWithItsCodes) {
  // Unmasked (§5.1), a reserved opcode, a fragmented ping (§5.5), a continuation of
  // nothing, a close code that never travels (§7.4.1): 1002.
  ExpectClosedWith(std::string("\x81\x02{}", 4), 1002);
  ExpectClosedWith(ClientFrame(0x3, true, "x"), 1002);
  ExpectClosedWith(ClientFrame(0x9, false, "x"), 1002);
  ExpectClosedWith(ClientFrame(0x0, true, "x"), 1002);
  ExpectClosedWith(ClientFrame(0x8, true, CloseBody(1005)), 1002);
  // Text that is not UTF-8 (§8.1): 1007.
  ExpectClosedWith(ClientFrame(0x1, true, "{\"type\":\"ping\",\"id\":\"\xc0\xaf\"}"), 1007);
  // Each counted by its code (this suite's stack has closed no other way with them).
  const int metrics_port = stack_->frontend().port("metrics_port");
  EXPECT_EQ(ScrapeMetric(metrics_port, R"(northbound_frontend_closes_total{code="1002"})"), 5);
  EXPECT_EQ(ScrapeMetric(metrics_port, R"(northbound_frontend_closes_total{code="1007"})"), 1);
}

// The server pings a quiet connection (a ping every half of --idle_timeout_seconds at most);
// a client that answers stays connected well past the timeout, one that does not is dropped.
TEST_F(WebsocketProtocolTest, QuietClientsArePingedAndKeptWhileTheyAnswer) {
  std::unique_ptr<RawConnection> answering = Upgraded();
  std::unique_ptr<RawConnection> silent = Upgraded();
  int pings = 0;
  const auto until = std::chrono::steady_clock::now() + seconds(6);
  while (std::chrono::steady_clock::now() < until) {
    std::optional<RawConnection::Frame> frame = answering->NextFrame(milliseconds(200));
    if (!frame) continue;
    ASSERT_EQ(frame->opcode, 0x9) << "not a ping: " << frame->payload;
    ++pings;
    ASSERT_TRUE(answering->Send(ClientFrame(0xA, true, frame->payload)));
  }
  EXPECT_GE(pings, 2);
  EXPECT_FALSE(answering->ClosedWithin(milliseconds(100)));
  std::unique_ptr<RawConnection> after = Upgraded();  // Still serving.
  // The silent one got its ping, and was dropped after it.
  std::optional<RawConnection::Frame> ping = silent->NextFrame(seconds(1));
  ASSERT_TRUE(ping.has_value());
  EXPECT_EQ(ping->opcode, 0x9);
  EXPECT_TRUE(silent->ClosedWithin(seconds(5)));
}

}  // namespace
}  // namespace nb::testing
