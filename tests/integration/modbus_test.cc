// The modbus driver end to end: a real Modbus TCP server (pymodbus, tests/peers/
// modbus_server.py), the three services, and a WebSocket client speaking the public
// protocol. A Modbus device answers on the same topics, with the same frames, as any other.
#include <fstream>

#include "absl/strings/str_replace.h"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"
#include "tests/support/modbus_peer.h"
#include "tests/support/ws_client.h"

namespace nb::testing {
namespace {

namespace json = boost::json;

constexpr char kFleet[] = R"(
products:
  - key: sagoo-product
    properties:
      - {id: temperature, type: double, min: -40, max: 125, access: rw}
      - {id: humidity, type: double, min: 0, max: 100, access: r}
devices:
  - key: plc1
    product: sagoo-product
    driver: modbus
    settings:
      endpoint: ENDPOINT
      poll_interval_ms: 200
      report_every_polls: 5
      registers:
        temperature: {table: holding, address: 0, type: int16, scale: 0.1}
        humidity: {table: input, address: 0, type: uint16, scale: 0.1}
)";

class ModbusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(peer_.Start()) << peer_.log();
    ASSERT_TRUE(peer_.Set(1, "input", 0, "uint16", 455));  // 45.5 %
    std::ofstream(dir_.File("fleet.yaml"))
        << absl::StrReplaceAll(kFleet, {{"ENDPOINT", peer_.endpoint()}});
    stack_ = std::make_unique<Stack>(StackOptions{.fleet = dir_.File("fleet.yaml")});
    ASSERT_TRUE(stack_->started()) << stack_->logs();
    ASSERT_TRUE(client_.Connect(stack_->ws_port(), "/messaging/" + stack_->FullToken()).upgraded);
  }

  TempDir dir_;
  ModbusPeer peer_{dir_.path()};
  std::unique_ptr<Stack> stack_;
  WsClient client_;
};

TEST_F(ModbusTest, TheSeedsWritePropertyExampleWritesTheRegister) {
  // The frame of the original protocol document, aimed at a Modbus device. The device may
  // still be connecting: CLIENT_OFFLINE until its first poll answers.
  std::vector<json::object> frames;
  ASSERT_TRUE(WaitFor(
      [&] {
        client_.SendText(R"({"id":"request-id","type":"sub",)"
                         R"("topic":"/device-message-sender/sagoo-product/plc1",)"
                         R"("parameter":{"meta":{"async":false},"messageType":"WRITE_PROPERTY",)"
                         R"("properties":{"temperature":20}}})");
        frames = UntilComplete(client_, "request-id");
        return !frames.empty() && FrameString(frames[0], "code") != "CLIENT_OFFLINE";
      },
      std::chrono::seconds(20)));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(FrameString(frames[0], "type"), "result") << json::serialize(frames[0]);
  EXPECT_EQ(FrameString(frames[0], "topic"), "/device-message-sender/sagoo-product/plc1");
  // Exactly the seed's answer.
  EXPECT_EQ(json::serialize(frames[0].at("payload")), R"({"temperature":20})");
  EXPECT_EQ(FrameString(frames[1], "type"), "complete");
  // The register holds 20 / 0.1, as the server reads it.
  EXPECT_EQ(peer_.Get(1, "holding", 0, "int16"), 200);

  // Reads and errors keep the protocol's shape.
  client_.SendText(R"({"id":"r","type":"sub","topic":"/device-message-sender/sagoo-product/plc1",)"
                   R"("parameter":{"messageType":"READ_PROPERTY","properties":["humidity"]}})");
  frames = UntilComplete(client_, "r");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_DOUBLE_EQ(frames[0].at("payload").at("humidity").to_number<double>(), 45.5)
      << json::serialize(frames[0]);
  client_.SendText(R"({"id":"w","type":"sub","topic":"/device-message-sender/sagoo-product/plc1",)"
                   R"("parameter":{"messageType":"WRITE_PROPERTY","properties":{"humidity":3}}})");
  frames = UntilComplete(client_, "w");
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(FrameString(frames[0], "code"), "READ_ONLY");
}

TEST_F(ModbusTest, PolledChangesArriveAsPropertyReports) {
  client_.SendText(R"({"id":"live","type":"sub",)"
                   R"("topic":"/device/sagoo-product/plc1/message/property/report"})");
  // The protocol does not acknowledge an event subscription: the first report (every
  // value every 5 polls) shows it is live. Changed before that, a value's one report
  // could pass before the subscription exists.
  std::optional<json::object> frame;
  ASSERT_TRUE(WaitFor(
      [&] {
        frame = client_.ReceiveJson();
        return frame && FrameString(*frame, "type") == "result";
      },
      std::chrono::seconds(20)))
      << "no report at all";
  // A value changed at the device is reported by the next poll.
  ASSERT_TRUE(peer_.Set(1, "input", 0, "uint16", 612));
  ASSERT_TRUE(WaitFor(
      [&] {
        frame = client_.ReceiveJson();
        if (!frame || !frame->contains("payload")) return false;
        const json::value* humidity = frame->at("payload").as_object().if_contains("humidity");
        return humidity != nullptr && humidity->to_number<double>() == 61.2;
      },
      std::chrono::seconds(20)))
      << "no report of humidity 61.2";
  EXPECT_EQ(FrameString(*frame, "topic"), "/device/sagoo-product/plc1/message/property/report");
}

}  // namespace
}  // namespace nb::testing
