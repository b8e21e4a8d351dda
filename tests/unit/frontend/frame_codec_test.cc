#include "ws-frontend/src/frame_codec.h"

#include "boost/json/parse.hpp"
#include "common/event_json.h"
#include "gtest/gtest.h"

namespace nb::frontend {
namespace {

namespace json = boost::json;
using northbound::common::v1::ErrorCode;

FrameError ErrorOf(const std::string& text) {
  auto parsed = ParseClientFrame(text);
  EXPECT_TRUE(std::holds_alternative<FrameError>(parsed)) << text;
  return std::holds_alternative<FrameError>(parsed) ? std::get<FrameError>(parsed) : FrameError{};
}

ClientFrame FrameOf(const std::string& text) {
  auto parsed = ParseClientFrame(text);
  EXPECT_TRUE(std::holds_alternative<ClientFrame>(parsed))
      << text << ": "
      << (std::holds_alternative<FrameError>(parsed) ? std::get<FrameError>(parsed).message : "");
  return std::holds_alternative<ClientFrame>(parsed) ? std::get<ClientFrame>(parsed)
                                                     : ClientFrame{};
}

TEST(FrameCodecTest, SubWithParameterAndUnknownFieldsIgnored) {
  const ClientFrame frame = FrameOf(
      R"({"id":"r1","type":"sub","topic":"/device/p/d/online","parameter":{"a":1},"extra":true})");
  const SubFrame& sub = std::get<SubFrame>(frame);
  EXPECT_EQ(sub.id, "r1");
  EXPECT_EQ(sub.topic, "/device/p/d/online");
  EXPECT_EQ(sub.parameter.at("a").as_int64(), 1);
}

TEST(FrameCodecTest, UnsubAndPing) {
  EXPECT_EQ(std::get<UnsubFrame>(FrameOf(R"({"type":"unsub","id":"r1"})")).id, "r1");
  EXPECT_FALSE(std::get<PingFrame>(FrameOf(R"({"type":"ping"})")).id.has_value());
  EXPECT_EQ(*std::get<PingFrame>(FrameOf(R"({"type":"ping","id":"p"})")).id, "p");
}

TEST(FrameCodecTest, MalformedJsonAndNonObjects) {
  EXPECT_EQ(ErrorOf("{").code, ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorOf("").code, ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorOf("[]").code, ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorOf("\"sub\"").code, ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorOf("{} trailing").code, ErrorCode::PARAMETER_ERROR);
}

TEST(FrameCodecTest, DeepNestingIsRefusedNotRecursed) {
  const std::string deep = R"({"type":"sub","id":"x","topic":"/t","parameter":)" +
                           std::string(10000, '[') + std::string(10000, ']') + "}";
  EXPECT_EQ(ErrorOf(deep).code, ErrorCode::PARAMETER_ERROR);
}

TEST(FrameCodecTest, NonUtf8IsAParameterError) {
  EXPECT_EQ(ErrorOf("{\"type\":\"ping\",\"id\":\"\xff\xfe\"}").code, ErrorCode::PARAMETER_ERROR);
}

TEST(FrameCodecTest, IdRules) {
  const FrameError missing = ErrorOf(R"({"type":"sub","topic":"/t"})");
  EXPECT_EQ(missing.code, ErrorCode::PARAMETER_ERROR);
  EXPECT_FALSE(missing.id.has_value());
  const FrameError huge =
      ErrorOf(R"({"type":"sub","id":")" + std::string(129, 'x') + R"(","topic":"/t"})");
  EXPECT_EQ(huge.code, ErrorCode::PARAMETER_ERROR);
  EXPECT_FALSE(huge.id.has_value()) << "an oversized id is not echoed";
  EXPECT_EQ(ErrorOf(R"({"type":"sub","id":42,"topic":"/t"})").code, ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorOf(R"({"type":"sub","id":"","topic":"/t"})").code, ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(std::get<SubFrame>(
                FrameOf(R"({"type":"sub","id":")" + std::string(128, 'x') + R"(","topic":"/t"})"))
                .id.size(),
            128u);
  EXPECT_EQ(ErrorOf(R"({"type":"unsub"})").code, ErrorCode::PARAMETER_ERROR);
}

TEST(FrameCodecTest, TypeRules) {
  EXPECT_EQ(ErrorOf(R"({"id":"x"})").code, ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorOf(R"({"id":"x","type":7})").code, ErrorCode::PARAMETER_ERROR);
  const FrameError unknown = ErrorOf(R"({"id":"x","type":"publish"})");
  EXPECT_EQ(unknown.code, ErrorCode::UNSUPPORTED_MESSAGE);
  EXPECT_EQ(unknown.id, "x");
  EXPECT_FALSE(unknown.is_sub);
}

TEST(FrameCodecTest, SubWithBadTopicOrParameterKeepsIdForTheComplete) {
  const FrameError no_topic = ErrorOf(R"({"type":"sub","id":"s"})");
  EXPECT_TRUE(no_topic.is_sub);
  EXPECT_EQ(no_topic.id, "s");
  const FrameError bad_parameter =
      ErrorOf(R"({"type":"sub","id":"s","topic":"/t","parameter":[1]})");
  EXPECT_TRUE(bad_parameter.is_sub);
  EXPECT_EQ(bad_parameter.topic, "/t");
}

TEST(FrameCodecTest, ServerFramesCarryIdTwiceAndReadableNumbers) {
  EXPECT_EQ(CompleteFrame("r1", "/t"),
            R"({"type":"complete","id":"r1","requestId":"r1","topic":"/t"})");
  EXPECT_EQ(PongFrame(std::nullopt), R"({"type":"pong"})");
  EXPECT_EQ(PongFrame("p"), R"({"type":"pong","id":"p","requestId":"p"})");
  EXPECT_EQ(AuthErrorFrame("invalid token"), R"({"type":"authError","message":"invalid token"})");
  EXPECT_EQ(
      ErrorFrame("e", "/t", ErrorCode::TIME_OUT, "late"),
      R"({"type":"error","id":"e","requestId":"e","topic":"/t","code":"TIME_OUT","message":"late"})");
  EXPECT_EQ(ErrorFrame(std::nullopt, std::nullopt, ErrorCode::PARAMETER_ERROR, "bad"),
            R"({"type":"error","code":"PARAMETER_ERROR","message":"bad"})");
  northbound::device::v1::DeviceEvent event;
  event.set_topic("/t");
  event.set_device_key("device1");
  event.set_timestamp_ms(1764134400000);
  auto& payload = *event.mutable_payload()->mutable_fields();
  payload["temperature"].set_number_value(20.5);
  payload["count"].set_number_value(2.0);
  payload["tiny"].set_number_value(1e-7);
  EXPECT_EQ(DeviceEventFrame("r1", event),
            R"({"type":"result","id":"r1","requestId":"r1","topic":"/t","deviceId":"device1",)"
            R"("timestamp":1764134400000,"payload":{"count":2,"temperature":20.5,"tiny":1e-07}})");
}

TEST(FrameCodecTest, DeviceRepliesBecomeResultsOrDeviceErrors) {
  northbound::device::v1::SendReply reply;
  reply.set_device_key("device1");
  reply.set_message_id("m-1");
  reply.set_timestamp_ms(1764134400000);
  (*reply.mutable_payload()->mutable_fields())["temperature"].set_number_value(20.5);
  EXPECT_EQ(
      SendReplyFrame("r1", "sagoo-product", reply),
      R"({"type":"result","id":"r1","requestId":"r1","topic":"/device-message-sender/sagoo-product/device1",)"
      R"("deviceId":"device1","messageId":"m-1","timestamp":1764134400000,"payload":{"temperature":20.5}})");
  reply.clear_payload();
  reply.set_async(true);
  EXPECT_NE(SendReplyFrame("r1", "sagoo-product", reply).find(R"("async":true,"payload":{})"),
            std::string::npos);
  reply.set_code(ErrorCode::CLIENT_OFFLINE);
  reply.set_message("device is offline");
  EXPECT_EQ(
      SendReplyFrame("r1", "p", reply),
      R"({"type":"error","id":"r1","requestId":"r1","topic":"/device-message-sender/p/device1",)"
      R"("deviceId":"device1","code":"CLIENT_OFFLINE","message":"device is offline"})");
}

TEST(FrameCodecTest, EventsCarryTheActualTopicAndWhatWasDropped) {
  northbound::device::v1::DeviceEvent event;
  event.set_topic("/device/p/d1/message/function/reply");
  event.set_device_key("d1");
  event.set_message_id("m-2");
  event.set_timestamp_ms(5);
  event.set_code(ErrorCode::DEVICE_ERROR);
  event.set_message("broken");
  event.set_dropped_before(3);
  EXPECT_EQ(
      DeviceEventFrame("e", event),
      R"({"type":"result","id":"e","requestId":"e","dropped":3,"topic":"/device/p/d1/message/function/reply",)"
      R"("deviceId":"d1","messageId":"m-2","timestamp":5,"code":"DEVICE_ERROR","message":"broken",)"
      R"("payload":{}})");
}

TEST(FrameCodecTest, AnEventRenderedByDeviceServiceMakesTheSameFrame) {
  northbound::device::v1::DeviceEvent event;
  event.set_topic("/device/p/d\"1/message/property/report");
  event.set_device_key("d\"1");
  event.set_timestamp_ms(1764134400000);
  (*event.mutable_payload()->mutable_fields())["temperature"].set_number_value(20.5);
  northbound::device::v1::JsonEvent json;
  nb::AppendEventMembers(*json.mutable_members(), event);
  EXPECT_EQ(JsonEventFrame("s1", json), DeviceEventFrame("s1", event));
  EXPECT_EQ(
      JsonEventFrame("s1", json),
      R"({"type":"result","id":"s1","requestId":"s1","topic":"/device/p/d\"1/message/property/report",)"
      R"("deviceId":"d\"1","timestamp":1764134400000,"payload":{"temperature":20.5}})");

  event.set_dropped_before(7);
  json.set_dropped_before(7);
  EXPECT_EQ(JsonEventFrame("s1", json), DeviceEventFrame("s1", event));
  EXPECT_EQ(json::parse(JsonEventFrame("s1", json)).at("dropped"), 7);
}

TEST(FrameCodecTest, StringsAreEscaped) {
  EXPECT_EQ(
      ErrorFrame("a\"b", std::nullopt, ErrorCode::PARAMETER_ERROR, "line\nbreak"),
      R"({"type":"error","id":"a\"b","requestId":"a\"b","code":"PARAMETER_ERROR","message":"line\nbreak"})");
}

TEST(FrameCodecTest, JsonAndStructRoundTrip) {
  const json::value original = json::parse(R"({"a":1,"b":[true,null,"x"],"c":{"d":2.5}})");
  const google::protobuf::Struct proto = ToProtoStruct(original.as_object());
  EXPECT_EQ(Serialize(ToJson(proto)), Serialize(original));
}

}  // namespace
}  // namespace nb::frontend
