#include "ws-frontend/src/sub_planner.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/permissions.h"
#include "common/status.h"
#include "common/topic.h"

namespace nb::frontend {
namespace {

namespace json = boost::json;
namespace auth = northbound::auth::v1;
namespace device = northbound::device::v1;
using northbound::common::v1::ErrorCode;

absl::Status ParameterError(absl::string_view message) {
  return ErrorStatus(ErrorCode::PARAMETER_ERROR, message);
}

absl::StatusOr<device::MessageType> MessageTypeOf(const json::object& parameter) {
  if (const json::value* type = parameter.if_contains("messageType"); type && !type->is_null()) {
    if (!type->is_string()) return ParameterError("messageType must be a string");
    const std::string name(type->get_string());
    const std::string upper = absl::AsciiStrToUpper(name);
    // All-upper or all-lower case only.
    if (name == upper || name == absl::AsciiStrToLower(name)) {
      if (upper == "READ_PROPERTY") return device::READ_PROPERTY;
      if (upper == "WRITE_PROPERTY") return device::WRITE_PROPERTY;
      if (upper == "INVOKE_FUNCTION") return device::INVOKE_FUNCTION;
    }
    return ErrorStatus(ErrorCode::UNSUPPORTED_MESSAGE,
                       absl::StrCat("unknown messageType \"", name.substr(0, 32),
                                    "\" (use READ_PROPERTY, WRITE_PROPERTY or INVOKE_FUNCTION)"));
  }
  if (parameter.contains("functionId")) return device::INVOKE_FUNCTION;
  if (const json::value* properties = parameter.if_contains("properties")) {
    if (properties->is_array()) return device::READ_PROPERTY;
    if (properties->is_object()) return device::WRITE_PROPERTY;
  }
  return ParameterError(
      "messageType is missing and cannot be inferred (give functionId, a properties list to "
      "read or a properties object to write)");
}

// meta (the seed's name) or headers (JetLinks' name): async and timeout.
absl::Status ApplyHeaders(const json::object& parameter, device::SendRequest& request) {
  for (const char* name : {"meta", "headers"}) {
    const json::value* headers = parameter.if_contains(name);
    if (headers == nullptr || headers->is_null()) continue;
    if (!headers->is_object()) return ParameterError(absl::StrCat(name, " must be an object"));
    const json::object& object = headers->get_object();
    if (const json::value* async = object.if_contains("async"); async && !async->is_null()) {
      if (!async->is_bool())
        return ParameterError(absl::StrCat(name, ".async must be true or false"));
      request.set_async(async->get_bool());
    }
    if (const json::value* timeout = object.if_contains("timeout");
        timeout && !timeout->is_null()) {
      if (!timeout->is_number())
        return ParameterError(absl::StrCat(name, ".timeout must be a number of ms"));
      const double ms = timeout->to_number<double>();
      if (!(ms >= 100 && ms <= 60000) || ms != std::floor(ms)) {
        return ParameterError(absl::StrCat(name, ".timeout must be 100..60000 ms"));
      }
      request.set_timeout_ms(static_cast<uint32_t>(ms));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyRead(const json::object& parameter, device::SendRequest& request) {
  const json::value* properties = parameter.if_contains("properties");
  if (properties == nullptr || properties->is_null()) return absl::OkStatus();
  if (!properties->is_array())
    return ParameterError("properties must be a list of property ids to read");
  for (const json::value& id : properties->get_array()) {
    if (!id.is_string() || id.get_string().empty()) {
      return ParameterError("properties must be a list of property ids to read");
    }
    request.add_properties(std::string(id.get_string()));
  }
  return absl::OkStatus();
}

absl::Status ApplyWrite(const json::object& parameter, device::SendRequest& request) {
  const json::value* properties = parameter.if_contains("properties");
  if (properties == nullptr || !properties->is_object() || properties->get_object().empty()) {
    return ParameterError("properties must be an object of {propertyId: value} to write");
  }
  *request.mutable_values() = ToProtoStruct(properties->get_object());
  return absl::OkStatus();
}

absl::Status ApplyInvoke(const json::object& parameter, device::SendRequest& request) {
  const json::value* function = parameter.if_contains("functionId");
  if (function == nullptr || !function->is_string() || function->get_string().empty()) {
    return ParameterError("functionId is required for INVOKE_FUNCTION");
  }
  request.set_function_id(std::string(function->get_string()));
  const json::value* inputs = parameter.if_contains("inputs");
  if (inputs == nullptr || inputs->is_null()) {
    // The seed passes inputs as properties.
    inputs = parameter.if_contains("properties");
    if (inputs == nullptr || inputs->is_null()) return absl::OkStatus();
  }
  if (inputs->is_object()) {
    *request.mutable_inputs() = ToProtoStruct(inputs->get_object());
    return absl::OkStatus();
  }
  if (!inputs->is_array())
    return ParameterError("inputs must be an object or a list of {name, value}");
  for (const json::value& item : inputs->get_array()) {
    const json::object* pair = item.if_object();
    const json::value* name = pair ? pair->if_contains("name") : nullptr;
    const json::value* value = pair ? pair->if_contains("value") : nullptr;
    if (name == nullptr || !name->is_string() || name->get_string().empty() || value == nullptr) {
      return ParameterError("each input in the list must be {\"name\": ..., \"value\": ...}");
    }
    (*request.mutable_inputs()->mutable_fields())[std::string(name->get_string())] =
        ToProtoValue(*value);
  }
  return absl::OkStatus();
}

// Thing-model ids are short; a longer name cannot exist and is refused before any RPC.
absl::Status CheckNames(const device::SendRequest& request) {
  auto too_long = [](absl::string_view what, absl::string_view name) {
    return ParameterError(
        absl::StrCat(what, " ", Quoted(name), " is longer than ", kMaxNameBytes, " bytes"));
  };
  for (const std::string& id : request.properties()) {
    if (id.size() > kMaxNameBytes) return too_long("property", id);
  }
  for (const auto& [id, value] : request.values().fields()) {
    if (id.size() > kMaxNameBytes) return too_long("property", id);
  }
  if (request.function_id().size() > kMaxNameBytes) {
    return too_long("function", request.function_id());
  }
  for (const auto& [id, value] : request.inputs().fields()) {
    if (id.size() > kMaxNameBytes) return too_long("input", id);
  }
  return absl::OkStatus();
}

auth::Operation OperationFor(device::MessageType type) {
  switch (type) {
    case device::READ_PROPERTY:
      return auth::READ_PROPERTY;
    case device::WRITE_PROPERTY:
      return auth::WRITE_PROPERTY;
    default:
      return auth::INVOKE_FUNCTION;
  }
}

absl::StatusOr<SubPlan> PlanCommand(const SubFrame& sub, const auth::Permissions& permissions) {
  absl::StatusOr<SenderTopic> topic = ParseSenderTopic(sub.topic);
  if (!topic.ok()) return topic.status();
  CommandPlan plan;
  device::SendRequest& request = plan.request;
  request.set_product_key(topic->product_key);
  absl::StatusOr<device::MessageType> type = MessageTypeOf(sub.parameter);
  if (!type.ok()) return type.status();
  request.set_message_type(*type);
  absl::Status applied = *type == device::READ_PROPERTY    ? ApplyRead(sub.parameter, request)
                         : *type == device::WRITE_PROPERTY ? ApplyWrite(sub.parameter, request)
                                                           : ApplyInvoke(sub.parameter, request);
  if (!applied.ok()) return applied;
  if (absl::Status s = CheckNames(request); !s.ok()) return s;
  if (absl::Status s = ApplyHeaders(sub.parameter, request); !s.ok()) return s;

  const auth::Operation operation = OperationFor(*type);
  if (topic->all_devices) {
    if (!Allows(permissions, operation, topic->product_key, "*")) {
      return ErrorStatus(ErrorCode::PERMISSION_DENIED,
                         absl::StrCat("this client may not ", auth::Operation_Name(operation),
                                      " on every device of ", topic->product_key));
    }
    request.set_all_devices(true);
    return plan;
  }
  for (const std::string& key : topic->device_keys) {
    if (Allows(permissions, operation, topic->product_key, key)) {
      request.add_device_keys(key);
    } else {
      plan.denied_devices.push_back(key);
    }
  }
  if (request.device_keys().empty()) {
    // Nothing named is allowed: one error for the request rather than one per device.
    return ErrorStatus(ErrorCode::PERMISSION_DENIED,
                       absl::StrCat("this client may not ", auth::Operation_Name(operation),
                                    " on these devices of ", topic->product_key));
  }
  return plan;
}

}  // namespace

absl::StatusOr<SubPlan> PlanSub(const SubFrame& sub, const auth::Permissions& permissions) {
  if (absl::StartsWith(sub.topic, kSenderTopicPrefix)) return PlanCommand(sub, permissions);
  absl::StatusOr<TopicPattern> pattern = TopicPattern::Parse(sub.topic);
  if (!pattern.ok()) return pattern.status();
  if (!Allows(permissions, auth::SUBSCRIBE_EVENTS, pattern->product_key(), pattern->device_key())) {
    return ErrorStatus(ErrorCode::PERMISSION_DENIED,
                       absl::StrCat("this client may not watch ", sub.topic));
  }
  return EventPlan{sub.topic};
}

}  // namespace nb::frontend
