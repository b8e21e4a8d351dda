// The command path without gRPC: dispatcher, registry and simulated devices.
#include "device-service/src/command_dispatcher.h"

#include <fstream>

#include <mutex>
#include "common/status.h"
#include "device-service/src/device_runtime.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace nb::device {
namespace {

using northbound::common::v1::ErrorCode;

constexpr char kFleet[] = R"(
products:
  - key: p
    properties:
      - {id: temperature, type: float, min: -40, max: 125, access: rw}
    functions:
      - id: slow
      - id: broken
devices:
  - {key: fast, product: p, settings: {latency_ms: 5, initial: {temperature: 20.5},
                                       functions: {slow: {latency_ms: 5000}, broken: {fail: "it broke"}}}}
  - {key: off, product: p, settings: {online: false}}
  - {key: flappy, product: p, settings: {latency_ms: 5, flap_interval_ms: 300,
                                         functions: {slow: {latency_ms: 5000}}}}
)";

// Collects the replies of one Send.
class Collector {
 public:
  SendOperation::ReplyFn ReplyFn() {
    return [this](pb::SendReply reply) {
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
    return testing::WaitFor(
        [this] {
          std::lock_guard<std::mutex> lock(mu_);
          return done_;
        },
        std::chrono::seconds(10));
  }
  std::vector<pb::SendReply> replies() {
    std::lock_guard<std::mutex> lock(mu_);
    return replies_;
  }

 private:
  std::mutex mu_;
  std::vector<pb::SendReply> replies_;
  bool done_ = false;
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("fleet.yaml")) << kFleet;
    DeviceRuntimeOptions options;
    options.fleet_path = dir_.File("fleet.yaml");
    auto runtime = DeviceRuntime::Create(options, registry_);
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    runtime_ = *std::move(runtime);
    ASSERT_TRUE(runtime_->Start().ok());
    ASSERT_TRUE(testing::WaitFor([&] { return runtime_->registry().FindDevice("p", "fast")->online.load(); },
                                 std::chrono::seconds(5)));
  }

  pb::SendRequest Request(pb::MessageType type, std::vector<std::string> devices) {
    pb::SendRequest request;
    request.set_product_key("p");
    request.set_message_type(type);
    for (const auto& d : devices) request.add_device_keys(d);
    return request;
  }

  testing::TempDir dir_;
  prometheus::Registry registry_;
  std::unique_ptr<DeviceRuntime> runtime_;
};

TEST_F(DispatcherTest, ReadAnswersPerDeviceWithCodes) {
  Collector collector;
  auto operation = runtime_->dispatcher().Start(
      Request(pb::READ_PROPERTY, {"fast", "off", "ghost", "fast"}), collector.ReplyFn(),
      collector.DoneFn());
  ASSERT_TRUE(operation.ok()) << operation.status();
  ASSERT_TRUE(collector.WaitDone());
  std::map<std::string, pb::SendReply> by_device;
  for (const auto& reply : collector.replies()) by_device[reply.device_key()] = reply;
  ASSERT_EQ(collector.replies().size(), 3u);
  EXPECT_EQ(by_device["fast"].code(), ErrorCode::ERROR_CODE_UNSPECIFIED);
  EXPECT_EQ(by_device["fast"].payload().fields().at("temperature").number_value(), 20.5);
  EXPECT_FALSE(by_device["fast"].message_id().empty());
  EXPECT_EQ(by_device["off"].code(), ErrorCode::CLIENT_OFFLINE);
  EXPECT_EQ(by_device["ghost"].code(), ErrorCode::DEVICE_NOT_FOUND);
}

TEST_F(DispatcherTest, SlowDeviceTimesOut) {
  Collector collector;
  pb::SendRequest request = Request(pb::INVOKE_FUNCTION, {"fast"});
  request.set_function_id("slow");
  request.set_timeout_ms(150);
  ASSERT_TRUE(runtime_->dispatcher().Start(request, collector.ReplyFn(), collector.DoneFn()).ok());
  ASSERT_TRUE(collector.WaitDone());
  ASSERT_EQ(collector.replies().size(), 1u);
  EXPECT_EQ(collector.replies()[0].code(), ErrorCode::TIME_OUT);
}

TEST_F(DispatcherTest, FailingFunctionIsADeviceError) {
  Collector collector;
  pb::SendRequest request = Request(pb::INVOKE_FUNCTION, {"fast"});
  request.set_function_id("broken");
  ASSERT_TRUE(runtime_->dispatcher().Start(request, collector.ReplyFn(), collector.DoneFn()).ok());
  ASSERT_TRUE(collector.WaitDone());
  ASSERT_EQ(collector.replies().size(), 1u);
  EXPECT_EQ(collector.replies()[0].code(), ErrorCode::DEVICE_ERROR);
  EXPECT_EQ(collector.replies()[0].message(), "it broke");
}

TEST_F(DispatcherTest, ConnectionDropBeforeAnswerIsNoReply) {
  // flappy goes offline every 300 ms; a 5 s function cannot finish before that.
  ASSERT_TRUE(testing::WaitFor(
      [&] { return runtime_->registry().FindDevice("p", "flappy")->online.load(); },
      std::chrono::seconds(5)));
  Collector collector;
  pb::SendRequest request = Request(pb::INVOKE_FUNCTION, {"flappy"});
  request.set_function_id("slow");
  request.set_timeout_ms(3000);
  ASSERT_TRUE(runtime_->dispatcher().Start(request, collector.ReplyFn(), collector.DoneFn()).ok());
  ASSERT_TRUE(collector.WaitDone());
  ASSERT_EQ(collector.replies().size(), 1u);
  // Dispatch may race with the device going offline: then it is CLIENT_OFFLINE.
  EXPECT_TRUE(collector.replies()[0].code() == ErrorCode::NO_REPLY ||
              collector.replies()[0].code() == ErrorCode::CLIENT_OFFLINE)
      << collector.replies()[0].DebugString();
}

TEST_F(DispatcherTest, CancelStopsOutstandingWaitsAndSuppressesReplies) {
  Collector collector;
  pb::SendRequest request = Request(pb::INVOKE_FUNCTION, {"fast"});
  request.set_function_id("slow");
  request.set_timeout_ms(200);
  auto operation = runtime_->dispatcher().Start(request, collector.ReplyFn(), collector.DoneFn());
  ASSERT_TRUE(operation.ok());
  (*operation)->Cancel();
  // Without the cancel, a TIME_OUT reply would come after 200 ms.
  EXPECT_FALSE(testing::WaitFor([&] { return !collector.replies().empty(); },
                                std::chrono::milliseconds(800)));
}

TEST_F(DispatcherTest, WholeRequestErrorsAreCoded) {
  Collector collector;
  pb::SendRequest request = Request(pb::READ_PROPERTY, {"fast"});
  request.set_product_key("nope");
  EXPECT_EQ(ErrorCodeOf(runtime_->dispatcher().Start(request, collector.ReplyFn(), collector.DoneFn()).status()),
            ErrorCode::PRODUCT_NOT_FOUND);
  request = Request(pb::READ_PROPERTY, {"fast"});
  request.set_timeout_ms(50);
  EXPECT_EQ(ErrorCodeOf(runtime_->dispatcher().Start(request, collector.ReplyFn(), collector.DoneFn()).status()),
            ErrorCode::PARAMETER_ERROR);
  request = Request(pb::MESSAGE_TYPE_UNSPECIFIED, {"fast"});
  EXPECT_EQ(ErrorCodeOf(runtime_->dispatcher().Start(request, collector.ReplyFn(), collector.DoneFn()).status()),
            ErrorCode::UNSUPPORTED_MESSAGE);
  request = Request(pb::READ_PROPERTY, {});
  EXPECT_EQ(ErrorCodeOf(runtime_->dispatcher().Start(request, collector.ReplyFn(), collector.DoneFn()).status()),
            ErrorCode::PARAMETER_ERROR);
}

}  // namespace
}  // namespace nb::device
