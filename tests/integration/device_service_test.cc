// device-service over real gRPC: the binary started on free ports with a test fleet.
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "northbound/device/v1/device_service.grpc.pb.h"
#include "tests/integration/device_fixture.h"
#include "tests/support/http_get.h"
#include "tests/support/service.h"
#include "tests/support/temp_dir.h"

namespace nb::testing {
namespace {

namespace devicepb = northbound::device::v1;
using northbound::common::v1::ErrorCode;

class DeviceServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fixture_ = new DeviceServiceFixture(TestFleet(1000, 100)); }
  static void TearDownTestSuite() {
    // A clean exit on SIGTERM; under ASan this also fails on leaks.
    fixture_->service().process().Signal(SIGTERM);
    const std::optional<int> status = fixture_->service().process().Wait(std::chrono::seconds(10));
    EXPECT_EQ(status, std::optional<int>(0)) << fixture_->service().log();
    delete fixture_;
  }
  void SetUp() override { ASSERT_TRUE(fixture_->service().started()) << fixture_->service().log(); }

  devicepb::DeviceService::Stub& stub() { return fixture_->stub(); }
  static DeviceServiceFixture* fixture_;
};

DeviceServiceFixture* DeviceServiceTest::fixture_ = nullptr;

TEST_F(DeviceServiceTest, ReadOnTwoDevicesStreamsOneReplyPerDevice) {
  const SendResult result = Send(stub(), Read("demo", {"d1", "d2"}, {"temperature"}));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.replies.size(), 2u);
  std::map<std::string, double> temperatures;
  for (const auto& reply : result.replies) {
    EXPECT_EQ(reply.code(), ErrorCode::ERROR_CODE_UNSPECIFIED) << reply.message();
    EXPECT_FALSE(reply.message_id().empty());
    EXPECT_GT(reply.timestamp_ms(), 0);
    temperatures[reply.device_key()] = reply.payload().fields().at("temperature").number_value();
  }
  EXPECT_EQ(temperatures["d1"], 20.5);
  EXPECT_EQ(temperatures["d2"], 21.0);
}

TEST_F(DeviceServiceTest, WriteTakesEffectAndReadSeesIt) {
  devicepb::SendRequest write;
  write.set_product_key("demo");
  write.add_device_keys("d2");
  write.set_message_type(devicepb::WRITE_PROPERTY);
  (*write.mutable_values()->mutable_fields())["temperature"].set_number_value(33.5);
  const SendResult written = Send(stub(), write);
  ASSERT_EQ(written.replies.size(), 1u);
  EXPECT_EQ(written.replies[0].payload().fields().at("temperature").number_value(), 33.5);
  const SendResult read = Send(stub(), Read("demo", {"d2"}, {"temperature"}));
  ASSERT_EQ(read.replies.size(), 1u);
  EXPECT_EQ(read.replies[0].payload().fields().at("temperature").number_value(), 33.5);
}

TEST_F(DeviceServiceTest, InvalidCommandsAreRejectedWholeWithCodes) {
  SendResult result = Send(stub(), Read("nope", {"d1"}));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(result.code, ErrorCode::PRODUCT_NOT_FOUND);
  EXPECT_TRUE(result.replies.empty());

  result = Send(stub(), Read("demo", {"d1"}, {"colour"}));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(result.code, ErrorCode::PROPERTY_UNDEFINED);

  devicepb::SendRequest write;
  write.set_product_key("demo");
  write.add_device_keys("d1");
  write.set_message_type(devicepb::WRITE_PROPERTY);
  (*write.mutable_values()->mutable_fields())["humidity"].set_number_value(10);
  EXPECT_EQ(Send(stub(), write).code, ErrorCode::READ_ONLY);
  write.mutable_values()->clear_fields();
  (*write.mutable_values()->mutable_fields())["temperature"].set_number_value(1000);
  result = Send(stub(), write);
  EXPECT_EQ(result.code, ErrorCode::PARAMETER_ERROR);
  EXPECT_NE(result.status.error_message().find("at most 125"), std::string::npos);

  devicepb::SendRequest invoke;
  invoke.set_product_key("demo");
  invoke.add_device_keys("d1");
  invoke.set_message_type(devicepb::INVOKE_FUNCTION);
  invoke.set_function_id("reboot");
  EXPECT_EQ(Send(stub(), invoke).code, ErrorCode::FUNCTION_UNDEFINED);
}

TEST_F(DeviceServiceTest, PerDeviceFailuresComeAsReplies) {
  const SendResult result = Send(stub(), Read("demo", {"d1", "d3", "ghost"}));
  ASSERT_TRUE(result.status.ok());
  std::map<std::string, ErrorCode> codes;
  for (const auto& reply : result.replies) codes[reply.device_key()] = reply.code();
  EXPECT_EQ(codes.size(), 3u);
  EXPECT_EQ(codes["d1"], ErrorCode::ERROR_CODE_UNSPECIFIED);
  EXPECT_EQ(codes["d3"], ErrorCode::CLIENT_OFFLINE);
  EXPECT_EQ(codes["ghost"], ErrorCode::DEVICE_NOT_FOUND);
}

TEST_F(DeviceServiceTest, SlowDeviceTimesOut) {
  devicepb::SendRequest invoke;
  invoke.set_product_key("demo");
  invoke.add_device_keys("d1");
  invoke.add_device_keys("d2");
  invoke.set_message_type(devicepb::INVOKE_FUNCTION);
  invoke.set_function_id("slow");
  invoke.set_timeout_ms(300);
  const SendResult result = Send(stub(), invoke);
  ASSERT_TRUE(result.status.ok());
  std::map<std::string, ErrorCode> codes;
  for (const auto& reply : result.replies) codes[reply.device_key()] = reply.code();
  EXPECT_EQ(codes["d1"], ErrorCode::TIME_OUT);
  EXPECT_EQ(codes["d2"], ErrorCode::ERROR_CODE_UNSPECIFIED);  // d2's "slow" is not slow.
}

TEST_F(DeviceServiceTest, AsyncAcknowledgesAndTheAnswerGoesToTheReplyTopic) {
  grpc::ClientContext subscribe_context;
  devicepb::SubscribeRequest subscribe;
  subscribe.set_topic("/device/demo/d1/message/function/reply");
  auto events = stub().Subscribe(&subscribe_context, subscribe);
  // The subscription is live once the server has the call; a Send right after could
  // otherwise race it. Metadata arrives when the server accepted the stream.
  events->WaitForInitialMetadata();

  devicepb::SendRequest invoke;
  invoke.set_product_key("demo");
  invoke.add_device_keys("d1");
  invoke.set_message_type(devicepb::INVOKE_FUNCTION);
  invoke.set_function_id("echo");
  (*invoke.mutable_inputs()->mutable_fields())["text"].set_string_value("hi");
  invoke.set_async(true);
  const SendResult result = Send(stub(), invoke);
  ASSERT_EQ(result.replies.size(), 1u);
  EXPECT_TRUE(result.replies[0].async());
  EXPECT_TRUE(result.replies[0].payload().fields().empty());

  devicepb::DeviceEvent event;
  ASSERT_TRUE(events->Read(&event));
  EXPECT_EQ(event.kind(), devicepb::FUNCTION_REPLY);
  EXPECT_EQ(event.message_id(), result.replies[0].message_id());
  EXPECT_EQ(event.payload().fields().at("text").string_value(), "hi");
  subscribe_context.TryCancel();
  events->Finish();
}

TEST_F(DeviceServiceTest, OneSendReachesAThousandDevices) {
  devicepb::SendRequest request = Read("bulk", {});
  request.set_all_devices(true);
  const SendResult result = Send(stub(), request);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.replies.size(), 1000u);
  std::set<std::string> devices;
  for (const auto& reply : result.replies) {
    EXPECT_EQ(reply.code(), ErrorCode::ERROR_CODE_UNSPECIFIED);
    devices.insert(reply.device_key());
  }
  EXPECT_EQ(devices.size(), 1000u);
}

TEST_F(DeviceServiceTest, CancelMidStreamWithAThousandDevicesStopsEverything) {
  devicepb::SendRequest request;
  request.set_product_key("bulk");
  request.set_all_devices(true);
  request.set_message_type(devicepb::INVOKE_FUNCTION);
  request.set_function_id("slow");  // 3 s on every bulk device.
  grpc::ClientContext context;
  auto reader = stub().Send(&context, request);
  reader->WaitForInitialMetadata();
  context.TryCancel();
  devicepb::SendReply reply;
  int replies = 0;
  while (reader->Read(&reply)) ++replies;
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(replies, 0);
  // The service is unaffected.
  const SendResult after = Send(stub(), Read("demo", {"d1"}));
  EXPECT_EQ(after.replies.size(), 1u);
}

TEST_F(DeviceServiceTest, SubscribeFiltersWithWildcards) {
  grpc::ClientContext reports_context;
  devicepb::SubscribeRequest request;
  request.set_topic("/device/demo/*/message/property/report");
  auto reports = stub().Subscribe(&reports_context, request);
  grpc::ClientContext d1_context;
  request.set_topic("/device/demo/d1/**");
  auto d1 = stub().Subscribe(&d1_context, request);

  std::set<std::string> report_devices;
  devicepb::DeviceEvent event;
  for (int i = 0; i < 10 && reports->Read(&event); ++i) {
    EXPECT_EQ(event.kind(), devicepb::PROPERTY_REPORT) << event.topic();
    EXPECT_EQ(event.topic(),
              absl::StrCat("/device/demo/", event.device_key(), "/message/property/report"));
    EXPECT_TRUE(event.payload().fields().contains("humidity"));
    report_devices.insert(event.device_key());
  }
  EXPECT_EQ(report_devices, (std::set<std::string>{"d1", "d2"}));

  std::set<int> kinds;
  for (int i = 0; i < 10 && d1->Read(&event); ++i) {
    EXPECT_EQ(event.device_key(), "d1");
    kinds.insert(event.kind());
  }
  EXPECT_TRUE(kinds.contains(devicepb::PROPERTY_REPORT));
  EXPECT_TRUE(kinds.contains(devicepb::EVENT));
  reports_context.TryCancel();
  d1_context.TryCancel();
  reports->Finish();
  d1->Finish();
}

TEST_F(DeviceServiceTest, BadSubscribeTopicIsRejected) {
  grpc::ClientContext context;
  devicepb::SubscribeRequest request;
  request.set_topic("/devices/demo/d1/online");
  auto reader = stub().Subscribe(&context, request);
  devicepb::DeviceEvent event;
  EXPECT_FALSE(reader->Read(&event));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorCodeOf(ToAbslStatus(status, context)), ErrorCode::UNKNOWN_TOPIC);
}

TEST_F(DeviceServiceTest, InventoryListsProductsAndPagesDevices) {
  grpc::ClientContext products_context;
  devicepb::ListProductsResponse products;
  ASSERT_TRUE(stub().ListProducts(&products_context, {}, &products).ok());
  ASSERT_EQ(products.products_size(), 2);
  EXPECT_EQ(products.products(1).device_count(), 1000u);

  grpc::ClientContext product_context;
  devicepb::GetProductRequest get_product;
  get_product.set_product_key("demo");
  devicepb::Product product;
  ASSERT_TRUE(stub().GetProduct(&product_context, get_product, &product).ok());
  EXPECT_EQ(product.thing_model().properties(0).id(), "temperature");
  EXPECT_EQ(product.thing_model().properties(0).spec().max(), 125);

  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext context;
    devicepb::ListDevicesRequest request;
    request.set_product_key("bulk");
    request.set_page_size(400);
    request.set_page_token(token);
    devicepb::ListDevicesResponse response;
    ASSERT_TRUE(stub().ListDevices(&context, request, &response).ok());
    EXPECT_EQ(response.total_size(), 1000u);
    for (const auto& device : response.devices()) {
      seen.insert(device.device_key());
      EXPECT_TRUE(device.online());
    }
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 1000u);

  grpc::ClientContext bad_context;
  devicepb::ListDevicesRequest bad;
  bad.set_page_size(5000);
  devicepb::ListDevicesResponse ignored;
  EXPECT_EQ(stub().ListDevices(&bad_context, bad, &ignored).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(DeviceServiceTest, GetDeviceShowsStateAndLastValues) {
  Send(stub(), Read("demo", {"d1"}, {"temperature"}));
  grpc::ClientContext context;
  devicepb::GetDeviceRequest request;
  request.set_product_key("demo");
  request.set_device_key("d1");
  devicepb::Device device;
  ASSERT_TRUE(stub().GetDevice(&context, request, &device).ok());
  EXPECT_TRUE(device.online());
  EXPECT_TRUE(device.last_values().fields().contains("temperature"));
  EXPECT_GT(device.last_seen_ms(), 0);

  grpc::ClientContext offline_context;
  request.set_device_key("d3");
  ASSERT_TRUE(stub().GetDevice(&offline_context, request, &device).ok());
  EXPECT_FALSE(device.online());

  grpc::ClientContext missing_context;
  request.set_device_key("ghost");
  const grpc::Status status = stub().GetDevice(&missing_context, request, &device);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ErrorCodeOf(ToAbslStatus(status, missing_context)), ErrorCode::DEVICE_NOT_FOUND);
}

TEST(DeviceServiceSimRateTest, AReportingDeviceKeepsItsIntervalOverTime) {
  // d1 reports every millisecond. A device that waited a whole interval after each report
  // would fall further behind with every one, by its timer's wake-up latency each time
  // (over 100 ms in 2000 intervals). One that keeps its rate may still lag while the
  // machine is too busy to run it (sanitizers, parallel tests), and makes the time up; a
  // stall past what it makes up (a second) starts its schedule afresh. So the rate is
  // judged over 2000 intervals at a time, until a stretch without such a stall. On a
  // machine too busy for that all along (sanitizers beside heavy tests), keeping the rate
  // still shows: missed ticks are made up back to back, two reports in one millisecond,
  // which a device that waits an interval after each report never sends.
  DeviceServiceFixture fixture(TestFleet(0, 1));
  ASSERT_TRUE(fixture.service().started()) << fixture.service().log();
  grpc::ClientContext context;
  devicepb::SubscribeRequest request;
  request.set_topic("/device/demo/d1/message/property/report");
  auto reader = fixture.stub().Subscribe(&context, request);
  devicepb::DeviceEvent event;
  // Past the start-up, then stretches of 2000 intervals (2 s), until one is on schedule:
  // as many intervals as milliseconds went by, within 40.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(reader->Read(&event));
  int64_t first = event.timestamp_ms();
  int64_t intervals = 0;
  int64_t total = 0;
  int64_t behind = 0;
  int64_t previous = first;
  int64_t made_up = 0;
  while (total < 10000 && reader->Read(&event)) {
    EXPECT_EQ(event.kind(), devicepb::PROPERTY_REPORT);
    if (event.timestamp_ms() == previous) ++made_up;
    previous = event.timestamp_ms();
    const int64_t ticks = 1 + static_cast<int64_t>(event.dropped_before());
    intervals += ticks;
    total += ticks;
    behind = event.timestamp_ms() - first - intervals;
    if (intervals < 2000) continue;
    if (std::abs(behind) <= 40) break;
    first = event.timestamp_ms();  // The next stretch.
    intervals = 0;
  }
  if (std::abs(behind) > 40) {
    EXPECT_GE(made_up, total / 100)
        << "off its schedule by " << behind << " ms over the last 2000 intervals of " << total
        << ", and only " << made_up << " ticks made up";
  }
  context.TryCancel();
  reader->Finish();
}

TEST(DeviceServiceSlowSubscriberTest, QueueStaysBoundedAndDropsAreReported) {
  // Two devices report every 2 ms into a 16-event queue; the subscriber does not read.
  // A small HTTP/2 window makes the backpressure reach the server's queue quickly.
  grpc::ChannelArguments small_window;
  small_window.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  small_window.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  DeviceServiceFixture fixture(TestFleet(0, 2), {"--subscriber_queue=16"}, small_window);
  ASSERT_TRUE(fixture.service().started()) << fixture.service().log();
  grpc::ClientContext context;
  devicepb::SubscribeRequest request;
  request.set_topic("/device/demo/*/**");
  auto reader = fixture.stub().Subscribe(&context, request);
  reader->WaitForInitialMetadata();
  const int metrics_port = fixture.service().port("metrics_port");
  auto dropped = [&] {
    return ScrapeMetric(metrics_port, "northbound_device_events_dropped_total");
  };
  ASSERT_TRUE(WaitFor([&] { return dropped() > 0; }, std::chrono::seconds(30)))
      << "no events were dropped although the subscriber never read";
  // Memory stays flat while the subscriber keeps not reading.
  const long rss_before = RssKib(fixture.service().process().pid());
  const double dropped_before = dropped();
  ASSERT_TRUE(WaitFor([&] { return dropped() > dropped_before + 1000; }, std::chrono::seconds(30)));
  const long rss_after = RssKib(fixture.service().process().pid());
  EXPECT_LT(rss_after - rss_before, 20 * 1024) << rss_before << " KiB -> " << rss_after << " KiB";

  // Whatever is still buffered in flight comes first; then an event reports the gap.
  uint64_t reported = 0;
  devicepb::DeviceEvent event;
  for (int i = 0; i < 200000 && reported == 0 && reader->Read(&event); ++i) {
    reported += event.dropped_before();
  }
  EXPECT_GT(reported, 0u);
  context.TryCancel();
  reader->Finish();
}

}  // namespace
}  // namespace nb::testing
