#ifndef NORTHBOUND_COMMON_EVENT_JSON_H_
#define NORTHBOUND_COMMON_EVENT_JSON_H_

#include <string>

#include "northbound/device/v1/device_service.pb.h"

namespace nb {

// Appends the members of the WebSocket protocol's event frames that come from the event
// itself, each preceded by a comma: "topic", "deviceId", "messageId" (replies only),
// "timestamp", "code" and "message" (failed replies only), "payload". What JsonEvent.members
// carries: device-service renders them once per event, ws-frontend wraps them in a frame
// for each subscriber.
void AppendEventMembers(std::string& out, const northbound::device::v1::DeviceEvent& event);

}  // namespace nb

#endif  // NORTHBOUND_COMMON_EVENT_JSON_H_
