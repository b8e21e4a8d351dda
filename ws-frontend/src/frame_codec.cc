#include "ws-frontend/src/frame_codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/event_json.h"
#include "common/json_text.h"
#include "common/topic.h"

namespace nb::frontend {
namespace {

namespace json = boost::json;
using northbound::common::v1::ErrorCode;

json::string_view View(absl::string_view text) {
  return json::string_view(text.data(), text.size());
}

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

// Most result frames fit: ids, a topic, three fields and a small payload.
constexpr size_t kResultReserve = 256;

std::string_view Std(absl::string_view text) { return {text.data(), text.size()}; }

// ,"name":"value"
void AppendField(std::string& out, std::string_view name, absl::string_view value) {
  AppendJsonMember(out, name, Std(value));
}

// ,"id":…,"requestId":…,"topic":…
void AppendIdsAndTopic(std::string& out, absl::string_view id, absl::string_view topic) {
  AppendField(out, "id", id);
  AppendField(out, "requestId", id);
  AppendField(out, "topic", topic);
}

}  // namespace

std::variant<ClientFrame, FrameError> ParseClientFrame(absl::string_view text) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::error_code parse_error;
  json::value value = json::parse(View(text), parse_error, {}, options);
  if (parse_error) {
    return Error(ErrorCode::PARAMETER_ERROR,
                 absl::StrCat("malformed JSON: ", parse_error.message()));
  }
  if (!value.is_object()) return Error(ErrorCode::PARAMETER_ERROR, "a frame must be a JSON object");
  json::object& frame = value.get_object();

  const json::value* type = frame.if_contains("type");
  const bool is_sub = type != nullptr && type->is_string() && type->get_string() == "sub";
  std::variant<std::string, FrameError> id =
      ReadId(frame, is_sub || (type && type->is_string() && type->get_string() == "unsub"));
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

  if (type == nullptr || type->is_null())
    return fail(ErrorCode::PARAMETER_ERROR, "type is required");
  if (!type->is_string()) return fail(ErrorCode::PARAMETER_ERROR, "type must be a string");
  const json::string& type_name = type->get_string();

  if (type_name == "ping") return ClientFrame(PingFrame{known_id});
  if (type_name == "unsub") return ClientFrame(UnsubFrame{frame_id});
  if (type_name != "sub") {
    return fail(
        ErrorCode::UNSUPPORTED_MESSAGE,
        absl::StrCat("unknown frame type \"",
                     absl::string_view(type_name.data(), std::min<size_t>(type_name.size(), 32)),
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

std::string ErrorFrame(const std::optional<std::string>& id,
                       const std::optional<std::string>& topic, ErrorCode code,
                       absl::string_view message) {
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
                             absl::string_view device_id, ErrorCode code,
                             absl::string_view message) {
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
  std::string out;
  out.reserve(64 + 2 * id.size() + topic.size());
  out += R"({"type":"complete")";
  AppendIdsAndTopic(out, id, topic);
  out += '}';
  return out;
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

// Result frames are rendered straight into their text: they are most of what a frontend
// writes, and building a JSON tree first cost more than the rest of their way out.
void AppendSendReplyFrame(std::string& out, absl::string_view id, absl::string_view product_key,
                          const northbound::device::v1::SendReply& reply) {
  const std::string topic = absl::StrCat(kSenderTopicPrefix, product_key, "/", reply.device_key());
  if (reply.code() != ErrorCode::ERROR_CODE_UNSPECIFIED) {
    out += DeviceErrorFrame(id, topic, reply.device_key(), reply.code(), reply.message());
    return;
  }
  out += R"({"type":"result")";
  AppendIdsAndTopic(out, id, topic);
  AppendField(out, "deviceId", reply.device_key());
  AppendField(out, "messageId", reply.message_id());
  AppendJsonMember(out, "timestamp", reply.timestamp_ms());
  if (reply.async()) out += R"(,"async":true)";
  out += R"(,"payload":)";
  AppendJson(out, reply.payload());
  out += '}';
}

std::string SendReplyFrame(absl::string_view id, absl::string_view product_key,
                           const northbound::device::v1::SendReply& reply) {
  std::string out;
  out.reserve(kResultReserve);
  AppendSendReplyFrame(out, id, product_key, reply);
  return out;
}

namespace {

// {"type":"result","id":…,"requestId":…[,"dropped":n] — an event frame's start, which
// the event's members (AppendEventMembers) and a brace complete.
void AppendEventFrameStart(std::string& out, absl::string_view id, uint64_t dropped_before) {
  out += R"({"type":"result")";
  AppendField(out, "id", id);
  AppendField(out, "requestId", id);
  if (dropped_before > 0) AppendJsonMember(out, "dropped", dropped_before);
}

// The start's size, but for a drop count.
size_t EventFrameStartBytes(absl::string_view id) { return 80 + 2 * id.size(); }

}  // namespace

void AppendDeviceEventFrame(std::string& out, absl::string_view id,
                            const northbound::device::v1::DeviceEvent& event) {
  AppendEventFrameStart(out, id, event.dropped_before());
  AppendEventMembers(out, event);
  out += '}';
}

std::string DeviceEventFrame(absl::string_view id,
                             const northbound::device::v1::DeviceEvent& event) {
  std::string out;
  out.reserve(EventFrameStartBytes(id) + kResultReserve);
  AppendDeviceEventFrame(out, id, event);
  return out;
}

void AppendJsonEventFrame(std::string& out, absl::string_view id,
                          const northbound::device::v1::JsonEvent& event) {
  AppendEventFrameStart(out, id, event.dropped_before());
  out += event.members();
  out += '}';
}

std::string JsonEventFrame(absl::string_view id, const northbound::device::v1::JsonEvent& event) {
  std::string out;
  out.reserve(EventFrameStartBytes(id) + event.members().size() + 1);
  AppendJsonEventFrame(out, id, event);
  return out;
}

absl::string_view FrameTypeName(const ClientFrame& frame) {
  if (std::holds_alternative<SubFrame>(frame)) return "sub";
  if (std::holds_alternative<UnsubFrame>(frame)) return "unsub";
  return "ping";
}

}  // namespace nb::frontend
