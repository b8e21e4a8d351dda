#include "ws-frontend/src/sub_planner.h"

#include "boost/json/parse.hpp"
#include "gtest/gtest.h"

namespace nb::frontend {
namespace {

namespace authpb = northbound::auth::v1;
namespace device = northbound::device::v1;
using northbound::common::v1::ErrorCode;

authpb::Permissions Everything() {
  authpb::Permissions permissions;
  permissions.set_all_products(true);
  for (auto op : {authpb::READ_PROPERTY, authpb::WRITE_PROPERTY, authpb::INVOKE_FUNCTION,
                  authpb::SUBSCRIBE_EVENTS}) {
    permissions.add_operations(op);
  }
  return permissions;
}

SubFrame Sub(const std::string& topic, const std::string& parameter = "{}") {
  return SubFrame{"id", topic, boost::json::parse(parameter).as_object()};
}

absl::StatusOr<SubPlan> Plan(const SubFrame& sub,
                             const authpb::Permissions& permissions = Everything()) {
  return PlanSub(sub, permissions);
}

device::SendRequest Request(const std::string& topic, const std::string& parameter) {
  auto plan = Plan(Sub(topic, parameter));
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? std::get<CommandPlan>(*plan).request : device::SendRequest();
}

ErrorCode CodeOf(const std::string& topic, const std::string& parameter = "{}",
                 const authpb::Permissions& permissions = Everything()) {
  return ErrorCodeOf(Plan(Sub(topic, parameter), permissions).status());
}

constexpr char kTopic[] = "/device-message-sender/p/d1,d2";

TEST(SubPlannerTest, MessageTypeExplicitInEitherCase) {
  EXPECT_EQ(Request(kTopic, R"({"messageType":"READ_PROPERTY"})").message_type(),
            device::READ_PROPERTY);
  EXPECT_EQ(
      Request(kTopic, R"({"messageType":"write_property","properties":{"t":1}})").message_type(),
      device::WRITE_PROPERTY);
  EXPECT_EQ(CodeOf(kTopic, R"({"messageType":"Read_Property"})"), ErrorCode::UNSUPPORTED_MESSAGE);
  EXPECT_EQ(CodeOf(kTopic, R"({"messageType":"REBOOT"})"), ErrorCode::UNSUPPORTED_MESSAGE);
  EXPECT_EQ(CodeOf(kTopic, R"({"messageType":3})"), ErrorCode::PARAMETER_ERROR);
}

TEST(SubPlannerTest, MessageTypeInferred) {
  EXPECT_EQ(Request(kTopic, R"({"functionId":"f"})").message_type(), device::INVOKE_FUNCTION);
  EXPECT_EQ(Request(kTopic, R"({"properties":["t"]})").message_type(), device::READ_PROPERTY);
  EXPECT_EQ(Request(kTopic, R"({"properties":{"t":1}})").message_type(), device::WRITE_PROPERTY);
  EXPECT_EQ(CodeOf(kTopic, "{}"), ErrorCode::PARAMETER_ERROR);
}

TEST(SubPlannerTest, ReadWriteInvokeParameters) {
  const device::SendRequest read = Request(kTopic, R"({"messageType":"READ_PROPERTY"})");
  EXPECT_TRUE(read.properties().empty());
  EXPECT_EQ(read.device_keys_size(), 2);
  EXPECT_EQ(CodeOf(kTopic, R"({"messageType":"READ_PROPERTY","properties":[1]})"),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(CodeOf(kTopic, R"({"messageType":"WRITE_PROPERTY","properties":{}})"),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(CodeOf(kTopic, R"({"messageType":"WRITE_PROPERTY","properties":["t"]})"),
            ErrorCode::PARAMETER_ERROR);

  const device::SendRequest list =
      Request(kTopic, R"({"functionId":"f","inputs":[{"name":"a","value":1}]})");
  EXPECT_EQ(list.inputs().fields().at("a").number_value(), 1);
  const device::SendRequest object = Request(kTopic, R"({"functionId":"f","inputs":{"a":2}})");
  EXPECT_EQ(object.inputs().fields().at("a").number_value(), 2);
  const device::SendRequest seed = Request(kTopic, R"({"functionId":"f","properties":{"a":3}})");
  EXPECT_EQ(seed.inputs().fields().at("a").number_value(), 3);
  EXPECT_EQ(CodeOf(kTopic, R"({"messageType":"INVOKE_FUNCTION","properties":{"t":20}})"),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(CodeOf(kTopic, R"({"functionId":"f","inputs":[{"value":1}]})"),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(CodeOf(kTopic, R"({"functionId":"f","inputs":7})"), ErrorCode::PARAMETER_ERROR);
}

TEST(SubPlannerTest, MetaAndHeaders) {
  const device::SendRequest meta =
      Request(kTopic, R"({"properties":[],"meta":{"async":true,"timeout":500}})");
  EXPECT_TRUE(meta.async());
  EXPECT_EQ(meta.timeout_ms(), 500u);
  EXPECT_TRUE(Request(kTopic, R"({"properties":[],"headers":{"async":true}})").async());
  EXPECT_EQ(CodeOf(kTopic, R"({"properties":[],"meta":{"async":"yes"}})"),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(CodeOf(kTopic, R"({"properties":[],"meta":{"timeout":99}})"),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(CodeOf(kTopic, R"({"properties":[],"meta":{"timeout":60001}})"),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(CodeOf(kTopic, R"({"properties":[],"meta":"x"})"), ErrorCode::PARAMETER_ERROR);
}

TEST(SubPlannerTest, TopicsAndDeviceKeys) {
  EXPECT_TRUE(Request("/device-message-sender/p/*", R"({"properties":[]})").all_devices());
  EXPECT_EQ(Request("/device-message-sender/p/a,b,a", R"({"properties":[]})").device_keys_size(),
            2);
  // The device limit is device-service's: the planner passes every permitted key on.
  EXPECT_EQ(Request("/device-message-sender/p/a,b,c,d", R"({"properties":[]})").device_keys_size(),
            4);
  EXPECT_EQ(CodeOf("/device-message-sender/p/a,,b", R"({"properties":[]})"),
            ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(CodeOf("/somewhere/else"), ErrorCode::UNKNOWN_TOPIC);
  auto events = Plan(Sub("/device/p/*/message/**"));
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(std::get<EventPlan>(*events).pattern, "/device/p/*/message/**");
  EXPECT_EQ(CodeOf("/device/p/**/x"), ErrorCode::PARAMETER_ERROR);
}

TEST(SubPlannerTest, PermissionsPerDeviceAndWildcards) {
  authpb::Permissions scoped;
  scoped.add_operations(authpb::READ_PROPERTY);
  auto* grant = scoped.add_products();
  grant->set_product_key("p");
  grant->add_device_keys("d1");
  auto plan = Plan(Sub(kTopic, R"({"properties":[]})"), scoped);
  ASSERT_TRUE(plan.ok());
  const CommandPlan& command = std::get<CommandPlan>(*plan);
  EXPECT_EQ(command.request.device_keys_size(), 1);
  EXPECT_EQ(command.denied_devices, std::vector<std::string>{"d2"});
  EXPECT_EQ(CodeOf("/device-message-sender/p/*", R"({"properties":[]})", scoped),
            ErrorCode::PERMISSION_DENIED);
  EXPECT_EQ(CodeOf("/device-message-sender/p/d2", R"({"properties":[]})", scoped),
            ErrorCode::PERMISSION_DENIED);
  EXPECT_EQ(CodeOf(kTopic, R"({"properties":{"t":1}})", scoped), ErrorCode::PERMISSION_DENIED);
  EXPECT_EQ(CodeOf("/device/p/d1/online", "{}", scoped), ErrorCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace nb::frontend
