#include "common/json_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "boost/json/serialize.hpp"

namespace nb {

namespace json = boost::json;

namespace {

void AppendString(std::string& out, json::string_view text) {
  // boost::json escapes strings correctly (control characters, quotes, invalid UTF-8 is
  // never produced because inputs were parsed or are our own).
  out += json::serialize(text);
}

void AppendNumber(std::string& out, double number) {
  if (!std::isfinite(number)) {
    out += "null";  // JSON has no NaN or infinity.
    return;
  }
  char buffer[32];
  std::to_chars_result result;
  if (number == std::floor(number) && std::fabs(number) <= 9007199254740992.0) {
    result = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(number));
  } else {
    result = std::to_chars(buffer, buffer + sizeof(buffer), number);
  }
  out.append(buffer, result.ptr);
}

void Append(std::string& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      out += std::to_string(value.get_int64());
      break;
    case json::kind::uint64:
      out += std::to_string(value.get_uint64());
      break;
    case json::kind::double_:
      AppendNumber(out, value.get_double());
      break;
    case json::kind::string:
      AppendString(out, value.get_string());
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        Append(out, item);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.get_object()) {
        if (!first) out += ',';
        first = false;
        AppendString(out, key);
        out += ':';
        Append(out, item);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string Serialize(const json::value& value) {
  std::string out;
  out.reserve(256);
  Append(out, value);
  return out;
}

namespace {

boost::json::string_view JsonView(const std::string& text) { return {text.data(), text.size()}; }

}  // namespace

boost::json::value ToJson(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      return value.number_value();
    case google::protobuf::Value::kStringValue:
      return JsonView(value.string_value());
    case google::protobuf::Value::kBoolValue:
      return value.bool_value();
    case google::protobuf::Value::kStructValue:
      return ToJson(value.struct_value());
    case google::protobuf::Value::kListValue: {
      boost::json::array array;
      for (const auto& item : value.list_value().values()) array.push_back(ToJson(item));
      return array;
    }
    default:
      return nullptr;
  }
}

boost::json::object ToJson(const google::protobuf::Struct& value) {
  // Protobuf maps have no order; clients see keys sorted, the same every time.
  std::vector<const std::string*> keys;
  keys.reserve(value.fields().size());
  for (const auto& [key, item] : value.fields()) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(), [](const auto* a, const auto* b) { return *a < *b; });
  boost::json::object object;
  object.reserve(keys.size());
  for (const std::string* key : keys) object[JsonView(*key)] = ToJson(value.fields().at(*key));
  return object;
}

google::protobuf::Value ToProtoValue(const boost::json::value& value) {
  google::protobuf::Value out;
  switch (value.kind()) {
    case boost::json::kind::null:
      out.set_null_value(google::protobuf::NULL_VALUE);
      break;
    case boost::json::kind::bool_:
      out.set_bool_value(value.get_bool());
      break;
    case boost::json::kind::int64:
      out.set_number_value(static_cast<double>(value.get_int64()));
      break;
    case boost::json::kind::uint64:
      out.set_number_value(static_cast<double>(value.get_uint64()));
      break;
    case boost::json::kind::double_:
      out.set_number_value(value.get_double());
      break;
    case boost::json::kind::string:
      out.set_string_value(std::string(value.get_string()));
      break;
    case boost::json::kind::array:
      for (const boost::json::value& item : value.get_array()) {
        *out.mutable_list_value()->add_values() = ToProtoValue(item);
      }
      break;
    case boost::json::kind::object:
      *out.mutable_struct_value() = ToProtoStruct(value.get_object());
      break;
  }
  return out;
}

google::protobuf::Struct ToProtoStruct(const boost::json::object& object) {
  google::protobuf::Struct out;
  for (const auto& [key, item] : object)
    (*out.mutable_fields())[std::string(key)] = ToProtoValue(item);
  return out;
}

}  // namespace nb
