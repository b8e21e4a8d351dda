// The read-only HTTP API (docs/protocol.md §11) and what ws-frontend serves a browser:
// the console's files with their headers, the origin rule, and the token carried as a
// WebSocket subprotocol.

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "tests/integration/stack.h"
#include "tests/support/http_get.h"
#include "tests/support/ws_client.h"

namespace nb::testing {
namespace {

namespace json = boost::json;
namespace authpb = northbound::auth::v1;

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<Stack>();
    ASSERT_TRUE(stack_->started()) << stack_->logs();
    token_ = stack_->FullToken();
  }

  HttpResult Get(const std::string& target, const std::string& token) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return HttpGet(stack_->ws_port(), target, headers);
  }

  // The JSON body of an answer with `status`.
  json::object Expect(const std::string& target, int status, const std::string& token) {
    HttpResult result = Get(target, token);
    EXPECT_EQ(result.status, status) << target << ": " << result.body;
    EXPECT_EQ(result.headers["Content-Type"], "application/json") << target;
    json::error_code error;
    json::value body = json::parse(result.body, error);
    EXPECT_FALSE(error) << target << ": " << result.body;
    return body.is_object() ? body.as_object() : json::object();
  }

  // A refusal: its status and coded JSON error.
  void ExpectError(const std::string& target, int status, const std::string& code,
                   const std::string& token) {
    const json::object body = Expect(target, status, token);
    EXPECT_EQ(FrameString(body, "code"), code) << target << ": " << json::serialize(body);
    EXPECT_FALSE(FrameString(body, "message").empty()) << target;
  }

  std::set<std::string> DeviceKeys(const json::object& page) {
    std::set<std::string> keys;
    for (const json::value& device : page.at("devices").as_array()) {
      keys.insert(FrameString(device.as_object(), "deviceKey"));
    }
    return keys;
  }

  std::unique_ptr<Stack> stack_;
  std::string token_;
};

TEST_F(HttpApiTest, NoTokenOrAWrongOneIs401WithABearerChallenge) {
  HttpResult none = Get("/api/v1/products", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["WWW-Authenticate"], "Bearer realm=\"northbound\"");
  ExpectError("/api/v1/products", 401, "UNAUTHENTICATED", "");
  ExpectError("/api/v1/products", 401, "UNAUTHENTICATED", "nbt_" + std::string(43, 'Q'));
  // A token in the URL is not a credential here.
  ExpectError("/api/v1/products?access_token=" + token_, 401, "UNAUTHENTICATED", "");
  ExpectError("/api/v1/devices", 401, "UNAUTHENTICATED", "");
}

TEST_F(HttpApiTest, ProductsCarryTheirThingModelsAndDeviceCounts) {
  const json::object body = Expect("/api/v1/products", 200, token_);
  std::map<std::string, json::object> products;
  for (const json::value& product : body.at("products").as_array()) {
    products[FrameString(product.as_object(), "productKey")] = product.as_object();
  }
  ASSERT_EQ(products.size(), 2u) << json::serialize(body);
  const json::object& sagoo = products.at("sagoo-product");
  EXPECT_EQ(sagoo.at("deviceCount").as_int64(), 3);
  bool temperature = false;
  for (const json::value& property : sagoo.at("thingModel").at("properties").as_array()) {
    if (FrameString(property.as_object(), "id") != "temperature") continue;
    temperature = true;
    EXPECT_EQ(FrameString(property.at("spec").as_object(), "type"), "FLOAT");
    EXPECT_EQ(FrameString(property.as_object(), "access"), "READ_WRITE");
  }
  EXPECT_TRUE(temperature) << json::serialize(sagoo);

  const json::object one = Expect("/api/v1/products/meter-product", 200, token_);
  EXPECT_EQ(FrameString(one, "productKey"), "meter-product");
  EXPECT_EQ(one.at("deviceCount").as_int64(), 1);
}

TEST_F(HttpApiTest, DevicesArePagedAndShowTheirStateAndLastValues) {
  const json::object first = Expect("/api/v1/devices?page_size=3", 200, token_);
  EXPECT_EQ(first.at("totalSize").as_int64(), 4);
  EXPECT_EQ(first.at("devices").as_array().size(), 3u);
  const std::string next = FrameString(first, "nextPageToken");
  ASSERT_FALSE(next.empty());
  const json::object second = Expect("/api/v1/devices?page_size=3&page_token=" + next, 200, token_);
  EXPECT_EQ(second.at("devices").as_array().size(), 1u);
  EXPECT_EQ(FrameString(second, "nextPageToken"), "");
  std::set<std::string> all = DeviceKeys(first);
  for (const std::string& key : DeviceKeys(second)) EXPECT_TRUE(all.insert(key).second) << key;
  EXPECT_EQ(all, (std::set<std::string>{"device1", "device2", "device3", "meter1"}));

  const json::object sagoo = Expect("/api/v1/devices?product=sagoo-product", 200, token_);
  EXPECT_EQ(DeviceKeys(sagoo), (std::set<std::string>{"device1", "device2", "device3"}));
  for (const json::value& device : sagoo.at("devices").as_array()) {
    const json::object& d = device.as_object();
    EXPECT_TRUE(d.at("online").is_bool());
    EXPECT_TRUE(d.at("lastValues").is_object());
    EXPECT_EQ(FrameString(d, "driver"), "sim");
  }

  // After a write the device's last values hold what it now has.
  WsClient client;
  ASSERT_TRUE(client.Connect(stack_->ws_port(), "/messaging/" + token_).upgraded);
  client.SendText(R"({"id":"w","type":"sub","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"properties":{"temperature":23.5}}})");
  const auto frames = UntilComplete(client, "w");
  ASSERT_FALSE(frames.empty());
  ASSERT_EQ(FrameString(frames[0], "type"), "result") << json::serialize(frames[0]);
  const json::object device1 =
      Expect("/api/v1/products/sagoo-product/devices/device1", 200, token_);
  EXPECT_EQ(device1.at("online"), true);
  const json::value* temperature = device1.at("lastValues").as_object().if_contains("temperature");
  ASSERT_NE(temperature, nullptr) << json::serialize(device1);
  EXPECT_EQ(temperature->to_number<double>(), 23.5) << json::serialize(device1);
}

TEST_F(HttpApiTest, AClientLimitedToOneProductSeesOnlyIt) {
  authpb::Permissions meter_only;
  meter_only.add_products()->set_product_key("meter-product");
  meter_only.add_operations(authpb::READ_PROPERTY);
  const std::string token = stack_->CreateClient(meter_only).second;

  const json::object products = Expect("/api/v1/products", 200, token);
  ASSERT_EQ(products.at("products").as_array().size(), 1u) << json::serialize(products);
  EXPECT_EQ(FrameString(products.at("products").as_array()[0].as_object(), "productKey"),
            "meter-product");
  EXPECT_EQ(DeviceKeys(Expect("/api/v1/devices", 200, token)), (std::set<std::string>{"meter1"}));
  ExpectError("/api/v1/products/sagoo-product", 403, "PERMISSION_DENIED", token);
  ExpectError("/api/v1/devices?product=sagoo-product", 403, "PERMISSION_DENIED", token);
  ExpectError("/api/v1/products/sagoo-product/devices/device1", 403, "PERMISSION_DENIED", token);

  // One device of a product: the pages hold that device only.
  authpb::Permissions one_device;
  auto* grant = one_device.add_products();
  grant->set_product_key("sagoo-product");
  grant->add_device_keys("device2");
  one_device.add_operations(authpb::READ_PROPERTY);
  const std::string device2 = stack_->CreateClient(one_device).second;
  const json::object page = Expect("/api/v1/devices?product=sagoo-product", 200, device2);
  EXPECT_EQ(DeviceKeys(page), (std::set<std::string>{"device2"}));
  EXPECT_EQ(page.at("totalSize").as_int64(), 1);
}

TEST_F(HttpApiTest, BadRequestsGetCodedJsonErrors) {
  for (const char* target : {"/api/v1/devices?page_size=0", "/api/v1/devices?page_size=abc",
                             "/api/v1/devices?page_size=1001", "/api/v1/devices?page_size=-1",
                             "/api/v1/devices?colour=blue",
                             "/api/v1/devices?product=", "/api/v1/devices?page_token=not-a-token",
                             "/api/v1/products?page_size=2"}) {
    ExpectError(target, 400, "PARAMETER_ERROR", token_);
  }
  ExpectError("/api/v1/products/" + std::string(200, 'p'), 400, "PARAMETER_ERROR", token_);
  ExpectError("/api/v1/products/no-such-product", 404, "PRODUCT_NOT_FOUND", token_);
  ExpectError("/api/v1/devices?product=no-such-product", 404, "PRODUCT_NOT_FOUND", token_);
  ExpectError("/api/v1/products/sagoo-product/devices/nope", 404, "DEVICE_NOT_FOUND", token_);
  ExpectError("/api/v1/widgets", 404, "NOT_FOUND", token_);
  ExpectError("/api/v1/products/sagoo-product/extra", 404, "NOT_FOUND", token_);

  HttpResult post = HttpRequest(stack_->ws_port(), "POST", "/api/v1/products",
                                {{"Authorization", "Bearer " + token_}});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["Allow"], "GET");
  EXPECT_NE(post.body.find("METHOD_NOT_ALLOWED"), std::string::npos) << post.body;
}

TEST_F(HttpApiTest, TheConsoleIsServedWithAPolicyThatAllowsOnlyItsOwnOrigin) {
  HttpResult root = HttpGet(stack_->ws_port(), "/");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.headers["Location"], "/console/");
  HttpResult page = HttpGet(stack_->ws_port(), "/console/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.headers["Content-Type"], "text/html; charset=utf-8");
  const std::string policy = page.headers["Content-Security-Policy"];
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("script-src 'self'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("connect-src 'self'"), std::string::npos) << policy;
  EXPECT_EQ(page.headers["X-Content-Type-Options"], "nosniff");
  EXPECT_NE(page.body.find("js/app.js"), std::string::npos);
  HttpResult script = HttpGet(stack_->ws_port(), "/console/js/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.headers["Content-Type"], "text/javascript; charset=utf-8");
  const HttpResult protocol = HttpGet(stack_->ws_port(), "/console/protocol.md");
  EXPECT_EQ(protocol.status, 200);
  EXPECT_NE(protocol.body.find("The Northbound WebSocket protocol"), std::string::npos);
  EXPECT_EQ(HttpGet(stack_->ws_port(), "/console/nope.js").status, 404);
  EXPECT_EQ(HttpGet(stack_->ws_port(), "/console/../CMakeLists.txt").status, 404);

  // The page's own origin may connect without --allowed_origins; another may not.
  WsClient own;
  EXPECT_TRUE(
      own.Connect(stack_->ws_port(), "/messaging/" + token_, {{"Origin", "http://127.0.0.1"}})
          .upgraded);
  WsClient other;
  EXPECT_EQ(other
                .Connect(stack_->ws_port(), "/messaging/" + token_,
                         {{"Origin", "http://127.0.0.1.evil.example"}})
                .http_status,
            403);
}

TEST_F(HttpApiTest, ABrowserCarriesTheTokenAsASubprotocol) {
  WsClient client;
  ASSERT_TRUE(client
                  .Connect(stack_->ws_port(), "/messaging",
                           {{"Sec-WebSocket-Protocol", "northbound, bearer." + token_}})
                  .upgraded);
  client.SendText(R"({"id":"r","type":"sub","topic":"/device-message-sender/sagoo-product/device1",
    "parameter":{"messageType":"READ_PROPERTY","properties":["temperature"]}})");
  const auto frames = UntilComplete(client, "r");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(FrameString(frames[0], "type"), "result") << json::serialize(frames[0]);

  WsClient wrong;
  ASSERT_TRUE(
      wrong
          .Connect(stack_->ws_port(), "/messaging",
                   {{"Sec-WebSocket-Protocol", "northbound, bearer.nbt_" + std::string(43, 'Q')}})
          .upgraded);
  auto refused = wrong.ReceiveJson();
  ASSERT_TRUE(refused);
  EXPECT_EQ(FrameString(*refused, "type"), "authError");
  EXPECT_EQ(wrong.WaitForClose(), 1008);
}

TEST(HttpApiConsoleOffTest, TheConsoleCanBeTurnedOffAndTheApiStays) {
  StackOptions options;
  options.frontend_flags = {"--console=false"};
  Stack stack(options);
  ASSERT_TRUE(stack.started()) << stack.logs();
  EXPECT_EQ(HttpGet(stack.ws_port(), "/console/").status, 404);
  EXPECT_EQ(HttpGet(stack.ws_port(), "/").status, 404);
  EXPECT_EQ(HttpGet(stack.ws_port(), "/api/v1/products",
                    {{"Authorization", "Bearer " + stack.FullToken()}})
                .status,
            200);
}

}  // namespace
}  // namespace nb::testing
