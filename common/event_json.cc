#include "common/event_json.h"

#include "common/json_text.h"
#include "common/status.h"

namespace nb {

void AppendEventMembers(std::string& out, const northbound::device::v1::DeviceEvent& event) {
  using northbound::common::v1::ErrorCode;
  AppendJsonMember(out, "topic", event.topic());
  AppendJsonMember(out, "deviceId", event.device_key());
  if (!event.message_id().empty()) AppendJsonMember(out, "messageId", event.message_id());
  AppendJsonMember(out, "timestamp", event.timestamp_ms());
  if (event.code() != ErrorCode::ERROR_CODE_UNSPECIFIED) {
    const absl::string_view code = ErrorCodeName(event.code());
    AppendJsonMember(out, "code", std::string_view(code.data(), code.size()));
    AppendJsonMember(out, "message", event.message());
  }
  AppendJsonMemberName(out, "payload");
  AppendJson(out, event.payload());
}

}  // namespace nb
