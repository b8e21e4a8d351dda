// The mqtt driver end to end: a real Mosquitto broker, MQTT devices played by Eclipse
// Paho's Python client (tests/peers/mqtt_device.py, written from the protocol), the three
// services, and a WebSocket client.
#include <signal.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"
#include "tests/support/http_get.h"
#include "tests/support/mosquitto.h"
#include "tests/support/seed_frames.h"
#include "tests/support/ws_client.h"

namespace nb::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kFleet[] = R"(
products:
  - key: sagoo-product
    properties:
      - {id: temperature, type: float, min: -40, max: 125, access: rw}
      - {id: humidity, type: float, min: 0, max: 100, access: r}
      - {id: label, type: string, max_length: 64, access: rw}
    functions:
      - id: calibrate
        inputs: [{id: reference, type: float, min: -40, max: 125, required: true}]
        outputs: [{id: reference, type: float}, {id: offset, type: float}]
    events:
      - id: overheat
        fields: [{id: temperature, type: float}]
drivers:
  mqtt:
    brokers:
      - name: local
        uri: URI
        reconnect_min_ms: 100
        reconnect_max_ms: 400
EXTRA_BROKER
devices:
  - {key: device1, product: sagoo-product, driver: mqtt}
  - {key: device2, product: sagoo-product, driver: mqtt}
  - {key: broken, product: sagoo-product, driver: mqtt}
  - {key: mute, product: sagoo-product, driver: mqtt}
  - {key: echo, product: sagoo-product, driver: mqtt}
)";

class MqttTest : public ::testing::Test {
 protected:
  // Broker, devices, then the stack. `broker_lines` are extra broker settings.
  void StartAll(const std::string& broker_lines = "", bool start_devices = true) {
    ASSERT_TRUE(broker_.Start()) << broker_.log();
    std::string fleet =
        absl::StrReplaceAll(kFleet, {{"URI", broker_.uri()}, {"EXTRA_BROKER\n", broker_lines}});
    std::ofstream(dir_.File("fleet.yaml")) << fleet;
    if (start_devices) StartDevices();
    StackOptions options;
    options.fleet = dir_.File("fleet.yaml");
    stack_ = std::make_unique<Stack>(options);
    ASSERT_TRUE(stack_->started()) << stack_->logs();
    if (start_devices) {
      ASSERT_TRUE(WaitFor(
          [&] {
            return Metric("northbound_device_devices_online{product=\"sagoo-product\"}") == 5;
          },
          seconds(20)))
          << stack_->logs();
    }
  }

  void StartDevices() {
    devices_ = std::make_unique<Process>(
        Process::Start({"/usr/bin/python3", NB_MQTT_DEVICE_PEER, "--port",
                        std::to_string(broker_.port()), "--product", "sagoo-product", "--devices",
                        "device1,device2,broken,mute,echo", "--behaviour", "broken=error500",
                        "--behaviour", "mute=silent", "--behaviour", "echo=twice"},
                       {}, dir_.File("devices.log")));
    ASSERT_TRUE(WaitFor(
        [&] { return ReadFile(dir_.File("devices.log")).find("ready") != std::string::npos; },
        seconds(20)))
        << ReadFile(dir_.File("devices.log")) << broker_.log();
  }

  double Metric(const std::string& sample) {
    return ScrapeMetric(stack_->device().port("metrics_port"), sample);
  }

  std::unique_ptr<WsClient> Connect() {
    auto client = std::make_unique<WsClient>();
    EXPECT_TRUE(client->Connect(stack_->ws_port(), "/messaging/" + stack_->FullToken()).upgraded);
    return client;
  }

  // One command: its frames before the complete, keyed by device.
  std::map<std::string, json::object> Command(WsClient& client, const std::string& devices,
                                              const std::string& parameter) {
    const std::string id = absl::StrCat("c", next_id_++);
    client.SendText(absl::StrCat(R"({"type":"sub","id":")", id,
                                 R"(","topic":"/device-message-sender/sagoo-product/)", devices,
                                 R"(","parameter":)", parameter, "}"));
    std::map<std::string, json::object> by_device;
    const auto frames = UntilComplete(client, id);
    EXPECT_FALSE(frames.empty());
    EXPECT_EQ(FrameString(frames.back(), "type"), "complete");
    for (size_t i = 0; i + 1 < frames.size(); ++i) {
      by_device[FrameString(frames[i], "deviceId")] = frames[i];
    }
    return by_device;
  }

  TempDir dir_;
  MosquittoBroker broker_{dir_.path()};
  std::unique_ptr<Process> devices_;
  std::unique_ptr<Stack> stack_;
  int next_id_ = 1;
};

std::string Code(const json::object& frame) { return FrameString(frame, "code"); }

double Number(const json::object& frame, const char* field) {
  return frame.at("payload").as_object().at(field).to_number<double>();
}

TEST_F(MqttTest, SeedExamplesVerbatimAgainstMqttDevices) {
  StartAll();
  auto client = Connect();
  client->SendText(kSeedReadProperty);
  auto frames = UntilComplete(*client, "request-id");
  ASSERT_EQ(frames.size(), 3u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(FrameString(frames[i], "type"), "result") << json::serialize(frames[i]);
    EXPECT_EQ(Number(frames[i], "temperature"), 21.5);
  }
  client->SendText(kSeedWriteProperty);
  frames = UntilComplete(*client, "request-id");
  ASSERT_EQ(frames.size(), 3u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(FrameString(frames[i], "type"), "result") << json::serialize(frames[i]);
    EXPECT_EQ(json::serialize(frames[i].at("payload")), R"({"temperature":20})");
  }
  // The device kept the written value.
  auto read = Command(*client, "device1",
                      R"({"messageType":"READ_PROPERTY","properties":["temperature"]})");
  EXPECT_EQ(Number(read["device1"], "temperature"), 20);
  client->SendText(kSeedInvokeFunction);
  frames = UntilComplete(*client, "request-id");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(Code(frames[0]), "PARAMETER_ERROR");
}

TEST_F(MqttTest, InvokeAnswersAndADeviceFailureIsADeviceError) {
  StartAll();
  auto client = Connect();
  auto replies =
      Command(*client, "device1,broken", R"({"functionId":"calibrate","inputs":{"reference":25}})");
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(FrameString(replies["device1"], "type"), "result");
  EXPECT_EQ(Number(replies["device1"], "reference"), 25);
  EXPECT_EQ(Number(replies["device1"], "offset"), 0.25);
  EXPECT_EQ(Code(replies["broken"]), "DEVICE_ERROR");
  EXPECT_EQ(FrameString(replies["broken"], "message"), "device failure: sensor bus error");
  EXPECT_GE(Metric("northbound_mqtt_reply_latency_seconds_count"), 2);
}

TEST_F(MqttTest, SilentDeviceTimesOutAndNothingIsHeldAfterwards) {
  StartAll();
  auto client = Connect();
  auto replies = Command(
      *client, "mute",
      R"({"messageType":"READ_PROPERTY","properties":["temperature"],"meta":{"timeout":300}})");
  EXPECT_EQ(Code(replies["mute"]), "TIME_OUT");
  EXPECT_TRUE(
      WaitFor([&] { return Metric("northbound_mqtt_commands_in_flight") == 0; }, seconds(5)));
}

TEST_F(MqttTest, SecondAnswerToOneRequestIsCountedAndDropped) {
  StartAll();
  auto client = Connect();
  auto replies =
      Command(*client, "echo", R"({"messageType":"READ_PROPERTY","properties":["temperature"]})");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(FrameString(replies["echo"], "type"), "result");
  EXPECT_TRUE(
      WaitFor([&] { return Metric("northbound_mqtt_unmatched_replies_total") >= 1; }, seconds(5)));
  // The duplicate reached nobody: the next command gets exactly its own answer.
  replies =
      Command(*client, "echo", R"({"messageType":"READ_PROPERTY","properties":["temperature"]})");
  EXPECT_EQ(replies.size(), 1u);
}

TEST_F(MqttTest, ReportsAndEventsReachSubscribersAndInvalidOnesAreDropped) {
  StartAll();
  auto client = Connect();
  client->SendText(
      R"({"type":"sub","id":"r","topic":"/device/sagoo-product/device1/message/property/report"})");
  client->SendText(
      R"({"type":"sub","id":"e","topic":"/device/sagoo-product/device1/message/event/overheat"})");
  ASSERT_TRUE(WaitFor([&] { return Metric("northbound_device_subscriptions") == 2; }, seconds(5)));
  const std::string base = "/sys/sagoo-product/device1/thing/event/";
  // Undefined property, wrong type, out of range: none of these is forwarded.
  ASSERT_TRUE(broker_.Publish(
      base + "property/post",
      R"({"id":"1","version":"1.0","params":{"bogus":1},"method":"thing.event.property.post"})"));
  ASSERT_TRUE(broker_.Publish(
      base + "property/post",
      R"({"id":"2","version":"1.0","params":{"temperature":"hot"},"method":"thing.event.property.post"})"));
  ASSERT_TRUE(broker_.Publish(
      base + "property/post",
      R"({"id":"3","version":"1.0","params":{"temperature":999},"method":"thing.event.property.post"})"));
  ASSERT_TRUE(broker_.Publish(
      base + "property/post",
      R"({"id":"4","version":"1.0","params":{"temperature":{"value":30.5,"time":1700000000000}},"method":"thing.event.property.post"})"));
  ASSERT_TRUE(broker_.Publish(
      base + "overheat/post",
      R"({"id":"5","version":"1.0","params":{"temperature":99.5},"method":"thing.event.overheat.post"})"));
  std::map<std::string, json::object> by_id;
  while (by_id.size() < 2) {
    auto frame = client->ReceiveJson(seconds(10));
    ASSERT_TRUE(frame) << stack_->logs();
    ASSERT_EQ(FrameString(*frame, "type"), "result") << json::serialize(*frame);
    ASSERT_FALSE(by_id.contains(FrameString(*frame, "id"))) << json::serialize(*frame);
    by_id[FrameString(*frame, "id")] = *frame;
  }
  EXPECT_EQ(by_id["r"].at("payload").as_object().size(), 1u);
  EXPECT_EQ(Number(by_id["r"], "temperature"), 30.5);
  EXPECT_EQ(Number(by_id["e"], "temperature"), 99.5);
  EXPECT_EQ(Metric("northbound_mqtt_invalid_messages_total{reason=\"model\"}"), 3);
}

TEST_F(MqttTest, GarbageAndHugePayloadsAreCountedAndDropped) {
  StartAll();
  const std::string base = "/sys/sagoo-product/device1/thing/";
  ASSERT_TRUE(broker_.Publish(base + "event/property/post", "{not json"));
  ASSERT_TRUE(broker_.Publish(base + "event/property/post", std::string("\xff\xfe\x00\x01", 4)));
  ASSERT_TRUE(broker_.Publish(base + "event/property/post", std::string(1 << 20, '[')));
  ASSERT_TRUE(broker_.Publish(base + "service/property/get_reply", R"({"code":200})"));
  ASSERT_TRUE(broker_.Publish("/sys/sagoo-product/stranger/thing/event/property/post", "{}"));
  // Each publish is acknowledged by the broker, not yet delivered: wait for all five.
  auto dropped = [&](const char* reason) {
    return Metric(absl::StrCat("northbound_mqtt_invalid_messages_total{reason=\"", reason, "\"}"));
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        return dropped("json") == 3 && dropped("too_large") == 1 && dropped("unknown_device") == 1;
      },
      seconds(5)))
      << dropped("json") << " " << dropped("too_large") << " " << dropped("unknown_device");
  // Still serving, and the device still answers.
  auto client = Connect();
  auto replies =
      Command(*client, "device1", R"({"messageType":"READ_PROPERTY","properties":["humidity"]})");
  EXPECT_EQ(Number(replies["device1"], "humidity"), 40);
}

TEST_F(MqttTest, LastWillTakesDevicesOfflineAndCommandsGetClientOffline) {
  StartAll();
  auto client = Connect();
  client->SendText(R"({"type":"sub","id":"off","topic":"/device/sagoo-product/device1/offline"})");
  ASSERT_TRUE(WaitFor([&] { return Metric("northbound_device_subscriptions") == 1; }, seconds(5)));
  devices_->Kill();  // Every device's TCP connection drops: the broker publishes the Wills.
  auto frame = client->ReceiveJson(seconds(30));
  ASSERT_TRUE(frame) << broker_.log() << stack_->logs();
  EXPECT_EQ(FrameString(*frame, "topic"), "/device/sagoo-product/device1/offline");
  auto replies = Command(*client, "device1", R"({"messageType":"READ_PROPERTY"})");
  EXPECT_EQ(Code(replies["device1"]), "CLIENT_OFFLINE");
}

TEST_F(MqttTest, BrokerRestartMidCommandIsNoReplyThenDevicesComeBack) {
  StartAll();
  auto client = Connect();
  client->SendText(
      R"({"type":"sub","id":"slow","topic":"/device-message-sender/sagoo-product/mute","parameter":{"messageType":"READ_PROPERTY","meta":{"timeout":20000}}})");
  ASSERT_TRUE(
      WaitFor([&] { return Metric("northbound_mqtt_commands_in_flight") == 1; }, seconds(5)));
  broker_.Kill();
  auto frames = UntilComplete(*client, "slow");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(Code(frames[0]), "NO_REPLY");
  EXPECT_EQ(Metric("northbound_mqtt_broker_connected{broker=\"local\"}"), 0);
  auto replies = Command(*client, "device1", R"({"messageType":"READ_PROPERTY"})");
  EXPECT_EQ(Code(replies["device1"]), "CLIENT_OFFLINE");
  // The same broker comes back on the same port; device-service and the devices reconnect.
  ASSERT_TRUE(broker_.Start()) << broker_.log();
  ASSERT_TRUE(WaitFor(
      [&] { return Metric("northbound_device_devices_online{product=\"sagoo-product\"}") == 5; },
      seconds(30)))
      << stack_->logs() << ReadFile(dir_.File("devices.log"));
  replies =
      Command(*client, "device1", R"({"messageType":"READ_PROPERTY","properties":["humidity"]})");
  EXPECT_EQ(Number(replies["device1"], "humidity"), 40);
  EXPECT_GE(Metric("northbound_mqtt_reconnects_total{broker=\"local\"}"), 1);
  EXPECT_TRUE(stack_->device().process().running());
}

class MqttAuthTest : public MqttTest {
 protected:
  MqttAuthTest() { broker_ = MosquittoBroker(dir_.path(), "northbound", "right-password"); }
};

TEST_F(MqttAuthTest, WrongPasswordIsLoggedDevicesStayOfflineAndItRetries) {
  std::ofstream(dir_.File("mqtt-password")) << "wrong-password\n";
  StartAll(absl::StrCat("        username: northbound\n        password_file: ",
                        dir_.File("mqtt-password"), "\n"),
           /*start_devices=*/false);
  ASSERT_TRUE(
      WaitFor([&] { return Metric("northbound_mqtt_reconnects_total{broker=\"local\"}") >= 2; },
              seconds(10)));
  const std::string logs = stack_->device().log();
  EXPECT_NE(logs.find("mqtt broker refused the connection"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("wrong-password"), std::string::npos) << "the password is logged";
  auto client = Connect();
  auto replies = Command(*client, "device1", R"({"messageType":"READ_PROPERTY"})");
  EXPECT_EQ(Code(replies["device1"]), "CLIENT_OFFLINE");
  EXPECT_EQ(FrameString(replies["device1"], "message"),
            "device is offline: MQTT broker 'local' is not connected");
}

}  // namespace
}  // namespace nb::testing
