#include "common/json_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"

namespace nb {

namespace json = boost::json;

namespace {

void AppendString(std::string& out, json::string_view text) {
  AppendJsonString(out, std::string_view(text.data(), text.size()));
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
      AppendJsonNumber(out, value.get_double());
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

void AppendJsonMemberName(std::string& out, std::string_view name) {
  out += ",\"";
  out += name;
  out += "\":";
}

void AppendJsonMember(std::string& out, std::string_view name, std::string_view text) {
  AppendJsonMemberName(out, name);
  AppendJsonString(out, text);
}

void AppendJsonString(std::string& out, std::string_view text) {
  // Quotes, backslashes and control characters are escaped; everything else, UTF-8
  // included, goes as it is (inputs were parsed, or are protobuf strings, so valid UTF-8).
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t plain = 0;  // Start of the run not yet copied.
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default: {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(escaped, sizeof(escaped));
      }
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  out += '"';
}

void AppendJsonNumber(std::string& out, double number) {
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

void AppendJson(std::string& out, const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      AppendJsonNumber(out, value.number_value());
      break;
    case google::protobuf::Value::kStringValue:
      AppendJsonString(out, value.string_value());
      break;
    case google::protobuf::Value::kBoolValue:
      out += value.bool_value() ? "true" : "false";
      break;
    case google::protobuf::Value::kStructValue:
      AppendJson(out, value.struct_value());
      break;
    case google::protobuf::Value::kListValue: {
      out += '[';
      bool first = true;
      for (const auto& item : value.list_value().values()) {
        if (!first) out += ',';
        first = false;
        AppendJson(out, item);
      }
      out += ']';
      break;
    }
    default:
      out += "null";
  }
}

void AppendJson(std::string& out, const google::protobuf::Struct& value) {
  // Keys sorted, as ToJson orders them. Small objects sort on the stack.
  using Field = std::pair<const std::string*, const google::protobuf::Value*>;
  absl::InlinedVector<Field, 16> fields;
  fields.reserve(value.fields().size());
  for (const auto& [key, item] : value.fields()) fields.emplace_back(&key, &item);
  std::sort(fields.begin(), fields.end(),
            [](const Field& a, const Field& b) { return *a.first < *b.first; });
  out += '{';
  bool first = true;
  for (const auto& [key, item] : fields) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, *key);
    out += ':';
    AppendJson(out, *item);
  }
  out += '}';
}

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
