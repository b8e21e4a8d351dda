#include "device-service/src/thing_model.h"

#include <cmath>
#include <limits>

#include "common/status.h"
#include "gtest/gtest.h"

namespace nb::device {
namespace {

using google::protobuf::Value;
using northbound::common::v1::ErrorCode;

Value Number(double n) {
  Value v;
  v.set_number_value(n);
  return v;
}
Value Text(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}
Value Bool(bool b) {
  Value v;
  v.set_bool_value(b);
  return v;
}

devicepb::DataSpec Spec(devicepb::DataType type, std::optional<double> min = {},
                        std::optional<double> max = {}) {
  devicepb::DataSpec spec;
  spec.set_type(type);
  if (min) spec.set_min(*min);
  if (max) spec.set_max(*max);
  return spec;
}

bool Ok(const devicepb::DataSpec& spec, const Value& value) {
  return CheckValue(spec, value, "v").ok();
}

TEST(CheckValueTest, IntIsIntegralThirtyTwoBitAndInRange) {
  EXPECT_TRUE(Ok(Spec(devicepb::INT), Number(42)));
  EXPECT_FALSE(Ok(Spec(devicepb::INT), Number(4.5)));
  EXPECT_TRUE(Ok(Spec(devicepb::INT), Number(2147483647)));
  EXPECT_FALSE(Ok(Spec(devicepb::INT), Number(2147483648.0)));
  EXPECT_TRUE(Ok(Spec(devicepb::INT), Number(-2147483648.0)));
  EXPECT_FALSE(Ok(Spec(devicepb::INT), Text("42")));
  EXPECT_TRUE(Ok(Spec(devicepb::INT, 1, 3600), Number(1)));
  EXPECT_TRUE(Ok(Spec(devicepb::INT, 1, 3600), Number(3600)));
  EXPECT_FALSE(Ok(Spec(devicepb::INT, 1, 3600), Number(0)));
  EXPECT_FALSE(Ok(Spec(devicepb::INT, 1, 3600), Number(3601)));
}

TEST(CheckValueTest, LongAndDateStayExactInJson) {
  EXPECT_TRUE(Ok(Spec(devicepb::LONG), Number(9007199254740992.0)));
  EXPECT_FALSE(Ok(Spec(devicepb::LONG), Number(9007199254740994.0)));
  EXPECT_FALSE(Ok(Spec(devicepb::LONG), Number(1.5)));
  EXPECT_TRUE(Ok(Spec(devicepb::DATE), Number(1764134400000)));
  EXPECT_FALSE(Ok(Spec(devicepb::DATE), Number(-1)));
  EXPECT_FALSE(Ok(Spec(devicepb::DATE), Text("2026-11-26")));
}

TEST(CheckValueTest, FloatAndDoubleAreFiniteAndInRange) {
  EXPECT_TRUE(Ok(Spec(devicepb::FLOAT, -40, 125), Number(20.5)));
  EXPECT_TRUE(Ok(Spec(devicepb::FLOAT, -40, 125), Number(-40)));
  EXPECT_TRUE(Ok(Spec(devicepb::FLOAT, -40, 125), Number(125)));
  EXPECT_FALSE(Ok(Spec(devicepb::FLOAT, -40, 125), Number(125.01)));
  EXPECT_FALSE(Ok(Spec(devicepb::FLOAT, -40, 125), Number(-40.01)));
  EXPECT_FALSE(Ok(Spec(devicepb::FLOAT), Number(1e39)));
  EXPECT_TRUE(Ok(Spec(devicepb::DOUBLE), Number(1e39)));
  EXPECT_FALSE(Ok(Spec(devicepb::DOUBLE), Number(std::numeric_limits<double>::infinity())));
  EXPECT_FALSE(Ok(Spec(devicepb::DOUBLE), Number(std::nan(""))));
  EXPECT_FALSE(Ok(Spec(devicepb::DOUBLE), Bool(true)));
}

TEST(CheckValueTest, BoolStringEnum) {
  EXPECT_TRUE(Ok(Spec(devicepb::BOOL), Bool(false)));
  EXPECT_FALSE(Ok(Spec(devicepb::BOOL), Number(1)));
  EXPECT_FALSE(Ok(Spec(devicepb::BOOL), Text("true")));

  devicepb::DataSpec text = Spec(devicepb::STRING);
  text.set_max_length(4);
  EXPECT_TRUE(Ok(text, Text("abcd")));
  EXPECT_FALSE(Ok(text, Text("abcde")));
  EXPECT_TRUE(Ok(Spec(devicepb::STRING), Text(std::string(kDefaultMaxStringBytes, 'x'))));
  EXPECT_FALSE(Ok(Spec(devicepb::STRING), Text(std::string(kDefaultMaxStringBytes + 1, 'x'))));

  devicepb::DataSpec mode = Spec(devicepb::ENUM);
  mode.add_enum_values("auto");
  mode.add_enum_values("eco");
  EXPECT_TRUE(Ok(mode, Text("eco")));
  EXPECT_FALSE(Ok(mode, Text("turbo")));
  EXPECT_FALSE(Ok(mode, Number(0)));
}

TEST(CheckValueTest, NullAndObjectsAreWrongTypesWithClearMessage) {
  Value null_value;
  null_value.set_null_value(google::protobuf::NULL_VALUE);
  const absl::Status status =
      CheckValue(Spec(devicepb::FLOAT), null_value, "property 'temperature'");
  EXPECT_EQ(ErrorCodeOf(status), ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(status.message(), "property 'temperature' must be float, got null");
}

ThingModel Model() {
  devicepb::Product product;
  product.set_product_key("p");
  auto* model = product.mutable_thing_model();
  auto* temperature = model->add_properties();
  temperature->set_id("temperature");
  temperature->set_access(devicepb::READ_WRITE);
  *temperature->mutable_spec() = Spec(devicepb::FLOAT, -40, 125);
  auto* humidity = model->add_properties();
  humidity->set_id("humidity");
  humidity->set_access(devicepb::READ_ONLY);
  *humidity->mutable_spec() = Spec(devicepb::FLOAT, 0, 100);
  auto* calibrate = model->add_functions();
  calibrate->set_id("calibrate");
  auto* reference = calibrate->add_inputs();
  reference->set_id("reference");
  reference->set_required(true);
  *reference->mutable_spec() = Spec(devicepb::FLOAT, -40, 125);
  return ThingModel(product);
}

TEST(ThingModelTest, ReadResolvesAllOrNamedWithoutDuplicates) {
  const ThingModel model = Model();
  std::vector<std::string> resolved;
  ASSERT_TRUE(model.CheckRead({}, resolved).ok());
  EXPECT_EQ(resolved, (std::vector<std::string>{"temperature", "humidity"}));
  ASSERT_TRUE(model.CheckRead({"humidity", "humidity"}, resolved).ok());
  EXPECT_EQ(resolved, std::vector<std::string>{"humidity"});
  EXPECT_EQ(ErrorCodeOf(model.CheckRead({"colour"}, resolved)), ErrorCode::PROPERTY_UNDEFINED);
}

TEST(ThingModelTest, WriteChecksDefinedWritableAndTyped) {
  const ThingModel model = Model();
  google::protobuf::Struct values;
  EXPECT_EQ(ErrorCodeOf(model.CheckWrite(values)), ErrorCode::PARAMETER_ERROR);
  (*values.mutable_fields())["temperature"] = Number(20);
  EXPECT_TRUE(model.CheckWrite(values).ok());
  (*values.mutable_fields())["temperature"] = Number(200);
  EXPECT_EQ(ErrorCodeOf(model.CheckWrite(values)), ErrorCode::PARAMETER_ERROR);
  values.clear_fields();
  (*values.mutable_fields())["humidity"] = Number(20);
  EXPECT_EQ(ErrorCodeOf(model.CheckWrite(values)), ErrorCode::READ_ONLY);
  values.clear_fields();
  (*values.mutable_fields())["colour"] = Text("red");
  EXPECT_EQ(ErrorCodeOf(model.CheckWrite(values)), ErrorCode::PROPERTY_UNDEFINED);
}

TEST(ThingModelTest, InvokeChecksFunctionAndInputs) {
  const ThingModel model = Model();
  google::protobuf::Struct inputs;
  EXPECT_EQ(ErrorCodeOf(model.CheckInvoke("", inputs)), ErrorCode::PARAMETER_ERROR);
  EXPECT_EQ(ErrorCodeOf(model.CheckInvoke("reboot", inputs)), ErrorCode::FUNCTION_UNDEFINED);
  EXPECT_EQ(ErrorCodeOf(model.CheckInvoke("calibrate", inputs)), ErrorCode::PARAMETER_ERROR);
  (*inputs.mutable_fields())["reference"] = Number(21);
  EXPECT_TRUE(model.CheckInvoke("calibrate", inputs).ok());
  (*inputs.mutable_fields())["extra"] = Number(1);
  EXPECT_EQ(ErrorCodeOf(model.CheckInvoke("calibrate", inputs)), ErrorCode::PARAMETER_ERROR);
}

}  // namespace
}  // namespace nb::device
