#include "device-service/src/drivers/alink_codec.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "boost/json/monotonic_resource.hpp"
#include "boost/json/parse.hpp"
#include "common/json_text.h"
#include "common/status.h"

namespace nb::device::alink {
namespace {

namespace json = boost::json;
using google::protobuf::Struct;
using google::protobuf::Value;
using northbound::common::v1::ErrorCode;

constexpr absl::string_view kPrefix = "/sys/";
constexpr int kMaxJsonDepth = 16;
constexpr size_t kParseBufferBytes = 4096;

absl::Status Invalid(absl::string_view problem) { return absl::InvalidArgumentError(problem); }

// Parses into `storage` (a monotonic buffer on the caller's stack: one message, no malloc
// for a small one); the object lives as long as it.
absl::StatusOr<json::object> ParseObject(absl::string_view payload, json::storage_ptr storage) {
  if (payload.size() > kMaxPayloadBytes) {
    return Invalid(absl::StrCat("payload of ", payload.size(), " bytes is over the limit of ",
                                kMaxPayloadBytes));
  }
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code error;
  json::value value = json::parse(json::string_view(payload.data(), payload.size()), error,
                                  std::move(storage), options);
  if (error) return Invalid(absl::StrCat("not JSON: ", error.message()));
  if (!value.is_object()) return Invalid("not a JSON object");
  return std::move(value.get_object());
}

// Parses `payload` into a buffer on this stack frame and hands the object to `decode`.
template <typename T, typename Decode>
absl::StatusOr<T> DecodeObject(absl::string_view payload, Decode decode) {
  unsigned char buffer[kParseBufferBytes];
  json::monotonic_resource storage(buffer, sizeof(buffer));
  absl::StatusOr<json::object> object = ParseObject(payload, &storage);
  if (!object.ok()) return object.status();
  return decode(*object);
}

// The request id: Alink sends a string; a number is accepted and read as its text.
std::string IdOf(const json::object& object) {
  const json::value* id = object.if_contains("id");
  if (id == nullptr) return "";
  if (id->is_string()) return std::string(id->get_string());
  if (id->is_int64()) return std::to_string(id->get_int64());
  if (id->is_uint64()) return std::to_string(id->get_uint64());
  return "";
}

// {"value": v, "time": t} -> v; anything else as it is.
const json::value& Unwrapped(const json::value& value) {
  if (const json::object* wrapper = value.if_object()) {
    const json::value* inner = wrapper->if_contains("value");
    if (inner != nullptr &&
        (wrapper->size() == 1 || (wrapper->size() == 2 && wrapper->contains("time")))) {
      return *inner;
    }
  }
  return value;
}

Value Unwrapped(const Value& value) {
  if (value.has_struct_value()) {
    const auto& fields = value.struct_value().fields();
    auto inner = fields.find("value");
    if (inner != fields.end() && fields.size() <= 2 &&
        (fields.size() == 1 || fields.contains("time"))) {
      return inner->second;
    }
  }
  return value;
}

// A JSON object of values, each unwrapped, as a Struct.
Struct UnwrappedStruct(const json::object& object) {
  Struct out;
  for (const auto& [key, value] : object) {
    (*out.mutable_fields())[std::string(key)] = ToProtoValue(Unwrapped(value));
  }
  return out;
}

absl::string_view MethodOf(const Command& command) {
  switch (command.type) {
    case devicepb::READ_PROPERTY:
      return "thing.service.property.get";
    case devicepb::WRITE_PROPERTY:
      return "thing.service.property.set";
    default:
      return "";
  }
}

DeviceAnswer DeviceError(absl::string_view problem) {
  return {ErrorStatus(ErrorCode::DEVICE_ERROR, problem), {}};
}

}  // namespace

std::optional<DeviceTopic> ParseTopic(absl::string_view topic) {
  if (!absl::ConsumePrefix(&topic, kPrefix)) return std::nullopt;
  const size_t first = topic.find('/');
  if (first == absl::string_view::npos || first == 0) return std::nullopt;
  const size_t second = topic.find('/', first + 1);
  if (second == absl::string_view::npos || second == first + 1) return std::nullopt;
  absl::string_view rest = topic.substr(second + 1);
  if (!absl::ConsumePrefix(&rest, "thing/")) return std::nullopt;
  DeviceTopic out;
  out.product_key = topic.substr(0, first);
  out.device_key = topic.substr(first + 1, second - first - 1);
  out.device_path = topic.substr(0, second);
  if (rest == "status") {
    out.kind = TopicKind::kStatus;
  } else if (absl::ConsumePrefix(&rest, "event/")) {
    if (rest == "property/post") {
      out.kind = TopicKind::kPropertyPost;
    } else if (absl::ConsumeSuffix(&rest, "/post") && !rest.empty() &&
               !absl::StrContains(rest, '/')) {
      out.kind = TopicKind::kEventPost;
      out.name = rest;
    }
  } else if (absl::ConsumePrefix(&rest, "service/")) {
    out.kind = TopicKind::kOwnRequest;
    if (rest == "property/get_reply" || rest == "property/set_reply") {
      out.kind = TopicKind::kReply;
      out.name = rest.substr(0, rest.size() - 6);
    } else if (absl::ConsumeSuffix(&rest, "_reply") && !rest.empty() &&
               !absl::StrContains(rest, '/')) {
      out.kind = TopicKind::kReply;
      out.name = rest;
    }
  }
  return out;
}

std::vector<std::string> SubscriptionFilters(absl::string_view product_key) {
  return {absl::StrCat(kPrefix, product_key, "/+/thing/status"),
          absl::StrCat(kPrefix, product_key, "/+/thing/event/#"),
          absl::StrCat(kPrefix, product_key, "/+/thing/service/#")};
}

std::string RequestTopic(absl::string_view product_key, absl::string_view device_key,
                         const Command& command) {
  const std::string base = absl::StrCat(kPrefix, product_key, "/", device_key, "/thing/service/");
  switch (command.type) {
    case devicepb::READ_PROPERTY:
      return absl::StrCat(base, "property/get");
    case devicepb::WRITE_PROPERTY:
      return absl::StrCat(base, "property/set");
    default:
      return absl::StrCat(base, command.function_id);
  }
}

std::string EncodeRequest(const Command& command) {
  json::object request;
  request["id"] = command.message_id;
  request["version"] = "1.0";
  request["sys"] = json::object{{"ack", 1}};
  switch (command.type) {
    case devicepb::READ_PROPERTY: {
      json::array ids;
      for (const std::string& id : command.properties) ids.emplace_back(id);
      request["params"] = std::move(ids);
      break;
    }
    case devicepb::WRITE_PROPERTY:
      request["params"] = ToJson(command.values);
      break;
    default:
      request["params"] = ToJson(command.inputs);
  }
  const absl::string_view method = MethodOf(command);
  request["method"] =
      method.empty() ? absl::StrCat("thing.service.", command.function_id) : std::string(method);
  return Serialize(request);
}

absl::StatusOr<Reply> DecodeReply(absl::string_view payload) {
  return DecodeObject<Reply>(payload, [](const json::object& object) -> absl::StatusOr<Reply> {
    Reply reply;
    reply.id = IdOf(object);
    if (reply.id.empty()) return Invalid("reply without an id");
    const json::value* code = object.if_contains("code");
    if (code == nullptr || !(code->is_int64() || code->is_uint64())) {
      return Invalid("reply without a numeric code");
    }
    reply.code = code->is_int64() ? static_cast<int>(code->get_int64()) : 0;
    if (const json::value* message = object.if_contains("message");
        message && message->is_string()) {
      reply.message = std::string(message->get_string());
    }
    if (const json::value* data = object.if_contains("data"); data && !data->is_null()) {
      if (!data->is_object()) return Invalid("reply data must be an object");
      reply.data = UnwrappedStruct(data->get_object());
    }
    return reply;
  });
}

absl::StatusOr<Post> DecodePost(absl::string_view payload) {
  return DecodeObject<Post>(payload, [](const json::object& object) -> absl::StatusOr<Post> {
    Post post;
    post.id = IdOf(object);
    if (const json::value* sys = object.if_contains("sys"); sys && sys->is_object()) {
      const json::value* ack = sys->get_object().if_contains("ack");
      post.ack = ack != nullptr && ack->is_int64() && ack->get_int64() == 1;
    }
    if (const json::value* method = object.if_contains("method"); method && method->is_string()) {
      post.method = std::string(method->get_string());
    }
    const json::value* params = object.if_contains("params");
    if (params == nullptr || !params->is_object()) return Invalid("params must be an object");
    post.params = UnwrappedStruct(params->get_object());
    return post;
  });
}

std::string EncodePostAck(const Post& post) {
  json::object ack;
  ack["id"] = post.id;
  ack["code"] = 200;
  ack["data"] = json::object();
  ack["message"] = "success";
  ack["method"] = post.method;
  ack["version"] = "1.0";
  return Serialize(ack);
}

absl::StatusOr<DeviceStatus> DecodeStatus(absl::string_view payload) {
  if (payload == "online") return DeviceStatus::kOnline;
  if (payload == "offline") return DeviceStatus::kOffline;
  absl::StatusOr<json::object> object = ParseObject(payload, {});
  if (object.ok()) {
    const json::value* status = object->if_contains("status");
    if (status != nullptr && status->is_string()) {
      if (status->get_string() == "online") return DeviceStatus::kOnline;
      if (status->get_string() == "offline") return DeviceStatus::kOffline;
    }
  }
  return Invalid("status must be \"online\" or \"offline\"");
}

CheckedReport CheckReport(const ThingModel& model, Struct params) {
  CheckedReport report;
  std::vector<std::string> refused;
  for (const auto& [id, value] : params.fields()) {
    const devicepb::PropertyDef* property = model.FindProperty(id);
    if (property == nullptr) {
      report.problems.push_back(absl::StrCat("property ", Quoted(id), " is not defined"));
      refused.push_back(id);
    } else if (absl::Status s = CheckValue(property->spec(), value, "property", id); !s.ok()) {
      report.problems.emplace_back(s.message());
      refused.push_back(id);
    }
  }
  for (const std::string& id : refused) params.mutable_fields()->erase(id);
  report.values = std::move(params);
  return report;
}

absl::StatusOr<Struct> CheckEvent(const ThingModel& model, absl::string_view event_id,
                                  const Struct& params) {
  const devicepb::EventDef* event = model.FindEvent(event_id);
  if (event == nullptr) return Invalid(absl::StrCat("event ", Quoted(event_id), " is not defined"));
  const Struct* fields = &params;
  auto wrapped = params.fields().find("value");
  if (wrapped != params.fields().end() && wrapped->second.has_struct_value() &&
      params.fields().size() <= 2) {
    fields = &wrapped->second.struct_value();
  }
  Struct out;
  for (const auto& [id, value] : fields->fields()) {
    const devicepb::ParameterDef* field = nullptr;
    for (const devicepb::ParameterDef& candidate : event->fields()) {
      if (candidate.id() == id) field = &candidate;
    }
    if (field == nullptr) {
      return Invalid(absl::StrCat("event '", event_id, "' has no field ", Quoted(id)));
    }
    const Value plain = Unwrapped(value);
    if (absl::Status s = CheckValue(field->spec(), plain, "field", id); !s.ok()) {
      return s;
    }
    (*out.mutable_fields())[id] = plain;
  }
  return out;
}

DeviceAnswer AnswerFromReply(const ThingModel& model, const Command& command, const Reply& reply) {
  if (reply.code != 200) {
    return DeviceError(reply.message.empty() ? absl::StrCat("device answered code ", reply.code)
                                             : reply.message);
  }
  DeviceAnswer answer;
  const auto& data = reply.data.fields();
  switch (command.type) {
    case devicepb::READ_PROPERTY:
      for (const std::string& id : command.properties) {
        auto it = data.find(id);
        if (it == data.end()) return DeviceError(absl::StrCat("device did not return '", id, "'"));
        if (absl::Status s = CheckValue(model.FindProperty(id)->spec(), it->second, "property", id);
            !s.ok()) {
          return DeviceError(absl::StrCat("device answered an invalid value: ", s.message()));
        }
        (*answer.payload.mutable_fields())[id] = it->second;
      }
      return answer;
    case devicepb::WRITE_PROPERTY:
      // Devices that answer with an empty data took the values as written.
      for (const auto& [id, written] : command.values.fields()) {
        auto it = data.find(id);
        const Value& value = it == data.end() ? written : it->second;
        if (absl::Status s = CheckValue(model.FindProperty(id)->spec(), value, "property", id);
            !s.ok()) {
          return DeviceError(absl::StrCat("device answered an invalid value: ", s.message()));
        }
        (*answer.payload.mutable_fields())[id] = value;
      }
      return answer;
    default: {
      const devicepb::FunctionDef* function = model.FindFunction(command.function_id);
      for (const auto& [id, value] : data) {
        const devicepb::ParameterDef* output = nullptr;
        for (const devicepb::ParameterDef& candidate : function->outputs()) {
          if (candidate.id() == id) output = &candidate;
        }
        if (output == nullptr) {
          return DeviceError(absl::StrCat("device answered an undefined output ", Quoted(id)));
        }
        if (absl::Status s = CheckValue(output->spec(), value, "output", id); !s.ok()) {
          return DeviceError(absl::StrCat("device answered an invalid output: ", s.message()));
        }
        (*answer.payload.mutable_fields())[id] = value;
      }
      return answer;
    }
  }
}

}  // namespace nb::device::alink
