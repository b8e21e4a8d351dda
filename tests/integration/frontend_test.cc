// The WebSocket protocol end to end: real ws-frontend, device-service and auth-service
// processes, a real WebSocket client.
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"
#include "tests/integration/stack.h"
#include "tests/support/http_get.h"
#include "tests/support/seed_frames.h"
#include "tests/support/ws_client.h"

namespace nb::testing {
namespace {

namespace json = boost::json;
namespace authpb = northbound::auth::v1;
using std::chrono::milliseconds;
using std::chrono::seconds;

class FrontendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { stack_ = new Stack(); }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(stack_->started()) << stack_->logs(); }

  // A connected, authenticated client.
  std::unique_ptr<WsClient> Connect(const std::string& token = "") {
    auto client = std::make_unique<WsClient>();
    const std::string use = token.empty() ? stack_->FullToken() : token;
    EXPECT_TRUE(client->Connect(stack_->ws_port(), "/messaging/" + use).upgraded);
    return client;
  }

  static Stack* stack_;
};

Stack* FrontendTest::stack_ = nullptr;

// The three examples the protocol was first written from (docs/protocol.md §4), verbatim
// but for the comments.
TEST_F(FrontendTest, SeedReadPropertyExample) {
  auto client = Connect();
  // Other tests write temperatures on the shared stack: set the values this one reads.
  for (const auto& [device, value] : {std::pair{"device1", "20.5"}, {"device2", "21.0"}}) {
    ASSERT_TRUE(client->SendText(
        absl::StrCat(R"({"type":"sub","id":"set","topic":"/device-message-sender/sagoo-product/)",
                     device, R"(","parameter":{"properties":{"temperature":)", value, "}}}")));
    ASSERT_EQ(UntilComplete(*client, "set").size(), 2u);
  }
  ASSERT_TRUE(client->SendText(kSeedReadProperty));
  const auto frames = UntilComplete(*client, "request-id");
  ASSERT_EQ(frames.size(), 3u);
  std::map<std::string, double> temperatures;
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(FrameString(frames[i], "type"), "result");
    EXPECT_EQ(FrameString(frames[i], "id"), "request-id");
    EXPECT_EQ(FrameString(frames[i], "requestId"), "request-id");
    EXPECT_EQ(FrameString(frames[i], "topic"),
              "/device-message-sender/sagoo-product/" + FrameString(frames[i], "deviceId"));
    EXPECT_FALSE(FrameString(frames[i], "messageId").empty());
    EXPECT_TRUE(frames[i].at("timestamp").is_int64());
    temperatures[FrameString(frames[i], "deviceId")] =
        frames[i].at("payload").at("temperature").to_number<double>();
  }
  EXPECT_EQ(temperatures["device1"], 20.5);
  EXPECT_EQ(temperatures["device2"], 21.0);
  EXPECT_EQ(FrameString(frames[2], "topic"),
            "/device-message-sender/sagoo-product/device1,device2");
}

TEST_F(FrontendTest, SeedWritePropertyExample) {
  auto client = Connect();
  ASSERT_TRUE(client->SendText(kSeedWriteProperty));
  const auto frames = UntilComplete(*client, "request-id");
  ASSERT_EQ(frames.size(), 3u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(FrameString(frames[i], "type"), "result");
    // The seed's payload exactly: {"temperature": 20}.
    EXPECT_EQ(json::serialize(frames[i].at("payload")), R"({"temperature":20})");
  }
}

TEST_F(FrontendTest, SeedInvokeFunctionExampleWithoutFunctionIdIsAParameterError) {
  auto client = Connect();
  ASSERT_TRUE(client->SendText(kSeedInvokeFunction));
  const auto frames = UntilComplete(*client, "request-id");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(FrameString(frames[0], "type"), "error");
  EXPECT_EQ(FrameString(frames[0], "code"), "PARAMETER_ERROR");
  EXPECT_NE(FrameString(frames[0], "message").find("functionId"), std::string::npos);
  EXPECT_EQ(FrameString(frames[1], "type"), "complete");
}

TEST_F(FrontendTest, InvokeWithInputsAsListAndAsProperties) {
  auto client = Connect();
  client->SendText(
      R"({"id":"i1","type":"sub","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"functionId":"calibrate","inputs":[{"name":"reference","value":21.5}]}})");
  auto frames = UntilComplete(*client, "i1");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].at("payload").at("reference").to_number<double>(), 21.5);
  client->SendText(
      R"({"id":"i2","type":"sub","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"messageType":"invoke_function","functionId":"calibrate","properties":{"reference":19}}})");
  frames = UntilComplete(*client, "i2");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].at("payload").at("reference").to_number<double>(), 19);
}

TEST_F(FrontendTest, AllDevicesOfferlineAndFailingFunction) {
  auto client = Connect();
  client->SendText(R"({"id":"all","type":"sub","topic":"/device-message-sender/sagoo-product/*",
    "parameter":{"properties":["temperature"]}})");
  auto frames = UntilComplete(*client, "all");
  ASSERT_EQ(frames.size(), 4u);
  std::map<std::string, std::string> outcome;
  for (size_t i = 0; i < 3; ++i) {
    outcome[FrameString(frames[i], "deviceId")] =
        FrameString(frames[i], "type") == "result" ? "ok" : FrameString(frames[i], "code");
  }
  EXPECT_EQ(outcome["device1"], "ok");
  EXPECT_EQ(outcome["device2"], "ok");
  EXPECT_EQ(outcome["device3"], "CLIENT_OFFLINE");

  client->SendText(
      R"({"id":"st","type":"sub","topic":"/device-message-sender/sagoo-product/device1,ghost",
    "parameter":{"functionId":"selfTest"}})");
  frames = UntilComplete(*client, "st");
  ASSERT_EQ(frames.size(), 3u);
  std::map<std::string, std::string> codes;
  for (size_t i = 0; i < 2; ++i)
    codes[FrameString(frames[i], "deviceId")] = FrameString(frames[i], "code");
  EXPECT_EQ(codes["device1"], "DEVICE_ERROR");
  EXPECT_EQ(codes["ghost"], "DEVICE_NOT_FOUND");
}

TEST_F(FrontendTest, TimeoutAndUnsubMidStream) {
  auto client = Connect();
  client->SendText(R"({"id":"t","type":"sub","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"functionId":"firmwareUpgrade","inputs":{"version":"2"},"headers":{"timeout":300}}})");
  auto frames = UntilComplete(*client, "t");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(FrameString(frames[0], "code"), "TIME_OUT");

  client->SendText(R"({"id":"u","type":"sub","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"functionId":"firmwareUpgrade","inputs":{"version":"2"}}})");
  client->SendText(R"({"id":"u","type":"unsub"})");
  frames = UntilComplete(*client, "u", seconds(5));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(FrameString(frames[0], "type"), "complete");
  // Nothing more for "u"; the next answer is the pong.
  client->SendText(R"({"type":"ping","id":"after"})");
  auto pong = client->ReceiveJson();
  ASSERT_TRUE(pong);
  EXPECT_EQ(FrameString(*pong, "type"), "pong");
  EXPECT_EQ(FrameString(*pong, "requestId"), "after");
}

TEST_F(FrontendTest, AsyncCommandAnswerArrivesOnTheReplyTopic) {
  auto client = Connect();
  client->SendText(
      R"({"id":"r","type":"sub","topic":"/device/sagoo-product/device1/message/function/reply"})");
  // The event subscription is live once a command sent after it is answered by it.
  client->SendText(R"({"id":"a","type":"sub","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"meta":{"async":true},"functionId":"calibrate","inputs":{"reference":22}}})");
  std::string message_id;
  bool reply_seen = false;
  for (int i = 0; i < 10 && !reply_seen; ++i) {
    auto frame = client->ReceiveJson();
    ASSERT_TRUE(frame);
    if (FrameString(*frame, "id") == "a" && FrameString(*frame, "type") == "result") {
      EXPECT_TRUE(frame->at("async").as_bool());
      EXPECT_TRUE(frame->at("payload").as_object().empty());
      message_id = FrameString(*frame, "messageId");
    }
    if (FrameString(*frame, "id") == "r") {
      EXPECT_EQ(FrameString(*frame, "topic"),
                "/device/sagoo-product/device1/message/function/reply");
      EXPECT_EQ(FrameString(*frame, "messageId"), message_id);
      EXPECT_EQ(frame->at("payload").at("reference").to_number<double>(), 22);
      reply_seen = true;
    }
  }
  EXPECT_TRUE(reply_seen);
}

TEST_F(FrontendTest, LiveEventsWithWildcards) {
  auto client = Connect();
  client->SendText(R"({"id":"ev","type":"sub","topic":"/device/sagoo-product/*/message/event/*"})");
  client->SendText(R"({"id":"rep","type":"sub","topic":"/device/*/*/message/property/report"})");
  std::set<std::string> event_topics;
  std::set<std::string> report_products;
  for (int i = 0; i < 40 && (event_topics.empty() || report_products.size() < 2); ++i) {
    auto frame = client->ReceiveJson();
    ASSERT_TRUE(frame);
    ASSERT_EQ(FrameString(*frame, "type"), "result") << json::serialize(*frame);
    if (FrameString(*frame, "id") == "ev") event_topics.insert(FrameString(*frame, "topic"));
    if (FrameString(*frame, "id") == "rep")
      report_products.insert(FrameString(*frame, "topic").substr(0, 14));
  }
  EXPECT_EQ(event_topics,
            std::set<std::string>{"/device/sagoo-product/device1/message/event/overheat"});
  EXPECT_EQ(report_products.size(), 2u);
}

TEST_F(FrontendTest, BadFramesGetCodedErrorsAndTheConnectionStays) {
  auto client = Connect();
  auto expect_error = [&](const std::string& frame, const std::string& code, bool complete) {
    client->SendText(frame);
    auto error = client->ReceiveJson();
    ASSERT_TRUE(error) << frame;
    EXPECT_EQ(FrameString(*error, "type"), "error") << frame;
    EXPECT_EQ(FrameString(*error, "code"), code) << frame;
    if (complete) {
      auto done = client->ReceiveJson();
      ASSERT_TRUE(done);
      EXPECT_EQ(FrameString(*done, "type"), "complete") << frame;
    }
  };
  expect_error("{not json", "PARAMETER_ERROR", false);
  expect_error("[1,2]", "PARAMETER_ERROR", false);
  expect_error(std::string(40, '[') + std::string(40, ']'), "PARAMETER_ERROR", false);
  expect_error(R"({"type":"dance","id":"x"})", "UNSUPPORTED_MESSAGE", false);
  expect_error(R"({"type":"sub","topic":"/device/p/d/online"})", "PARAMETER_ERROR", false);
  expect_error(R"({"type":"sub","id":")" + std::string(200, 'x') + R"(","topic":"/x"})",
               "PARAMETER_ERROR", false);
  expect_error(R"({"type":"sub","id":"t1","topic":"/weather/today"})", "UNKNOWN_TOPIC", true);
  expect_error(R"({"type":"sub","id":"t2","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"messageType":"REBOOT"}})",
               "UNSUPPORTED_MESSAGE", true);
  expect_error(R"({"type":"sub","id":"t3","topic":"/device-message-sender/nope/device1",
    "parameter":{"properties":["temperature"]}})",
               "PRODUCT_NOT_FOUND", true);
  expect_error(R"({"type":"sub","id":"t4","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"properties":["colour"]}})",
               "PROPERTY_UNDEFINED", true);
  expect_error(R"({"type":"sub","id":"t5","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"properties":{"humidity":3}}})",
               "READ_ONLY", true);
  expect_error(R"({"type":"sub","id":"t6","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"properties":{"temperature":"hot"}}})",
               "PARAMETER_ERROR", true);
  expect_error(R"({"type":"sub","id":"t7","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"functionId":"fly"}})",
               "FUNCTION_UNDEFINED", true);
  expect_error(R"({"type":"sub","id":"t8","topic":"/device-message-sender/sagoo-product/a,,b",
    "parameter":{"properties":[]}})",
               "PARAMETER_ERROR", true);
  expect_error(R"({"type":"sub","id":"t9","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"meta":{"timeout":5}, "properties":[]}})",
               "PARAMETER_ERROR", true);
  ASSERT_TRUE(client->SendBinary("\x01\x02"));
  auto binary = client->ReceiveJson();
  ASSERT_TRUE(binary);
  EXPECT_EQ(FrameString(*binary, "code"), "UNSUPPORTED_MESSAGE");
  client->SendText(R"({"type":"ping"})");
  auto pong = client->ReceiveJson();
  ASSERT_TRUE(pong);
  EXPECT_EQ(FrameString(*pong, "type"), "pong");
}

TEST_F(FrontendTest, HugeNamesAreParameterErrorsWithShortMessages) {
  auto client = Connect();
  const std::string name(60000, 'p');
  for (const std::string& parameter :
       {absl::StrCat(R"({"messageType":"READ_PROPERTY","properties":[")", name, R"("]})"),
        absl::StrCat(R"({"functionId":")", name, R"("})")}) {
    ASSERT_TRUE(client->SendText(absl::StrCat(
        R"({"type":"sub","id":"huge","topic":"/device-message-sender/sagoo-product/device1","parameter":)",
        parameter, "}")));
    const auto frames = UntilComplete(*client, "huge");
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(FrameString(frames[0], "code"), "PARAMETER_ERROR") << json::serialize(frames[0]);
    EXPECT_LT(FrameString(frames[0], "message").size(), 200u);
  }
  // A plausible name that does not exist is the device-service's answer, cut as well.
  const std::string long_name(100, 'q');
  ASSERT_TRUE(client->SendText(absl::StrCat(
      R"({"type":"sub","id":"undefined","topic":"/device-message-sender/sagoo-product/device1","parameter":{"properties":[")",
      long_name, R"("]}})")));
  const auto frames = UntilComplete(*client, "undefined");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(FrameString(frames[0], "code"), "PROPERTY_UNDEFINED") << json::serialize(frames[0]);
  EXPECT_EQ(FrameString(frames[0], "message").find(long_name), std::string::npos);
}

TEST_F(FrontendTest, DuplicateIdLeavesTheLiveSubscriptionAlone) {
  auto client = Connect();
  client->SendText(
      R"({"id":"dup","type":"sub","topic":"/device/sagoo-product/device1/message/property/report"})");
  client->SendText(R"({"id":"dup","type":"sub","topic":"/device/sagoo-product/device2/online"})");
  bool duplicate = false;
  int results = 0;
  for (int i = 0; i < 10 && (!duplicate || results < 2); ++i) {
    auto frame = client->ReceiveJson();
    ASSERT_TRUE(frame);
    if (FrameString(*frame, "type") == "error") {
      EXPECT_EQ(FrameString(*frame, "code"), "DUPLICATE_ID");
      duplicate = true;
    } else {
      ASSERT_EQ(FrameString(*frame, "type"), "result") << json::serialize(*frame);
      EXPECT_EQ(FrameString(*frame, "topic"),
                "/device/sagoo-product/device1/message/property/report");
      ++results;
    }
  }
  EXPECT_TRUE(duplicate);
  EXPECT_GE(results, 2);
}

TEST_F(FrontendTest, PermissionsAreEnforced) {
  authpb::Permissions read_only;
  auto* grant = read_only.add_products();
  grant->set_product_key("sagoo-product");
  grant->add_device_keys("device1");
  read_only.add_operations(authpb::READ_PROPERTY);
  auto client = Connect(stack_->CreateClient(read_only).second);
  client->SendText(R"({"id":"w","type":"sub","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"properties":{"temperature":22}}})");
  auto frames = UntilComplete(*client, "w");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(FrameString(frames[0], "code"), "PERMISSION_DENIED");

  client->SendText(
      R"({"id":"r","type":"sub","topic":"/device-message-sender/sagoo-product/device1,device2",
    "parameter":{"properties":["temperature"]}})");
  frames = UntilComplete(*client, "r");
  ASSERT_EQ(frames.size(), 3u);
  std::map<std::string, std::string> outcome;
  for (size_t i = 0; i < 2; ++i)
    outcome[FrameString(frames[i], "deviceId")] =
        FrameString(frames[i], "type") + FrameString(frames[i], "code");
  EXPECT_EQ(outcome["device1"], "result");
  EXPECT_EQ(outcome["device2"], "errorPERMISSION_DENIED");

  client->SendText(R"({"id":"e","type":"sub","topic":"/device/sagoo-product/device1/online"})");
  frames = UntilComplete(*client, "e");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(FrameString(frames[0], "code"), "PERMISSION_DENIED");
}

TEST_F(FrontendTest, RevocationWhileConnectedClosesWith1008) {
  auto [id, token] = stack_->CreateClient(AllPermissions());
  auto client = Connect(token);
  client->SendText(R"({"type":"ping"})");
  ASSERT_TRUE(client->ReceiveJson());
  const auto revoked_at = std::chrono::steady_clock::now();
  stack_->Revoke(id);
  auto frame = client->ReceiveJson(seconds(5));
  ASSERT_TRUE(frame);
  EXPECT_EQ(FrameString(*frame, "type"), "authError");
  EXPECT_EQ(FrameString(*frame, "message"), "token revoked");
  EXPECT_EQ(client->WaitForClose(seconds(5)), 1008);
  // The protocol promises 2 s; this is the behaviour, not a benchmark.
  EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, seconds(2));
  // And the token no longer gets in.
  WsClient again;
  ASSERT_TRUE(again.Connect(stack_->ws_port(), "/messaging/" + token).upgraded);
  auto refused = again.ReceiveJson();
  ASSERT_TRUE(refused);
  EXPECT_EQ(FrameString(*refused, "message"), "invalid token");
  EXPECT_EQ(again.WaitForClose(), 1008);
}

TEST_F(FrontendTest, InvalidTokenGetsAuthErrorAnd1008) {
  WsClient client;
  ASSERT_TRUE(client.Connect(stack_->ws_port(), "/messaging/not-a-token").upgraded);
  auto frame = client.ReceiveJson();
  ASSERT_TRUE(frame);
  EXPECT_EQ(json::serialize(*frame), R"({"type":"authError","message":"invalid token"})");
  EXPECT_EQ(client.WaitForClose(), 1008);
}

TEST_F(FrontendTest, BearerHeaderWorksAndHttpRulesHold) {
  WsClient client;
  ASSERT_TRUE(client
                  .Connect(stack_->ws_port(), "/messaging",
                           {{"Authorization", "Bearer " + stack_->FullToken()}})
                  .upgraded);
  client.SendText(R"({"type":"ping","id":"b"})");
  auto pong = client.ReceiveJson();
  ASSERT_TRUE(pong);
  EXPECT_EQ(FrameString(*pong, "id"), "b");

  EXPECT_EQ(HttpGet(stack_->ws_port(), "/elsewhere").status, 404);
  EXPECT_EQ(HttpGet(stack_->ws_port(), "/messaging/abc").status, 426);
  EXPECT_EQ(HttpGet(stack_->ws_port(), "/healthz").status, 200);
  EXPECT_EQ(HttpGet(stack_->ws_port(), "/readyz").status, 200);
  WsClient browser;
  const WsClient::Handshake refused = browser.Connect(
      stack_->ws_port(), "/messaging/" + stack_->FullToken(), {{"Origin", "https://evil.example"}});
  EXPECT_FALSE(refused.upgraded);
  EXPECT_EQ(refused.http_status, 403);
  WsClient other;
  EXPECT_EQ(other.Connect(stack_->ws_port(), "/other").http_status, 404);
}

TEST_F(FrontendTest, TokensNeverReachTheLogs) {
  const std::string token = stack_->FullToken();
  WsClient good;
  ASSERT_TRUE(good.Connect(stack_->ws_port(), "/messaging/" + token).upgraded);
  good.SendText(R"({"type":"ping"})");
  ASSERT_TRUE(good.ReceiveJson());
  WsClient bad;
  ASSERT_TRUE(bad.Connect(stack_->ws_port(), "/messaging/nbt_" + std::string(43, 'Q')).upgraded);
  EXPECT_EQ(bad.WaitForClose(), 1008);
  const std::string logs = stack_->logs();
  EXPECT_EQ(logs.find(token), std::string::npos);
  EXPECT_EQ(logs.find(std::string(43, 'Q')), std::string::npos);
}

TEST_F(FrontendTest, FrameTooBigCloses1009) {
  auto client = Connect();
  client->SendText(R"({"type":"ping","id":")" + std::string(70 * 1024, 'x') + R"("})");
  EXPECT_EQ(client->WaitForClose(), 1009);
}

TEST_F(FrontendTest, RateLimitAnswersRateLimited) {
  auto client = Connect();
  for (int i = 0; i < 400; ++i) client->SendText(R"({"type":"ping"})");
  int pongs = 0;
  int limited = 0;
  for (int i = 0; i < 400; ++i) {
    auto frame = client->ReceiveJson();
    ASSERT_TRUE(frame);
    if (FrameString(*frame, "type") == "pong") ++pongs;
    if (FrameString(*frame, "code") == "RATE_LIMITED") ++limited;
  }
  EXPECT_GE(pongs, 200);  // The burst.
  EXPECT_GT(limited, 0);
  EXPECT_EQ(pongs + limited, 400);
}

}  // namespace
}  // namespace nb::testing
