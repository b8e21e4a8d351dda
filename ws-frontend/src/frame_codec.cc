#include "ws-frontend/src/frame_codec.h"

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include <algorithm>
#include <vector>
#include <cmath>

#include "boost/json/serialize.hpp"
#include "common/json_text.h"
#include "common/topic.h"

namespace nb::frontend {
namespace {

namespace json = boost::json;
using northbound::common::v1::ErrorCode;

json::string_view View(absl::string_view text) { return json::string_view(text.data(), text.size()); }

FrameError Error(ErrorCode code, std::string message) {
  FrameError error;
  error.code = code;
  error.message = std::move(message);
  return error;
}

// The id of a frame, if it has a usable one: a string of 1..128 bytes.
std::variant<std::string, FrameError> ReadId(const json::object& frame, bool required) {
  const json::value* id = frame.if_contains("id");
  if (id == nullptr || id->is_null()) {
    if (required) return Error(ErrorCode::PARAMETER_ERROR, "id is required");
    return std::string();
  }
  if (!id->is_string()) return Error(ErrorCode::PARAMETER_ERROR, "id must be a string");
  const json::string& text = id->get_string();
  if (text.empty()) return Error(ErrorCode::PARAMETER_ERROR, "id must not be empty");
  if (text.size() > kMaxIdBytes) {
    return Error(ErrorCode::PARAMETER_ERROR,
                 absl::StrCat("id must be at most ", kMaxIdBytes, " bytes"));
  }
  return std::string(text);
}

}  // namespace

std::variant<ClientFrame, FrameError> ParseClientFrame(absl::string_view text) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::error_code parse_error;
  json::value value = json::parse(View(text), parse_error, {}, options);
  if (parse_error) {
    return Error(ErrorCode::PARAMETER_ERROR, absl::StrCat("malformed JSON: ", parse_error.message()));
  }
  if (!value.is_object()) return Error(ErrorCode::PARAMETER_ERROR, "a frame must be a JSON object");
  json::object& frame = value.get_object();

  const json::value* type = frame.if_contains("type");
  const bool is_sub = type != nullptr && type->is_string() && type->get_string() == "sub";
  std::variant<std::string, FrameError> id = ReadId(frame, is_sub || (type && type->is_string() && type->get_string() == "unsub"));
  if (std::holds_alternative<FrameError>(id)) return std::get<FrameError>(id);
  const std::string& frame_id = std::get<std::string>(id);
  std::optional<std::string> known_id;
  if (!frame_id.empty()) known_id = frame_id;

  auto fail = [&](ErrorCode code, std::string message) {
    FrameError error = Error(code, std::move(message));
    error.id = known_id;
    error.is_sub = is_sub;
    return error;
  };

  if (type == nullptr || type->is_null()) return fail(ErrorCode::PARAMETER_ERROR, "type is required");
  if (!type->is_string()) return fail(ErrorCode::PARAMETER_ERROR, "type must be a string");
  const json::string& type_name = type->get_string();

  if (type_name == "ping") return ClientFrame(PingFrame{known_id});
  if (type_name == "unsub") return ClientFrame(UnsubFrame{frame_id});
  if (type_name != "sub") {
    return fail(ErrorCode::UNSUPPORTED_MESSAGE,
                absl::StrCat("unknown frame type \"", absl::string_view(type_name.data(), std::min<size_t>(type_name.size(), 32)),
                             "\" (use sub, unsub or ping)"));
  }
  SubFrame sub;
  sub.id = frame_id;
  const json::value* topic = frame.if_contains("topic");
  if (topic == nullptr || !topic->is_string() || topic->get_string().empty()) {
    return fail(ErrorCode::PARAMETER_ERROR, "topic must be a non-empty string");
  }
  sub.topic = std::string(topic->get_string());
  if (const json::value* parameter = frame.if_contains("parameter")) {
    if (parameter->is_object()) {
      sub.parameter = std::move(frame["parameter"].get_object());
    } else if (!parameter->is_null()) {
      FrameError error = fail(ErrorCode::PARAMETER_ERROR, "parameter must be an object");
      error.topic = sub.topic;
      return error;
    }
  }
  return ClientFrame(std::move(sub));
}

std::string ErrorFrame(const std::optional<std::string>& id, const std::optional<std::string>& topic,
                       ErrorCode code, absl::string_view message) {
  json::object frame;
  frame["type"] = "error";
  if (id) {
    frame["id"] = View(*id);
    frame["requestId"] = View(*id);
  }
  if (topic) frame["topic"] = View(*topic);
  frame["code"] = View(ErrorCodeName(code));
  frame["message"] = View(message);
  return Serialize(frame);
}

std::string DeviceErrorFrame(absl::string_view id, absl::string_view topic,
                             absl::string_view device_id, ErrorCode code, absl::string_view message) {
  json::object frame;
  frame["type"] = "error";
  frame["id"] = View(id);
  frame["requestId"] = View(id);
  frame["topic"] = View(topic);
  frame["deviceId"] = View(device_id);
  frame["code"] = View(ErrorCodeName(code));
  frame["message"] = View(message);
  return Serialize(frame);
}

std::string CompleteFrame(absl::string_view id, absl::string_view topic) {
  json::object frame;
  frame["type"] = "complete";
  frame["id"] = View(id);
  frame["requestId"] = View(id);
  frame["topic"] = View(topic);
  return Serialize(frame);
}

std::string PongFrame(const std::optional<std::string>& id) {
  json::object frame;
  frame["type"] = "pong";
  if (id) {
    frame["id"] = View(*id);
    frame["requestId"] = View(*id);
  }
  return Serialize(frame);
}

std::string AuthErrorFrame(absl::string_view message) {
  json::object frame;
  frame["type"] = "authError";
  frame["message"] = View(message);
  return Serialize(frame);
}

std::string ResultFrame(absl::string_view id, absl::string_view topic, json::object extra,
                        json::value payload) {
  json::object frame;
  frame.reserve(extra.size() + 5);
  frame["type"] = "result";
  frame["id"] = View(id);
  frame["requestId"] = View(id);
  frame["topic"] = View(topic);
  for (auto& [key, value] : extra) frame[key] = std::move(value);
  frame["payload"] = std::move(payload);
  return Serialize(frame);
}

std::string SendReplyFrame(absl::string_view id, absl::string_view product_key,
                           const northbound::device::v1::SendReply& reply) {
  const std::string topic = absl::StrCat(kSenderTopicPrefix, product_key, "/", reply.device_key());
  if (reply.code() != ErrorCode::ERROR_CODE_UNSPECIFIED) {
    return DeviceErrorFrame(id, topic, reply.device_key(), reply.code(), reply.message());
  }
  json::object extra;
  extra["deviceId"] = View(reply.device_key());
  extra["messageId"] = View(reply.message_id());
  extra["timestamp"] = reply.timestamp_ms();
  if (reply.async()) extra["async"] = true;
  return ResultFrame(id, topic, std::move(extra), ToJson(reply.payload()));
}

std::string DeviceEventFrame(absl::string_view id, const northbound::device::v1::DeviceEvent& event) {
  json::object extra;
  extra["deviceId"] = View(event.device_key());
  if (!event.message_id().empty()) extra["messageId"] = View(event.message_id());
  extra["timestamp"] = event.timestamp_ms();
  if (event.code() != ErrorCode::ERROR_CODE_UNSPECIFIED) {
    extra["code"] = View(ErrorCodeName(event.code()));
    extra["message"] = View(event.message());
  }
  if (event.dropped_before() > 0) extra["dropped"] = event.dropped_before();
  return ResultFrame(id, event.topic(), std::move(extra), ToJson(event.payload()));
}

json::value ToJson(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      return value.number_value();
    case google::protobuf::Value::kStringValue:
      return View(value.string_value());
    case google::protobuf::Value::kBoolValue:
      return value.bool_value();
    case google::protobuf::Value::kStructValue:
      return ToJson(value.struct_value());
    case google::protobuf::Value::kListValue: {
      json::array array;
      for (const auto& item : value.list_value().values()) array.push_back(ToJson(item));
      return array;
    }
    default:
      return nullptr;
  }
}

json::object ToJson(const google::protobuf::Struct& value) {
  // Protobuf maps have no order; clients see keys sorted, the same every time.
  std::vector<const std::string*> keys;
  keys.reserve(value.fields().size());
  for (const auto& [key, item] : value.fields()) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(), [](const auto* a, const auto* b) { return *a < *b; });
  json::object object;
  object.reserve(keys.size());
  for (const std::string* key : keys) object[View(*key)] = ToJson(value.fields().at(*key));
  return object;
}

google::protobuf::Value ToProtoValue(const json::value& value) {
  google::protobuf::Value out;
  switch (value.kind()) {
    case json::kind::null:
      out.set_null_value(google::protobuf::NULL_VALUE);
      break;
    case json::kind::bool_:
      out.set_bool_value(value.get_bool());
      break;
    case json::kind::int64:
      out.set_number_value(static_cast<double>(value.get_int64()));
      break;
    case json::kind::uint64:
      out.set_number_value(static_cast<double>(value.get_uint64()));
      break;
    case json::kind::double_:
      out.set_number_value(value.get_double());
      break;
    case json::kind::string:
      out.set_string_value(std::string(value.get_string()));
      break;
    case json::kind::array:
      for (const json::value& item : value.get_array()) {
        *out.mutable_list_value()->add_values() = ToProtoValue(item);
      }
      break;
    case json::kind::object:
      *out.mutable_struct_value() = ToProtoStruct(value.get_object());
      break;
  }
  return out;
}

google::protobuf::Struct ToProtoStruct(const json::object& object) {
  google::protobuf::Struct out;
  for (const auto& [key, item] : object) (*out.mutable_fields())[std::string(key)] = ToProtoValue(item);
  return out;
}

absl::string_view FrameTypeName(const ClientFrame& frame) {
  if (std::holds_alternative<SubFrame>(frame)) return "sub";
  if (std::holds_alternative<UnsubFrame>(frame)) return "unsub";
  return "ping";
}

}  // namespace nb::frontend
