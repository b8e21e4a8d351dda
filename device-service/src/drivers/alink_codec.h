#ifndef NORTHBOUND_DEVICE_SERVICE_DRIVERS_ALINK_CODEC_H_
#define NORTHBOUND_DEVICE_SERVICE_DRIVERS_ALINK_CODEC_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "device-service/src/driver.h"
#include "device-service/src/thing_model.h"
#include "google/protobuf/struct.pb.h"

// The device side of the SagooIOT MQTT protocol (Alink JSON), as docs/device-service.md
// describes it: topics under /sys/{productKey}/{deviceKey}/thing/, JSON requests with
// id/version/sys/params/method, replies with id/code/data/message. Pure functions: no
// I/O, no MQTT library, so every parser here is unit-tested and fuzzed directly.
namespace nb::device::alink {

// Payloads larger than this are refused before parsing.
inline constexpr size_t kMaxPayloadBytes = 256 * 1024;

enum class TopicKind {
  kStatus,        // .../thing/status: "online" or "offline" (retained; the Last Will)
  kPropertyPost,  // .../thing/event/property/post
  kEventPost,     // .../thing/event/{eventId}/post
  kReply,         // .../thing/service/property/get_reply, set_reply, {functionId}_reply
  kOwnRequest,    // .../thing/service/... without _reply: what device-service sent
  kOther,         // under /sys/ but nothing a device sends (post_reply acks ...)
};

// Views into the topic it was parsed from.
struct DeviceTopic {
  absl::string_view product_key;
  absl::string_view device_key;
  absl::string_view device_path;  // "{productKey}/{deviceKey}"
  TopicKind kind = TopicKind::kOther;
  // kEventPost: the event id. kReply: "property/get", "property/set" or the function id.
  absl::string_view name;
};

// Splits a topic under /sys/; nullopt for anything else. No allocation: this runs for
// every message a broker delivers.
std::optional<DeviceTopic> ParseTopic(absl::string_view topic);

// The topic filters one product needs on the broker.
std::vector<std::string> SubscriptionFilters(absl::string_view product_key);

// Where a command goes, and its JSON request, with `command.message_id` as the id.
std::string RequestTopic(absl::string_view product_key, absl::string_view device_key,
                         const Command& command);
std::string EncodeRequest(const Command& command);

// A device's reply to a request.
struct Reply {
  std::string id;
  int code = 0;
  std::string message;
  google::protobuf::Struct data;
};
absl::StatusOr<Reply> DecodeReply(absl::string_view payload);

// A device's own message (property report or event), values unwrapped from the
// {"value": v, "time": t} form.
struct Post {
  std::string id;
  bool ack = false;
  std::string method;
  google::protobuf::Struct params;
};
absl::StatusOr<Post> DecodePost(absl::string_view payload);
// The acknowledgement device-service publishes on `<topic>_reply` when a post asks for one.
std::string EncodePostAck(const Post& post);

enum class DeviceStatus { kOnline, kOffline };
// "online"/"offline", bare or as {"status": "..."}.
absl::StatusOr<DeviceStatus> DecodeStatus(absl::string_view payload);

// A property report checked against the model: the valid values (moved out of `params`),
// and a problem for each value left out (undefined property, wrong type or range).
struct CheckedReport {
  google::protobuf::Struct values;
  std::vector<std::string> problems;
};
CheckedReport CheckReport(const ThingModel& model, google::protobuf::Struct params);

// An event's fields checked against its definition (params may also wrap them in
// {"value": {...}}). Errors name the problem.
absl::StatusOr<google::protobuf::Struct> CheckEvent(const ThingModel& model,
                                                    absl::string_view event_id,
                                                    const google::protobuf::Struct& params);

// The answer a reply makes for `command`: a non-200 code is DEVICE_ERROR with the device's
// message; read answers must carry every property asked for; values and outputs must
// fit the model, or the answer is DEVICE_ERROR naming what the device got wrong.
DeviceAnswer AnswerFromReply(const ThingModel& model, const Command& command, const Reply& reply);

}  // namespace nb::device::alink

#endif  // NORTHBOUND_DEVICE_SERVICE_DRIVERS_ALINK_CODEC_H_
