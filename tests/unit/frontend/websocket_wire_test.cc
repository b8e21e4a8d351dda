#include "ws-frontend/src/websocket_wire.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/raw_connection.h"

namespace nb::frontend {
namespace {

using nb::testing::ClientFrame;

struct Got {
  WsOpcode opcode;
  std::string payload;
  std::optional<uint16_t> close_code;
};

// Feeds `bytes` in pieces of `piece` bytes (all at once for 0) and collects what the reader
// hands over, as long as it has not failed.
std::vector<Got> ReadAll(WebsocketReader& reader, std::string bytes, size_t piece = 0) {
  std::vector<Got> got;
  size_t at = 0;
  while (at < bytes.size() && !reader.failure()) {
    const size_t size = piece == 0 ? bytes.size() - at : std::min(piece, bytes.size() - at);
    // A piece of its own, as a read would deliver it.
    std::string chunk = bytes.substr(at, size);
    size_t used = 0;
    while (used < chunk.size() || used == 0) {
      std::optional<WebsocketReader::Message> message;
      const size_t took = reader.Read(chunk.data() + used, chunk.size() - used, message);
      used += took;
      if (message) {
        got.push_back({message->opcode, std::string(message->payload), message->close_code});
      }
      if (reader.failure() || (!message && took == 0)) break;
    }
    at += size;
  }
  return got;
}

uint16_t FailureOf(std::string bytes, size_t max = 1024) {
  WebsocketReader reader(max);
  ReadAll(reader, std::move(bytes));
  return reader.failure() ? reader.failure()->close_code : 0;
}

// RFC 6455 §1.3's example.
TEST(WebsocketWireTest, AcceptKeyIsTheStandardsExample) {
  EXPECT_EQ(WebsocketAcceptFor("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(IsWebsocketKey("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_FALSE(IsWebsocketKey(""));
  EXPECT_FALSE(IsWebsocketKey("dGhlIHNhbXBsZSBub25jZQ"));    // Unpadded, 22 characters.
  EXPECT_FALSE(IsWebsocketKey("dGhlIHNhbXBsZSBub25jZSE="));  // 17 bytes.
  EXPECT_FALSE(IsWebsocketKey("dGhlIHNhbXBsZSBub25j!!!!"));  // Not base64.
}

// §5.7: "A single-frame masked text message", byte for byte; then the same bytes one at
// a time.
TEST(WebsocketWireTest, TheStandardsMaskedHelloIsReadWholeOrByteByByte) {
  const std::string hello("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  for (size_t piece : {0, 1, 3}) {
    WebsocketReader reader(1024);
    const std::vector<Got> got = ReadAll(reader, hello, piece);
    ASSERT_EQ(got.size(), 1u) << piece;
    EXPECT_EQ(got[0].opcode, WsOpcode::kText);
    EXPECT_EQ(got[0].payload, "Hello");
    EXPECT_FALSE(reader.failure());
    EXPECT_FALSE(reader.in_message());
  }
}

// A message in three fragments with a ping between them (§5.4, §5.5); then an empty message
// and a 70 000-byte one (a 64-bit length), each one message, in every piece size.
TEST(WebsocketWireTest, FragmentsJoinAroundControlFramesInAnyPieces) {
  const std::string big(70000, 'b');
  const std::string bytes =
      ClientFrame(0x1, false, "{\"type\":") + ClientFrame(0x9, true, "are you there") +
      ClientFrame(0x0, false, "\"ping\"") + ClientFrame(0x0, true, "}") +
      ClientFrame(0x1, true, "") + ClientFrame(0x2, true, big) + ClientFrame(0xA, true, "");
  for (size_t piece : {0, 1, 2, 7, 100, 4096}) {
    WebsocketReader reader(100000);
    const std::vector<Got> got = ReadAll(reader, bytes, piece);
    ASSERT_FALSE(reader.failure()) << piece << ": " << reader.failure()->reason;
    ASSERT_EQ(got.size(), 5u) << piece;
    EXPECT_EQ(got[0].opcode, WsOpcode::kPing);
    EXPECT_EQ(got[0].payload, "are you there");
    EXPECT_EQ(got[1].opcode, WsOpcode::kText);
    EXPECT_EQ(got[1].payload, "{\"type\":\"ping\"}");
    EXPECT_EQ(got[2].opcode, WsOpcode::kText);
    EXPECT_EQ(got[2].payload, "");
    EXPECT_EQ(got[3].opcode, WsOpcode::kBinary);
    EXPECT_EQ(got[3].payload, big);
    EXPECT_EQ(got[4].opcode, WsOpcode::kPong);
  }
}

TEST(WebsocketWireTest, CloseFramesCarryTheirCodeAndReason) {
  WebsocketReader reader(1024);
  std::vector<Got> got =
      ReadAll(reader, ClientFrame(0x8, true, std::string("\x03\xe8", 2) + "bye"));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].opcode, WsOpcode::kClose);
  EXPECT_EQ(got[0].close_code, 1000);
  EXPECT_EQ(got[0].payload, "bye");

  WebsocketReader empty(1024);
  got = ReadAll(empty, ClientFrame(0x8, true, ""));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].opcode, WsOpcode::kClose);
  EXPECT_FALSE(got[0].close_code.has_value());

  // Applications' codes are allowed.
  WebsocketReader app(1024);
  got = ReadAll(app, ClientFrame(0x8, true, std::string("\x0f\xa0", 2)));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].close_code, 4000);
}

TEST(WebsocketWireTest, FramesThatBreakTheProtocolFailWithTheirCloseCode) {
  std::string unmasked("\x81\x05Hello", 7);
  EXPECT_EQ(FailureOf(unmasked), 1002);
  std::string reserved = ClientFrame(0x1, true, "x");
  reserved[0] = static_cast<char>(reserved[0] | 0x40);
  EXPECT_EQ(FailureOf(reserved), 1002);
  EXPECT_EQ(FailureOf(ClientFrame(0x3, true, "x")), 1002);
  EXPECT_EQ(FailureOf(ClientFrame(0xB, true, "x")), 1002);
  EXPECT_EQ(FailureOf(ClientFrame(0x9, false, "x")), 1002);                   // Fragmented ping.
  EXPECT_EQ(FailureOf(ClientFrame(0x9, true, std::string(126, 'p'))), 1002);  // Long ping.
  EXPECT_EQ(FailureOf(ClientFrame(0x0, true, "x")), 1002);  // Nothing to continue.
  EXPECT_EQ(FailureOf(ClientFrame(0x1, false, "a") + ClientFrame(0x1, true, "b")), 1002);
  // A 16-bit length for 5 bytes.
  EXPECT_EQ(FailureOf(std::string("\x81\xfe\x00\x05\x00\x00\x00\x00", 8) + "Hello"), 1002);
  // Close bodies: one byte, a code that never travels, a code out of range.
  EXPECT_EQ(FailureOf(ClientFrame(0x8, true, "\x03")), 1002);
  EXPECT_EQ(FailureOf(ClientFrame(0x8, true, std::string("\x03\xed", 2))), 1002);  // 1005
  EXPECT_EQ(FailureOf(ClientFrame(0x8, true, std::string("\x03\xe7", 2))), 1002);  // 999
  EXPECT_EQ(FailureOf(ClientFrame(0x8, true, std::string("\x13\x88", 2))), 1002);  // 5000
  // Not UTF-8: a text message, a close reason.
  EXPECT_EQ(FailureOf(ClientFrame(0x1, true, "\xc0\xaf")), 1007);
  EXPECT_EQ(FailureOf(ClientFrame(0x1, false, "\xe2\x82") + ClientFrame(0x0, true, "\xac")), 0);
  EXPECT_EQ(FailureOf(ClientFrame(0x8, true, std::string("\x03\xe8\xff", 3))), 1007);
}

// The limit counts the whole message, and fails it from the header alone.
TEST(WebsocketWireTest, MessagesPastTheLimitFailWith1009BeforeTheirPayload) {
  EXPECT_EQ(FailureOf(ClientFrame(0x1, true, std::string(100, 'x')), 100), 0);
  EXPECT_EQ(FailureOf(ClientFrame(0x1, true, std::string(101, 'x')), 100), 1009);
  EXPECT_EQ(FailureOf(ClientFrame(0x1, false, std::string(60, 'x')) +
                          ClientFrame(0x0, true, std::string(41, 'x')),
                      100),
            1009);
  // Control frames do not count.
  EXPECT_EQ(FailureOf(ClientFrame(0x1, false, std::string(60, 'x')) +
                          ClientFrame(0x9, true, std::string(100, 'p')) +
                          ClientFrame(0x0, true, std::string(40, 'x')),
                      100),
            0);
  WebsocketReader reader(100);
  std::string header = ClientFrame(0x1, true, std::string(1000, 'x')).substr(0, 8);
  ReadAll(reader, header);
  ASSERT_TRUE(reader.failure());
  EXPECT_EQ(reader.failure()->close_code, 1009);
}

TEST(WebsocketWireTest, Utf8IsCheckedByTheStandardsRules) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("plain"));
  EXPECT_TRUE(IsUtf8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // κόσμε
  EXPECT_TRUE(IsUtf8("\xf0\x9f\x98\x80"));                              // U+1F600
  EXPECT_TRUE(IsUtf8("\xf4\x8f\xbf\xbf"));                              // U+10FFFF
  EXPECT_FALSE(IsUtf8("\xc0\xaf"));                                     // Overlong '/'.
  EXPECT_FALSE(IsUtf8("\xe0\x80\xaf"));                                 // Overlong, three bytes.
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));                                 // A surrogate.
  EXPECT_FALSE(IsUtf8("\xf4\x90\x80\x80"));                             // Past U+10FFFF.
  EXPECT_FALSE(IsUtf8("\xe2\x82"));                                     // Cut short.
  EXPECT_FALSE(IsUtf8("\x80"));                                         // A lone continuation byte.
  EXPECT_FALSE(IsUtf8("\xff"));
}

TEST(WebsocketWireTest, ServerCloseFramesCarryCodeAndReasonWithinAControlFrame) {
  EXPECT_EQ(ServerCloseFrame(1000, "bye"), std::string("\x88\x05\x03\xe8"
                                                       "bye",
                                                       7));
  EXPECT_EQ(ServerCloseFrame(std::nullopt, "ignored"), std::string("\x88\x00", 2));
  const std::string frame = ServerCloseFrame(4008, std::string(200, 'r'));
  EXPECT_EQ(frame.size(), 2u + 125u);
  EXPECT_EQ(static_cast<uint8_t>(frame[1]), 125);
}

// The examples of RFC 6455 §5.7, as text frames: the header is the standard's byte for byte.
TEST(WebsocketWireTest, ServerTextFramesAreUnmaskedWithTheShortestLength) {
  std::string out = "before";
  AppendServerTextFrame(out, "Hello");
  EXPECT_EQ(out, std::string("before\x81\x05Hello", 13));

  const std::string medium(256, 'm');
  out.clear();
  AppendServerTextFrame(out, medium);
  EXPECT_EQ(out.substr(0, 4), std::string("\x81\x7e\x01\x00", 4));
  EXPECT_EQ(out.substr(4), medium);

  const std::string large(65536, 'l');
  out.clear();
  AppendServerTextFrame(out, large);
  EXPECT_EQ(out.substr(0, 10), std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  EXPECT_EQ(out.size(), 10u + large.size());

  // The edges: 125 is the longest one-byte length, 65535 the longest 16-bit one.
  out.clear();
  AppendServerTextFrame(out, std::string(125, 'a'));
  EXPECT_EQ(out.substr(0, 2), std::string("\x81\x7d", 2));
  out.clear();
  AppendServerTextFrame(out, std::string(65535, 'a'));
  EXPECT_EQ(out.substr(0, 4), std::string("\x81\x7e\xff\xff", 4));
  EXPECT_EQ(out.size(), 4u + 65535);
}

}  // namespace
}  // namespace nb::frontend
