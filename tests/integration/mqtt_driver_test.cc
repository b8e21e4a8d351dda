// The mqtt driver in process, without gRPC: device-service's runtime (fleet, registry,
// dispatcher, driver) against a real Mosquitto and Paho devices. It crosses no gRPC call,
// so ThreadSanitizer sees the driver's threads whole (label tsan).
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "device-service/src/device_runtime.h"
#include "gtest/gtest.h"
#include "tests/support/mosquitto.h"
#include "tests/support/send_replies.h"
#include "tests/support/temp_dir.h"

namespace nb::device {
namespace {

using northbound::common::v1::ErrorCode;
using std::chrono::seconds;

using Replies = nb::testing::SendReplies;

class MqttDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.Start()) << broker_.log();
    devices_ = std::make_unique<nb::testing::Process>(nb::testing::Process::Start(
        {"/usr/bin/python3", NB_MQTT_DEVICE_PEER, "--port", std::to_string(broker_.port()),
         "--product", "p", "--devices", "a,b,mute", "--behaviour", "mute=silent"},
        {}, dir_.File("devices.log")));
    ASSERT_TRUE(nb::testing::WaitFor(
        [&] {
          return nb::testing::ReadFile(dir_.File("devices.log")).find("ready") != std::string::npos;
        },
        seconds(20)))
        << nb::testing::ReadFile(dir_.File("devices.log"));
    std::ofstream(dir_.File("fleet.yaml")) << absl::StrCat(R"(
products:
  - key: p
    properties:
      - {id: temperature, type: float, min: -40, max: 125, access: rw}
drivers:
  mqtt:
    brokers: [{name: local, uri: ")",
                                                           broker_.uri(), R"("}]
devices:
  - {key: a, product: p, driver: mqtt}
  - {key: b, product: p, driver: mqtt}
  - {key: mute, product: p, driver: mqtt}
)");
    DeviceRuntimeOptions options;
    options.fleet_path = dir_.File("fleet.yaml");
    auto runtime = DeviceRuntime::Create(options, metrics_);
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    runtime_ = *std::move(runtime);
    ASSERT_TRUE(runtime_->Start().ok());
    for (const char* key : {"a", "b", "mute"}) {
      ASSERT_TRUE(nb::testing::WaitFor(
          [&] { return runtime_->registry().FindDevice("p", key)->online.load(); }, seconds(20)))
          << key;
    }
  }

  devicepb::SendRequest Read(std::vector<std::string> devices, uint32_t timeout_ms = 0) {
    devicepb::SendRequest request;
    request.set_product_key("p");
    request.set_message_type(devicepb::READ_PROPERTY);
    for (const auto& d : devices) request.add_device_keys(d);
    request.set_timeout_ms(timeout_ms);
    return request;
  }

  // An unlabelled gauge of the runtime's registry, or -1.
  double Gauge(const std::string& name) {
    for (const auto& family : metrics_.Collect()) {
      if (family.name == name && !family.metric.empty()) return family.metric[0].gauge.value;
    }
    return -1;
  }

  nb::testing::TempDir dir_;
  nb::testing::MosquittoBroker broker_{dir_.path()};
  std::unique_ptr<nb::testing::Process> devices_;
  prometheus::Registry metrics_;
  std::unique_ptr<DeviceRuntime> runtime_;
};

TEST_F(MqttDriverTest, ConcurrentCommandsFromManyThreadsAreAnsweredOnce) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::unique_ptr<Replies>> all;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto replies = std::make_unique<Replies>();
        ASSERT_TRUE(runtime_->dispatcher()
                        .Start(Read({"a", "b"}), replies->ReplyFn(), replies->DoneFn())
                        .ok());
        std::lock_guard<std::mutex> lock(mu);
        all.push_back(std::move(replies));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (auto& replies : all) {
    ASSERT_TRUE(replies->WaitDone());
    ASSERT_EQ(replies->get().size(), 2u);
    for (const devicepb::SendReply& reply : replies->get()) {
      EXPECT_EQ(reply.code(), ErrorCode::ERROR_CODE_UNSPECIFIED) << reply.DebugString();
      EXPECT_EQ(reply.payload().fields().at("temperature").number_value(), 21.5);
    }
  }
}

TEST_F(MqttDriverTest, StopAnswersCommandsInFlightWithNoReply) {
  Replies replies;
  ASSERT_TRUE(runtime_->dispatcher()
                  .Start(Read({"mute"}, 60000), replies.ReplyFn(), replies.DoneFn())
                  .ok());
  ASSERT_TRUE(nb::testing::WaitFor([&] { return Gauge("northbound_mqtt_commands_in_flight") == 1; },
                                   seconds(5)));
  runtime_->Stop();
  // Stop returned: the answer is in and nothing more will come.
  ASSERT_TRUE(replies.WaitDone());
  ASSERT_EQ(replies.get().size(), 1u);
  EXPECT_EQ(replies.get()[0].code(), ErrorCode::NO_REPLY);
}

}  // namespace
}  // namespace nb::device
