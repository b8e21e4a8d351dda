#ifndef NORTHBOUND_WS_FRONTEND_FRAME_CODEC_H_
#define NORTHBOUND_WS_FRONTEND_FRAME_CODEC_H_

#include <optional>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"
#include "common/json_text.h"
#include "common/status.h"
#include "google/protobuf/struct.pb.h"
#include "northbound/device/v1/device_service.pb.h"
#include "ws-frontend/src/websocket_wire.h"

// The JSON frames of the WebSocket protocol (docs/protocol.md §2 and §3): parsing what
// clients send and building what the server sends, and the WebSocket framing the server
// writes them in. Pure functions, no I/O.
namespace nb::frontend {

inline constexpr size_t kMaxIdBytes = 128;
// Deeper JSON than this is refused before it costs anything.
inline constexpr int kMaxJsonDepth = 32;

struct SubFrame {
  std::string id;
  std::string topic;
  boost::json::object parameter;
};

struct UnsubFrame {
  std::string id;
};

struct PingFrame {
  std::optional<std::string> id;
};

using ClientFrame = std::variant<SubFrame, UnsubFrame, PingFrame>;

// A frame that could not be accepted. `id` is set when the frame carried a usable one;
// `is_sub` tells whether it was a sub with a valid id (which then also gets a complete).
struct FrameError {
  ErrorCode code;
  std::string message;
  std::optional<std::string> id;
  std::optional<std::string> topic;
  bool is_sub = false;
};

// Parses one text frame. Unknown fields are ignored.
std::variant<ClientFrame, FrameError> ParseClientFrame(absl::string_view text);

// Server frames, serialized. Every frame that answers a request carries the request's id
// as both "id" and "requestId". The Append forms add the frame to the end of `out`.
std::string ErrorFrame(const std::optional<std::string>& id,
                       const std::optional<std::string>& topic, ErrorCode code,
                       absl::string_view message);
// The failure of one device of a command: an error frame with its deviceId.
std::string DeviceErrorFrame(absl::string_view id, absl::string_view topic,
                             absl::string_view device_id, ErrorCode code,
                             absl::string_view message);
std::string CompleteFrame(absl::string_view id, absl::string_view topic);
std::string PongFrame(const std::optional<std::string>& id);
std::string AuthErrorFrame(absl::string_view message);

// One device's answer to a command subscribed as `id` on `product_key`: a result with
// deviceId, messageId, timestamp (and async) on /device-message-sender/{product}/{device},
// or an error frame with the device's code.
std::string SendReplyFrame(absl::string_view id, absl::string_view product_key,
                           const northbound::device::v1::SendReply& reply);
void AppendSendReplyFrame(std::string& out, absl::string_view id, absl::string_view product_key,
                          const northbound::device::v1::SendReply& reply);
// What a call on a Commands stream delivers to its session, already rendered: a device's
// answer to a command (SendReplyFrame, with the answer's code: set when it failed) and a
// live event (JsonEventFrame). The text is the call's: valid during the delivery only.
struct ReplyFrame {
  absl::string_view text;
  ErrorCode code = ErrorCode::ERROR_CODE_UNSPECIFIED;
};
struct EventFrame {
  absl::string_view text;
};

// One live event for subscription `id`: a result on the event's actual topic; failed
// replies add code and message, and events lost to a full queue before it add "dropped".
std::string DeviceEventFrame(absl::string_view id,
                             const northbound::device::v1::DeviceEvent& event);
void AppendDeviceEventFrame(std::string& out, absl::string_view id,
                            const northbound::device::v1::DeviceEvent& event);
// The same frame from the event as device-service rendered it (JsonEvent).
std::string JsonEventFrame(absl::string_view id, const northbound::device::v1::JsonEvent& event);
void AppendJsonEventFrame(std::string& out, absl::string_view id,
                          const northbound::device::v1::JsonEvent& event);

// The frame's "type" for metrics: sub, unsub, ping, or "invalid".
absl::string_view FrameTypeName(const ClientFrame& frame);

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_FRAME_CODEC_H_
