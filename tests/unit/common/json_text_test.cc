// JSON text for clients: the direct renderers (AppendJson, AppendJsonString) must write
// exactly what rendering through a JSON tree writes, since frames switched from one to
// the other and clients compare and parse them.
#include "common/json_text.h"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"

namespace nb {
namespace {

std::string Direct(const google::protobuf::Struct& value) {
  std::string out;
  AppendJson(out, value);
  return out;
}

std::string QuotedDirect(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

TEST(JsonTextTest, EveryByteIsEscapedAsTheJsonLibraryEscapesIt) {
  for (int c = 0; c < 128; ++c) {
    const std::string text = std::string("a") + static_cast<char>(c) + "b";
    EXPECT_EQ(QuotedDirect(text), boost::json::serialize(boost::json::string_view(text)))
        << "byte " << c;
  }
  for (const std::string& text : std::initializer_list<std::string>{
           "", "plain", "\"quoted\"", "back\\slash", "tab\there", "\x01\x1f", "ünïcödé ✓ 𝄞",
           "/slash/ stays", std::string("nul\0inside", 10)}) {
    EXPECT_EQ(QuotedDirect(text), boost::json::serialize(boost::json::string_view(text)));
  }
  EXPECT_EQ(QuotedDirect("x\ny\"z\x7f"), R"("x\ny\"z)"
                                         "\x7f\"");
}

TEST(JsonTextTest, StructsRenderDirectlyAsThroughATree) {
  google::protobuf::Struct value;
  auto& fields = *value.mutable_fields();
  fields["zeta"].set_number_value(20.5);
  fields["alpha"].set_number_value(2.0);
  fields["tiny"].set_number_value(1e-7);
  fields["big"].set_number_value(9007199254740993.0);
  fields["negative"].set_number_value(-40);
  fields["nan"].set_number_value(std::nan(""));
  fields["infinite"].set_number_value(std::numeric_limits<double>::infinity());
  fields["on"].set_bool_value(true);
  fields["off"].set_bool_value(false);
  fields["nothing"].set_null_value(google::protobuf::NULL_VALUE);
  fields["unset"];  // A Value with no kind reads as null.
  fields["text"].set_string_value("line\nbreak \"quoted\" ✓");
  auto& list = *fields["list"].mutable_list_value();
  list.add_values()->set_number_value(1);
  list.add_values()->set_string_value("two");
  list.add_values()->mutable_list_value();
  auto& nested = *fields["nested"].mutable_struct_value()->mutable_fields();
  nested["b"].set_bool_value(true);
  nested["a"].mutable_struct_value();
  fields["key \"with\" quotes"].set_number_value(3);

  const std::string direct = Direct(value);
  EXPECT_EQ(direct, Serialize(ToJson(value)));
  EXPECT_TRUE(boost::json::parse(direct).is_object());
  EXPECT_EQ(direct.substr(0, 42), R"({"alpha":2,"big":9007199254740992,"infinit)");
  EXPECT_NE(direct.find(R"("nan":null)"), std::string::npos);
  EXPECT_NE(direct.find(R"("nested":{"a":{},"b":true})"), std::string::npos);
  EXPECT_NE(direct.find(R"("list":[1,"two",[]])"), std::string::npos);
  EXPECT_NE(direct.find(R"("tiny":1e-07)"), std::string::npos);
  EXPECT_EQ(Direct(google::protobuf::Struct()), "{}");
}

}  // namespace
}  // namespace nb
