// The command path without gRPC: dispatcher and registry over a driver the test steers
// (FakeDriver), so nothing here waits on simulated latencies or flapping devices.
#include <fstream>
#include <mutex>

#include "common/status.h"
#include "device-service/src/command_dispatcher.h"
#include "device-service/src/device_runtime.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/device/fake_driver.h"

namespace nb::device {
namespace {

using northbound::common::v1::ErrorCode;
using testing::FakeDriver;

constexpr char kFleet[] = R"(
products:
  - key: p
    properties:
      - {id: temperature, type: float, min: -40, max: 125, access: rw}
    functions:
      - id: slow
devices:
  - {key: a, product: p, driver: fake}
  - {key: b, product: p, driver: fake}
  - {key: off, product: p, driver: fake, settings: {online: false}}
  - {key: simulated, product: p, settings: {latency_ms: 1, functions: {slow: {latency_ms: 60000}}}}
)";

// Collects the replies of one Send.
class Collector {
 public:
  SendOperation::ReplyFn ReplyFn() {
    return [this](devicepb::SendReply reply) {
      std::lock_guard<std::mutex> lock(mu_);
      replies_.push_back(std::move(reply));
    };
  }
  SendOperation::DoneFn DoneFn() {
    return [this] {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    };
  }
  bool WaitDone() {
    return nb::testing::WaitFor([this] { return done(); }, std::chrono::seconds(10));
  }
  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  std::vector<devicepb::SendReply> replies() {
    std::lock_guard<std::mutex> lock(mu_);
    return replies_;
  }

 private:
  std::mutex mu_;
  std::vector<devicepb::SendReply> replies_;
  bool done_ = false;
};

DeviceAnswer Values(double temperature) {
  DeviceAnswer answer;
  (*answer.payload.mutable_fields())["temperature"].set_number_value(temperature);
  return answer;
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::AddFakeDriver(drivers_);
    AddBuiltinDrivers(drivers_);
    std::ofstream(dir_.File("fleet.yaml")) << kFleet;
    DeviceRuntimeOptions options;
    options.fleet_path = dir_.File("fleet.yaml");
    options.drivers = &drivers_;
    auto runtime = DeviceRuntime::Create(options, registry_);
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    runtime_ = *std::move(runtime);
    ASSERT_TRUE(runtime_->Start().ok());
    fake_ = static_cast<FakeDriver*>(runtime_->FindDriver("fake"));
    ASSERT_NE(fake_, nullptr);
  }

  devicepb::SendRequest Request(devicepb::MessageType type, std::vector<std::string> devices) {
    devicepb::SendRequest request;
    request.set_product_key("p");
    request.set_message_type(type);
    for (const auto& d : devices) request.add_device_keys(d);
    return request;
  }

  absl::StatusOr<std::shared_ptr<SendOperation>> Start(const devicepb::SendRequest& request,
                                                       Collector& collector) {
    return runtime_->dispatcher().Start(request, collector.ReplyFn(), collector.DoneFn());
  }

  DriverRegistry drivers_;
  nb::testing::TempDir dir_;
  prometheus::Registry registry_;
  std::unique_ptr<DeviceRuntime> runtime_;
  FakeDriver* fake_ = nullptr;
};

TEST_F(DispatcherTest, ReadAnswersPerDeviceWithCodes) {
  Collector collector;
  ASSERT_TRUE(Start(Request(devicepb::READ_PROPERTY, {"a", "off", "ghost", "a"}), collector).ok());
  std::optional<FakeDriver::Received> received = fake_->NextCommand();
  ASSERT_TRUE(received);
  EXPECT_EQ(received->command.properties, std::vector<std::string>{"temperature"});
  EXPECT_FALSE(collector.done());  // a has not answered yet.
  ASSERT_TRUE(fake_->Answer(received->command.message_id, Values(20.5)));
  ASSERT_TRUE(collector.WaitDone());
  std::map<std::string, devicepb::SendReply> by_device;
  for (const auto& reply : collector.replies()) by_device[reply.device_key()] = reply;
  ASSERT_EQ(collector.replies().size(), 3u);
  EXPECT_EQ(by_device["a"].code(), ErrorCode::ERROR_CODE_UNSPECIFIED);
  EXPECT_EQ(by_device["a"].payload().fields().at("temperature").number_value(), 20.5);
  EXPECT_EQ(by_device["a"].message_id(), received->command.message_id);
  EXPECT_EQ(by_device["off"].code(), ErrorCode::CLIENT_OFFLINE);
  EXPECT_EQ(by_device["ghost"].code(), ErrorCode::DEVICE_NOT_FOUND);
}

TEST_F(DispatcherTest, CommandCarriesItsDeadline) {
  Collector collector;
  devicepb::SendRequest request = Request(devicepb::READ_PROPERTY, {"a"});
  request.set_timeout_ms(5000);
  const auto before = std::chrono::steady_clock::now();
  ASSERT_TRUE(Start(request, collector).ok());
  std::optional<FakeDriver::Received> received = fake_->NextCommand();
  ASSERT_TRUE(received);
  EXPECT_GE(received->command.deadline, before + std::chrono::milliseconds(5000));
  EXPECT_LE(received->command.deadline,
            std::chrono::steady_clock::now() + std::chrono::milliseconds(5000));
  fake_->Answer(received->command.message_id, Values(1));
  ASSERT_TRUE(collector.WaitDone());
}

TEST_F(DispatcherTest, TimeoutAnswersTimeOutAndTheDriverForgetsTheCommand) {
  Collector collector;
  devicepb::SendRequest request = Request(devicepb::READ_PROPERTY, {"a"});
  request.set_timeout_ms(150);
  ASSERT_TRUE(Start(request, collector).ok());
  std::optional<FakeDriver::Received> received = fake_->NextCommand();
  ASSERT_TRUE(received);
  ASSERT_TRUE(collector.WaitDone());
  ASSERT_EQ(collector.replies().size(), 1u);
  EXPECT_EQ(collector.replies()[0].code(), ErrorCode::TIME_OUT);
  // Nothing is held for it any more, and a late answer has nowhere to go.
  ASSERT_TRUE(nb::testing::WaitFor(
      [&] { return fake_->forgotten().contains(received->command.message_id); },
      std::chrono::seconds(5)));
  EXPECT_EQ(fake_->holding(), 0u);
  EXPECT_FALSE(fake_->Answer(received->command.message_id, Values(1)));
  EXPECT_EQ(collector.replies().size(), 1u);
}

TEST_F(DispatcherTest, DevicesShareTheDeadlineAndOnlyTheSilentOneTimesOut) {
  Collector collector;
  devicepb::SendRequest request = Request(devicepb::READ_PROPERTY, {"a", "b"});
  request.set_timeout_ms(300);
  ASSERT_TRUE(Start(request, collector).ok());
  std::optional<FakeDriver::Received> first = fake_->NextCommand();
  std::optional<FakeDriver::Received> second = fake_->NextCommand();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->command.deadline, second->command.deadline);
  ASSERT_TRUE(fake_->Answer(first->command.message_id, Values(3)));
  // The answer goes out at once; the Send waits for the other device.
  ASSERT_TRUE(nb::testing::WaitFor([&] { return collector.replies().size() == 1; },
                                   std::chrono::seconds(5)));
  EXPECT_EQ(collector.replies()[0].code(), ErrorCode::ERROR_CODE_UNSPECIFIED);
  EXPECT_FALSE(collector.done());
  ASSERT_TRUE(collector.WaitDone());
  EXPECT_GE(std::chrono::steady_clock::now(), second->command.deadline);
  ASSERT_EQ(collector.replies().size(), 2u);
  EXPECT_EQ(collector.replies()[1].code(), ErrorCode::TIME_OUT);
  EXPECT_EQ(collector.replies()[1].message_id(), second->command.message_id);
  EXPECT_EQ(collector.replies()[1].message(), "device did not answer within 300 ms");
  ASSERT_TRUE(
      nb::testing::WaitFor([&] { return fake_->forgotten().contains(second->command.message_id); },
                           std::chrono::seconds(5)));
  EXPECT_FALSE(fake_->forgotten().contains(first->command.message_id));
}

TEST_F(DispatcherTest, ShorterDeadlineStartedLaterTimesOutFirst) {
  Collector slow;
  devicepb::SendRequest long_wait = Request(devicepb::READ_PROPERTY, {"a"});
  long_wait.set_timeout_ms(20'000);
  ASSERT_TRUE(Start(long_wait, slow).ok());
  std::optional<FakeDriver::Received> first = fake_->NextCommand();
  ASSERT_TRUE(first);

  Collector quick;
  devicepb::SendRequest short_wait = Request(devicepb::READ_PROPERTY, {"b"});
  short_wait.set_timeout_ms(200);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(Start(short_wait, quick).ok());
  ASSERT_TRUE(quick.WaitDone());
  // Its own deadline, not the earlier command's (which is 20 s away).
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  ASSERT_EQ(quick.replies().size(), 1u);
  EXPECT_EQ(quick.replies()[0].code(), ErrorCode::TIME_OUT);

  EXPECT_FALSE(slow.done());
  ASSERT_TRUE(fake_->Answer(first->command.message_id, Values(7)));
  ASSERT_TRUE(slow.WaitDone());
  ASSERT_EQ(slow.replies().size(), 1u);
  EXPECT_EQ(slow.replies()[0].code(), ErrorCode::ERROR_CODE_UNSPECIFIED);
}

TEST_F(DispatcherTest, AnsweredSendIsReleasedWithoutWaitingForItsDeadline) {
  Collector collector;
  devicepb::SendRequest request = Request(devicepb::READ_PROPERTY, {"a", "b"});
  request.set_timeout_ms(60'000);
  absl::StatusOr<std::shared_ptr<SendOperation>> operation = Start(request, collector);
  ASSERT_TRUE(operation.ok());
  std::weak_ptr<SendOperation> weak = *operation;
  operation->reset();
  for (int i = 0; i < 2; ++i) {
    std::optional<FakeDriver::Received> received = fake_->NextCommand();
    ASSERT_TRUE(received);
    ASSERT_TRUE(fake_->Answer(received->command.message_id, Values(i)));
  }
  ASSERT_TRUE(collector.WaitDone());
  // Its timer is stopped with the last reply, so nothing holds the operation for a minute.
  EXPECT_TRUE(nb::testing::WaitFor([&] { return weak.expired(); }, std::chrono::seconds(5)));
}

TEST_F(DispatcherTest, DeviceErrorAnswerKeepsItsMessage) {
  Collector collector;
  devicepb::SendRequest request = Request(devicepb::INVOKE_FUNCTION, {"a"});
  request.set_function_id("slow");
  ASSERT_TRUE(Start(request, collector).ok());
  std::optional<FakeDriver::Received> received = fake_->NextCommand();
  ASSERT_TRUE(received);
  EXPECT_EQ(received->command.function_id, "slow");
  fake_->Answer(received->command.message_id,
                {ErrorStatus(ErrorCode::DEVICE_ERROR, "it broke"), {}});
  ASSERT_TRUE(collector.WaitDone());
  ASSERT_EQ(collector.replies().size(), 1u);
  EXPECT_EQ(collector.replies()[0].code(), ErrorCode::DEVICE_ERROR);
  EXPECT_EQ(collector.replies()[0].message(), "it broke");
}

TEST_F(DispatcherTest, ConnectionDropBeforeAnswerIsNoReply) {
  Collector collector;
  ASSERT_TRUE(Start(Request(devicepb::READ_PROPERTY, {"a", "b"}), collector).ok());
  ASSERT_TRUE(fake_->NextCommand());
  ASSERT_TRUE(fake_->NextCommand());
  fake_->DropConnection();
  ASSERT_TRUE(collector.WaitDone());
  ASSERT_EQ(collector.replies().size(), 2u);
  for (const auto& reply : collector.replies()) EXPECT_EQ(reply.code(), ErrorCode::NO_REPLY);
}

TEST_F(DispatcherTest, OfflineDeviceIsClientOfflineWithoutReachingTheDriver) {
  fake_->SetOnline(runtime_->registry().FindDevice("p", "a")->index, false);
  Collector collector;
  ASSERT_TRUE(Start(Request(devicepb::READ_PROPERTY, {"a"}), collector).ok());
  ASSERT_TRUE(collector.WaitDone());
  ASSERT_EQ(collector.replies().size(), 1u);
  EXPECT_EQ(collector.replies()[0].code(), ErrorCode::CLIENT_OFFLINE);
  EXPECT_FALSE(runtime_->registry().FindDevice("p", "a")->online.load());
  EXPECT_EQ(fake_->holding(), 0u);
}

TEST_F(DispatcherTest, CancelForgetsEveryCommandAndSuppressesReplies) {
  Collector collector;
  devicepb::SendRequest request = Request(devicepb::READ_PROPERTY, {"a", "b"});
  request.set_timeout_ms(60000);
  auto operation = Start(request, collector);
  ASSERT_TRUE(operation.ok());
  std::optional<FakeDriver::Received> first = fake_->NextCommand();
  std::optional<FakeDriver::Received> second = fake_->NextCommand();
  ASSERT_TRUE(first && second);
  (*operation)->Cancel();
  EXPECT_EQ(fake_->forgotten(),
            (std::set<std::string>{first->command.message_id, second->command.message_id}));
  EXPECT_EQ(fake_->holding(), 0u);
  EXPECT_FALSE(fake_->Answer(first->command.message_id, Values(1)));
  EXPECT_TRUE(collector.replies().empty());
  EXPECT_FALSE(collector.done());
}

TEST_F(DispatcherTest, StopAnswersCommandsInFlightWithNoReply) {
  Collector fake_collector;
  ASSERT_TRUE(Start(Request(devicepb::READ_PROPERTY, {"a"}), fake_collector).ok());
  ASSERT_TRUE(fake_->NextCommand());
  // The simulated device takes a minute: only the driver's Stop can answer it in time.
  Collector sim_collector;
  devicepb::SendRequest slow = Request(devicepb::INVOKE_FUNCTION, {"simulated"});
  slow.set_function_id("slow");
  slow.set_timeout_ms(60000);
  ASSERT_TRUE(nb::testing::WaitFor(
      [&] { return runtime_->registry().FindDevice("p", "simulated")->online.load(); },
      std::chrono::seconds(5)));
  ASSERT_TRUE(Start(slow, sim_collector).ok());
  runtime_->Stop();
  // Stop returned: both answers are in, nothing more will come.
  EXPECT_TRUE(fake_->stopped());
  ASSERT_TRUE(fake_collector.done());
  ASSERT_EQ(fake_collector.replies().size(), 1u);
  EXPECT_EQ(fake_collector.replies()[0].code(), ErrorCode::NO_REPLY);
  ASSERT_TRUE(sim_collector.done());
  ASSERT_EQ(sim_collector.replies().size(), 1u);
  // Execute posted the command to the device's strand before Stop posted the stop there.
  EXPECT_EQ(sim_collector.replies()[0].code(), ErrorCode::NO_REPLY)
      << sim_collector.replies()[0].DebugString();
}

TEST_F(DispatcherTest, WholeRequestErrorsAreCoded) {
  Collector collector;
  devicepb::SendRequest request = Request(devicepb::READ_PROPERTY, {"a"});
  request.set_product_key("nope");
  EXPECT_EQ(ErrorCodeOf(Start(request, collector).status()), ErrorCode::PRODUCT_NOT_FOUND);
  request = Request(devicepb::READ_PROPERTY, {"a"});
  request.set_timeout_ms(50);
  EXPECT_EQ(ErrorCodeOf(Start(request, collector).status()), ErrorCode::PARAMETER_ERROR);
  request = Request(devicepb::MESSAGE_TYPE_UNSPECIFIED, {"a"});
  EXPECT_EQ(ErrorCodeOf(Start(request, collector).status()), ErrorCode::UNSUPPORTED_MESSAGE);
  request = Request(devicepb::READ_PROPERTY, {});
  EXPECT_EQ(ErrorCodeOf(Start(request, collector).status()), ErrorCode::PARAMETER_ERROR);
  request = Request(devicepb::READ_PROPERTY, {"a"});
  request.add_properties(std::string(60000, 'x'));
  absl::Status long_name = Start(request, collector).status();
  EXPECT_EQ(ErrorCodeOf(long_name), ErrorCode::PROPERTY_UNDEFINED);
  EXPECT_LT(long_name.message().size(), 200u) << "the name is echoed in full";
  EXPECT_TRUE(collector.replies().empty());
}

}  // namespace
}  // namespace nb::device
