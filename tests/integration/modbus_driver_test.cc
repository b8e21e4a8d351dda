// The modbus driver in process, without gRPC: device-service's runtime (fleet, registry,
// dispatcher, driver) against a real Modbus TCP server (pymodbus) whose datastore the test
// sets through the peer, which lays values out on its own. Crosses no gRPC call, so
// ThreadSanitizer sees the driver's threads whole (label tsan).
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status.h"
#include "device-service/src/device_runtime.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/modbus_peer.h"
#include "tests/support/send_replies.h"
#include "tests/support/temp_dir.h"

namespace nb::device {
namespace {

using northbound::common::v1::ErrorCode;
using std::chrono::seconds;
using ::testing::HasSubstr;

using Replies = nb::testing::SendReplies;
// Every event the runtime publishes for product p.
class Events {
 public:
  explicit Events(EventBus& bus)
      : bus_(bus),
        subscription_(std::make_shared<Subscription>(*TopicPattern::Parse("/device/*/*/**"), 10000,
                                                     nullptr)) {
    bus_.Add(subscription_);
  }
  ~Events() { bus_.Remove(subscription_.get()); }

  // The next event whose topic ends with `suffix` and whose device is `device`.
  std::optional<devicepb::DeviceEvent> Next(const std::string& device, const std::string& suffix,
                                            std::chrono::milliseconds timeout = seconds(20)) {
    std::optional<devicepb::DeviceEvent> found;
    nb::testing::WaitFor(
        [&] {
          devicepb::DeviceEvent event;
          while (subscription_->Take(event)) {
            const std::string& topic = event.topic();
            if (event.device_key() == device && topic.size() >= suffix.size() &&
                topic.compare(topic.size() - suffix.size(), suffix.size(), suffix) == 0) {
              found = event;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

 private:
  EventBus& bus_;
  std::shared_ptr<Subscription> subscription_;
};

// The settings of devices a and g3, which differ in UNIT and POLL only.
constexpr char kMeter[] = R"(
      endpoint: ENDPOINT
      unit_id: UNIT
      poll_interval_ms: POLL
      timeout_ms: 300
      registers:
        i16: {table: holding, address: 0, type: int16}
        u16: {table: holding, address: 1, type: uint16}
        i32: {table: holding, address: 2, type: int32, word_order: little}
        u32: {table: holding, address: 4, type: uint32}
        i64: {table: holding, address: 6, type: int64}
        f32: {table: holding, address: 10, type: float32, byte_order: little}
        f64: {table: holding, address: 12, type: float64, word_order: little}
        temperature: {table: holding, address: 20, type: int16, scale: 0.1, offset: -40}
        voltage: {table: input, address: 0, type: float32, scale: 0.1}
        alarm: {table: discrete, address: 0}
        relay: {table: coil, address: 0}
      functions:
        reset: {writes: [{table: holding, address: 4, type: uint32, value: 0},
                         {table: coil, address: 0, value: false}]})";

constexpr char kFleet[] = R"(
products:
  - key: p
    properties:
      - {id: i16, type: int, access: rw}
      - {id: u16, type: int, access: rw}
      - {id: i32, type: int, access: rw}
      - {id: u32, type: long, access: rw}
      - {id: i64, type: long, access: rw}
      - {id: f32, type: float, access: rw}
      - {id: f64, type: double, access: rw}
      - {id: temperature, type: double, min: -40, max: 125, access: rw}
      - {id: voltage, type: double, min: 0, max: 480, access: r}
      - {id: alarm, type: bool, access: r}
      - {id: relay, type: bool, access: rw}
    functions:
      - id: reset
        outputs: [{id: u32, type: long}]
  - key: q
    properties:
      - {id: far, type: int, access: r}
drivers:
  modbus: {queue_limit: 2, reconnect_min_ms: 100, reconnect_max_ms: 400}
devices:
  - key: a
    product: p
    driver: modbus
    settings:
METER(1, 200)
  - key: g3
    product: p
    driver: modbus
    settings:
METER(3, 0)
  - key: broken
    product: q
    driver: modbus
    settings:
      endpoint: ENDPOINT
      unit_id: 1
      poll_interval_ms: 0
      registers:
        far: {table: holding, address: 5000}
)";

class ModbusDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(peer_.Start()) << peer_.log();
    const auto meter = [](const char* unit, const char* poll) {
      return absl::StrReplaceAll(kMeter, {{"UNIT", unit}, {"POLL", poll}});
    };
    const std::string fleet = absl::StrReplaceAll(
        absl::StrReplaceAll(
            kFleet, {{"METER(1, 200)", meter("1", "200")}, {"METER(3, 0)", meter("3", "0")}}),
        {{"ENDPOINT", peer_.endpoint()}});
    std::ofstream(dir_.File("fleet.yaml")) << fleet;
    DeviceRuntimeOptions options;
    options.fleet_path = dir_.File("fleet.yaml");
    auto runtime = DeviceRuntime::Create(options, metrics_);
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    runtime_ = *std::move(runtime);
    events_ = std::make_unique<Events>(runtime_->bus());
    ASSERT_TRUE(runtime_->Start().ok());
    for (auto [product_key, device_key] : {std::pair{"p", "a"}, {"p", "g3"}, {"q", "broken"}}) {
      const char* product = product_key;
      const char* key = device_key;
      ASSERT_TRUE(nb::testing::WaitFor(
          [&] { return runtime_->registry().FindDevice(product, key)->online.load(); },
          seconds(20)))
          << key << peer_.log();
    }
  }

  void TearDown() override {
    if (runtime_) runtime_->Stop();
    peer_.Resume();
  }

  std::vector<devicepb::SendReply> Send(const devicepb::SendRequest& request) {
    Replies replies;
    absl::StatusOr<std::shared_ptr<SendOperation>> operation =
        runtime_->dispatcher().Start(request, replies.ReplyFn(), replies.DoneFn());
    EXPECT_TRUE(operation.ok()) << operation.status();
    if (!operation.ok()) return {};
    EXPECT_TRUE(replies.WaitDone());
    return replies.get();
  }

  static devicepb::SendRequest Request(const std::string& product, const std::string& device,
                                       devicepb::MessageType type) {
    devicepb::SendRequest request;
    request.set_product_key(product);
    request.add_device_keys(device);
    request.set_message_type(type);
    return request;
  }

  devicepb::SendReply Read(const std::string& device, std::vector<std::string> properties = {},
                           const std::string& product = "p") {
    devicepb::SendRequest request = Request(product, device, devicepb::READ_PROPERTY);
    for (const std::string& id : properties) request.add_properties(id);
    std::vector<devicepb::SendReply> replies = Send(request);
    return replies.size() == 1 ? replies[0] : devicepb::SendReply();
  }

  devicepb::SendReply Write(const std::string& device, const google::protobuf::Struct& values) {
    devicepb::SendRequest request = Request("p", device, devicepb::WRITE_PROPERTY);
    *request.mutable_values() = values;
    std::vector<devicepb::SendReply> replies = Send(request);
    return replies.size() == 1 ? replies[0] : devicepb::SendReply();
  }

  static double Number(const devicepb::SendReply& reply, const std::string& id) {
    auto it = reply.payload().fields().find(id);
    if (it == reply.payload().fields().end()) return -1e300;
    return it->second.has_bool_value() ? it->second.bool_value() : it->second.number_value();
  }

  nb::testing::TempDir dir_;
  nb::testing::ModbusPeer peer_{dir_.path(), "1,3"};
  prometheus::Registry metrics_;
  std::unique_ptr<DeviceRuntime> runtime_;
  std::unique_ptr<Events> events_;
};

TEST_F(ModbusDriverTest, ReadsEveryTypeWordOrderAndScaleAsTheServerLaidThemOut) {
  ASSERT_TRUE(peer_.Set(1, "holding", 0, "int16", -1234));
  ASSERT_TRUE(peer_.Set(1, "holding", 1, "uint16", 65000));
  ASSERT_TRUE(peer_.Set(1, "holding", 2, "int32", -123456789, "little"));
  ASSERT_TRUE(peer_.Set(1, "holding", 4, "uint32", 4000000000));
  ASSERT_TRUE(peer_.Set(1, "holding", 6, "int64", -9007199254740991));
  ASSERT_TRUE(peer_.Set(1, "holding", 10, "float32", 21.5, "big", "little"));
  ASSERT_TRUE(peer_.Set(1, "holding", 12, "float64", -0.125, "little"));
  ASSERT_TRUE(peer_.Set(1, "holding", 20, "int16", 615));  // 615 * 0.1 - 40 = 21.5
  ASSERT_TRUE(peer_.Set(1, "input", 0, "float32", 2301));  // 230.1 V
  ASSERT_TRUE(peer_.Set(1, "discrete", 0, "bool", 1));
  ASSERT_TRUE(peer_.Set(1, "coil", 0, "bool", 1));

  const devicepb::SendReply reply = Read("a");
  ASSERT_EQ(reply.code(), ErrorCode::ERROR_CODE_UNSPECIFIED) << reply.message();
  EXPECT_EQ(Number(reply, "i16"), -1234);
  EXPECT_EQ(Number(reply, "u16"), 65000);
  EXPECT_EQ(Number(reply, "i32"), -123456789);
  EXPECT_EQ(Number(reply, "u32"), 4000000000);
  EXPECT_EQ(Number(reply, "i64"), -9007199254740991);
  EXPECT_EQ(Number(reply, "f32"), 21.5);
  EXPECT_EQ(Number(reply, "f64"), -0.125);
  EXPECT_DOUBLE_EQ(Number(reply, "temperature"), 21.5);
  EXPECT_DOUBLE_EQ(Number(reply, "voltage"), 230.1);
  EXPECT_TRUE(reply.payload().fields().at("alarm").bool_value());
  EXPECT_TRUE(reply.payload().fields().at("relay").bool_value());
}

TEST_F(ModbusDriverTest, WritesEveryWritableTypeAndAnswersWithTheValuesReadBack) {
  google::protobuf::Struct values;
  auto& fields = *values.mutable_fields();
  fields["i16"].set_number_value(-7);
  fields["i32"].set_number_value(70000);
  fields["i64"].set_number_value(1e15);
  fields["f32"].set_number_value(-3.5);
  fields["f64"].set_number_value(1234.5678);
  fields["temperature"].set_number_value(20);  // raw (20 + 40) / 0.1 = 600
  fields["relay"].set_bool_value(false);
  const devicepb::SendReply reply = Write("a", values);
  ASSERT_EQ(reply.code(), ErrorCode::ERROR_CODE_UNSPECIFIED) << reply.message();
  EXPECT_EQ(Number(reply, "i16"), -7);
  EXPECT_EQ(Number(reply, "i32"), 70000);
  EXPECT_EQ(Number(reply, "i64"), 1e15);
  EXPECT_EQ(Number(reply, "f32"), -3.5);
  EXPECT_EQ(Number(reply, "f64"), 1234.5678);
  EXPECT_DOUBLE_EQ(Number(reply, "temperature"), 20);
  EXPECT_EQ(Number(reply, "relay"), 0);
  // What the server holds, decoded by the server's side.
  EXPECT_EQ(peer_.Get(1, "holding", 0, "int16"), -7);
  EXPECT_EQ(peer_.Get(1, "holding", 2, "int32", "little"), 70000);
  EXPECT_EQ(peer_.Get(1, "holding", 6, "int64"), 1e15);
  EXPECT_EQ(peer_.Get(1, "holding", 10, "float32", "big", "little"), -3.5);
  EXPECT_EQ(peer_.Get(1, "holding", 12, "float64", "little"), 1234.5678);
  EXPECT_EQ(peer_.Get(1, "holding", 20, "int16"), 600);
  EXPECT_EQ(peer_.Get(1, "coil", 0, "bool"), 0);
  // A value that does not fit its register is refused, and nothing is written.
  google::protobuf::Struct too_big;
  (*too_big.mutable_fields())["u16"].set_number_value(70000);
  EXPECT_EQ(Write("a", too_big).code(), ErrorCode::PARAMETER_ERROR);
}

TEST_F(ModbusDriverTest, AGatewayServesTwoUnitsOverOneConnection) {
  ASSERT_TRUE(peer_.Set(1, "holding", 1, "uint16", 111));
  ASSERT_TRUE(peer_.Set(3, "holding", 1, "uint16", 333));
  devicepb::SendRequest request = Request("p", "a", devicepb::READ_PROPERTY);
  request.add_device_keys("g3");
  request.add_properties("u16");
  std::vector<devicepb::SendReply> replies = Send(request);
  ASSERT_EQ(replies.size(), 2u);
  for (const devicepb::SendReply& reply : replies) {
    EXPECT_EQ(Number(reply, "u16"), reply.device_key() == "a" ? 111 : 333) << reply.DebugString();
  }
}

TEST_F(ModbusDriverTest, AnIllegalAddressIsADeviceErrorNamingTheException) {
  const devicepb::SendReply reply = Read("broken", {}, "q");
  EXPECT_EQ(reply.code(), ErrorCode::DEVICE_ERROR);
  EXPECT_THAT(reply.message(), HasSubstr("Modbus exception 2"));
  EXPECT_THAT(reply.message(), HasSubstr("Illegal data address"));
  // The unit answered: it stays online, and so do the others.
  EXPECT_TRUE(runtime_->registry().FindDevice("q", "broken")->online.load());
  EXPECT_EQ(Read("a", {"u16"}).code(), ErrorCode::ERROR_CODE_UNSPECIFIED);
}

TEST_F(ModbusDriverTest, InvokeRunsTheConfiguredWritesInOrder) {
  ASSERT_TRUE(peer_.Set(1, "holding", 4, "uint32", 15207));
  ASSERT_TRUE(peer_.Set(1, "coil", 0, "bool", 1));
  devicepb::SendRequest request = Request("p", "a", devicepb::INVOKE_FUNCTION);
  request.set_function_id("reset");
  std::vector<devicepb::SendReply> replies = Send(request);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].code(), ErrorCode::ERROR_CODE_UNSPECIFIED) << replies[0].message();
  EXPECT_EQ(Number(replies[0], "u32"), 0);
  EXPECT_EQ(peer_.Get(1, "holding", 4, "uint32"), 0);
  EXPECT_EQ(peer_.Get(1, "coil", 0, "bool"), 0);
}

TEST_F(ModbusDriverTest, PollingReportsOnlyWhatChanged) {
  // Let the first polls' reports pass, then change one value.
  ASSERT_TRUE(events_->Next("a", "/message/property/report"));
  ASSERT_TRUE(peer_.Set(1, "input", 0, "float32", 2222));
  std::optional<devicepb::DeviceEvent> report;
  do {
    report = events_->Next("a", "/message/property/report");
    ASSERT_TRUE(report) << "no report of the new voltage";
  } while (report->payload().fields().count("voltage") == 0);
  EXPECT_DOUBLE_EQ(report->payload().fields().at("voltage").number_value(), 222.2);
  EXPECT_EQ(report->payload().fields_size(), 1) << report->DebugString();
  // Five more polls of a steady device: no report.
  EXPECT_FALSE(events_->Next("a", "/message/property/report", std::chrono::milliseconds(1000)));
}

TEST_F(ModbusDriverTest, ASilentServerTimesOutThenGoesOfflineAndComesBack) {
  peer_.Pause();
  devicepb::SendRequest request = Request("p", "g3", devicepb::READ_PROPERTY);
  request.add_properties("u16");
  std::vector<devicepb::SendReply> replies = Send(request);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].code(), ErrorCode::TIME_OUT) << replies[0].message();
  ASSERT_TRUE(events_->Next("a", "/offline")) << "a polled device goes offline";
  EXPECT_EQ(Read("a", {"u16"}).code(), ErrorCode::CLIENT_OFFLINE);
  peer_.Resume();
  ASSERT_TRUE(events_->Next("a", "/online"));
  EXPECT_EQ(Read("a", {"u16"}).code(), ErrorCode::ERROR_CODE_UNSPECIFIED);
}

TEST_F(ModbusDriverTest, AServerRestartedMidPollIsReconnected) {
  peer_.Kill();
  ASSERT_TRUE(events_->Next("a", "/offline"));
  ASSERT_TRUE(peer_.Start()) << peer_.log();
  ASSERT_TRUE(peer_.Set(1, "holding", 1, "uint16", 4242));
  ASSERT_TRUE(events_->Next("a", "/online"));
  const devicepb::SendReply reply = Read("a", {"u16"});
  EXPECT_EQ(reply.code(), ErrorCode::ERROR_CODE_UNSPECIFIED) << reply.message();
  EXPECT_EQ(Number(reply, "u16"), 4242);
}

TEST_F(ModbusDriverTest, AFullQueueRefusesAtOnceWithDeviceBusy) {
  // The server stops answering: the first command waits on the wire, two wait in the queue
  // (queue_limit 2), the rest are refused without waiting.
  peer_.Pause();
  std::vector<std::unique_ptr<Replies>> all;
  for (int i = 0; i < 6; ++i) {
    devicepb::SendRequest request = Request("p", "g3", devicepb::READ_PROPERTY);
    request.add_properties("u16");
    request.set_timeout_ms(10000);
    auto replies = std::make_unique<Replies>();
    ASSERT_TRUE(runtime_->dispatcher().Start(request, replies->ReplyFn(), replies->DoneFn()).ok());
    all.push_back(std::move(replies));
  }
  int busy = 0;
  for (auto& replies : all) {
    ASSERT_TRUE(replies->WaitDone());
    ASSERT_EQ(replies->get().size(), 1u);
    if (replies->get()[0].code() == ErrorCode::DEVICE_BUSY) ++busy;
  }
  // The first went out at once (a poll of a may hold the line before it, taking one more).
  EXPECT_GE(busy, 2);
  EXPECT_LE(busy, 4);
}

TEST_F(ModbusDriverTest, StopAnswersCommandsInFlightWithNoReply) {
  peer_.Pause();
  Replies replies;
  devicepb::SendRequest request = Request("p", "g3", devicepb::READ_PROPERTY);
  request.set_timeout_ms(60000);
  ASSERT_TRUE(runtime_->dispatcher().Start(request, replies.ReplyFn(), replies.DoneFn()).ok());
  runtime_->Stop();
  // Stop returned: the answer is in and nothing more will come.
  ASSERT_TRUE(replies.WaitDone());
  ASSERT_EQ(replies.get().size(), 1u);
  EXPECT_THAT(replies.get()[0].code(), ::testing::AnyOf(ErrorCode::NO_REPLY, ErrorCode::TIME_OUT));
}

}  // namespace
}  // namespace nb::device
