#include "device-service/src/drivers/alink_codec.h"

#include "boost/json/parse.hpp"
#include "common/status.h"
#include "device-service/src/fleet.h"
#include "gtest/gtest.h"

namespace nb::device::alink {
namespace {

using northbound::common::v1::ErrorCode;

std::shared_ptr<const ThingModel> Model() {
  absl::StatusOr<Fleet> fleet = ParseFleet(R"(
products:
  - key: p
    properties:
      - {id: temperature, type: float, min: -40, max: 125, access: rw}
      - {id: label, type: string, max_length: 8, access: rw}
    functions:
      - id: calibrate
        inputs: [{id: reference, type: float, required: true}]
        outputs: [{id: offset, type: float}]
    events:
      - id: overheat
        fields: [{id: temperature, type: float}]
)",
                                           "fleet.yaml");
  EXPECT_TRUE(fleet.ok()) << fleet.status();
  return fleet->products[0];
}

TEST(AlinkCodecTest, TopicsAreClassified) {
  auto topic = ParseTopic("/sys/p/d1/thing/event/property/post");
  ASSERT_TRUE(topic);
  EXPECT_EQ(topic->product_key, "p");
  EXPECT_EQ(topic->device_key, "d1");
  EXPECT_EQ(topic->kind, TopicKind::kPropertyPost);
  EXPECT_EQ(ParseTopic("/sys/p/d1/thing/event/overheat/post")->kind, TopicKind::kEventPost);
  EXPECT_EQ(ParseTopic("/sys/p/d1/thing/event/overheat/post")->name, "overheat");
  EXPECT_EQ(ParseTopic("/sys/p/d1/thing/service/property/get_reply")->name, "property/get");
  EXPECT_EQ(ParseTopic("/sys/p/d1/thing/service/calibrate_reply")->name, "calibrate");
  EXPECT_EQ(ParseTopic("/sys/p/d1/thing/service/calibrate")->kind, TopicKind::kOwnRequest);
  EXPECT_EQ(ParseTopic("/sys/p/d1/thing/status")->kind, TopicKind::kStatus);
  EXPECT_EQ(ParseTopic("/sys/p/d1/thing/event/property/post_reply")->kind, TopicKind::kOther);
  EXPECT_FALSE(ParseTopic("/device/p/d1/online"));
  EXPECT_FALSE(ParseTopic("/sys/p//thing/status"));
  EXPECT_FALSE(ParseTopic("/sys/p/d1/other/status"));
}

TEST(AlinkCodecTest, RequestsCarryTheMessageIdAndMethod) {
  Command read;
  read.type = devicepb::READ_PROPERTY;
  read.message_id = "m-1";
  read.properties = {"temperature", "label"};
  EXPECT_EQ(RequestTopic("p", "d1", read), "/sys/p/d1/thing/service/property/get");
  EXPECT_EQ(EncodeRequest(read),
            R"({"id":"m-1","version":"1.0","sys":{"ack":1},"params":["temperature","label"],)"
            R"("method":"thing.service.property.get"})");
  Command invoke;
  invoke.type = devicepb::INVOKE_FUNCTION;
  invoke.message_id = "m-2";
  invoke.function_id = "calibrate";
  (*invoke.inputs.mutable_fields())["reference"].set_number_value(20.5);
  EXPECT_EQ(RequestTopic("p", "d1", invoke), "/sys/p/d1/thing/service/calibrate");
  const auto request = boost::json::parse(EncodeRequest(invoke)).as_object();
  EXPECT_EQ(request.at("method").as_string(), "thing.service.calibrate");
  EXPECT_EQ(request.at("params").at("reference").as_double(), 20.5);
}

TEST(AlinkCodecTest, RepliesBecomeAnswersCheckedAgainstTheModel) {
  auto model = Model();
  Command read;
  read.type = devicepb::READ_PROPERTY;
  read.properties = {"temperature"};
  auto reply =
      DecodeReply(R"({"id":"m-1","code":200,"data":{"temperature":{"value":21.5,"time":1}}})");
  ASSERT_TRUE(reply.ok()) << reply.status();
  DeviceAnswer answer = AnswerFromReply(*model, read, *reply);
  ASSERT_TRUE(answer.status.ok()) << answer.status;
  EXPECT_EQ(answer.payload.fields().at("temperature").number_value(), 21.5);

  reply = DecodeReply(R"({"id":"m-1","code":200,"data":{}})");
  EXPECT_EQ(ErrorCodeOf(AnswerFromReply(*model, read, *reply).status), ErrorCode::DEVICE_ERROR);
  reply = DecodeReply(R"({"id":"m-1","code":200,"data":{"temperature":"warm"}})");
  EXPECT_EQ(ErrorCodeOf(AnswerFromReply(*model, read, *reply).status), ErrorCode::DEVICE_ERROR);
  reply = DecodeReply(R"({"id":"m-1","code":500,"message":"bus error"})");
  answer = AnswerFromReply(*model, read, *reply);
  EXPECT_EQ(ErrorCodeOf(answer.status), ErrorCode::DEVICE_ERROR);
  EXPECT_EQ(answer.status.message(), "bus error");

  Command write;
  write.type = devicepb::WRITE_PROPERTY;
  (*write.values.mutable_fields())["label"].set_string_value("lab");
  reply = DecodeReply(R"({"id":7,"code":200})");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->id, "7");
  answer = AnswerFromReply(*model, write, *reply);
  EXPECT_EQ(answer.payload.fields().at("label").string_value(), "lab");

  Command invoke;
  invoke.type = devicepb::INVOKE_FUNCTION;
  invoke.function_id = "calibrate";
  reply = DecodeReply(R"({"id":"m","code":200,"data":{"secret":1}})");
  EXPECT_EQ(ErrorCodeOf(AnswerFromReply(*model, invoke, *reply).status), ErrorCode::DEVICE_ERROR);
}

TEST(AlinkCodecTest, MalformedPayloadsAreErrorsNeverCrashes) {
  EXPECT_FALSE(DecodeReply("").ok());
  EXPECT_FALSE(DecodeReply("[1,2]").ok());
  EXPECT_FALSE(DecodeReply(R"({"code":200})").ok());
  EXPECT_FALSE(DecodeReply(R"({"id":"x","code":"200"})").ok());
  EXPECT_FALSE(DecodeReply(R"({"id":"x","code":200,"data":[1]})").ok());
  EXPECT_FALSE(DecodePost(R"({"id":"x","params":7})").ok());
  EXPECT_FALSE(DecodePost(std::string(100, '[') + std::string(100, ']')).ok());
  EXPECT_FALSE(DecodePost(std::string(kMaxPayloadBytes + 1, ' ')).ok());
  EXPECT_FALSE(DecodeStatus("maybe").ok());
  EXPECT_EQ(*DecodeStatus(R"({"status":"offline"})"), DeviceStatus::kOffline);
  EXPECT_EQ(*DecodeStatus("online"), DeviceStatus::kOnline);
}

TEST(AlinkCodecTest, ReportsKeepOnlyValidValuesAndEventsAreChecked) {
  auto model = Model();
  auto post = DecodePost(
      R"({"id":"1","sys":{"ack":1},"method":"thing.event.property.post","params":{"temperature":{"value":22,"time":5},"label":"far too long","ghost":1}})");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_TRUE(post->ack);
  CheckedReport report = CheckReport(*model, post->params);
  EXPECT_EQ(report.values.fields().size(), 1u);
  EXPECT_EQ(report.values.fields().at("temperature").number_value(), 22);
  EXPECT_EQ(report.problems.size(), 2u);
  const auto ack = boost::json::parse(EncodePostAck(*post)).as_object();
  EXPECT_EQ(ack.at("id").as_string(), "1");
  EXPECT_EQ(ack.at("code").as_int64(), 200);

  post = DecodePost(R"({"id":"2","params":{"value":{"temperature":99},"time":5}})");
  auto fields = CheckEvent(*model, "overheat", post->params);
  ASSERT_TRUE(fields.ok()) << fields.status();
  EXPECT_EQ(fields->fields().at("temperature").number_value(), 99);
  EXPECT_FALSE(CheckEvent(*model, "meltdown", post->params).ok());
  post = DecodePost(R"({"id":"3","params":{"temperature":"hot"}})");
  EXPECT_FALSE(CheckEvent(*model, "overheat", post->params).ok());
}

}  // namespace
}  // namespace nb::device::alink
