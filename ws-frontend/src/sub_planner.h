#ifndef NORTHBOUND_WS_FRONTEND_SUB_PLANNER_H_
#define NORTHBOUND_WS_FRONTEND_SUB_PLANNER_H_

#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "northbound/auth/v1/auth.pb.h"
#include "northbound/device/v1/device_service.pb.h"
#include "ws-frontend/src/frame_codec.h"

namespace nb::frontend {

// A sub on /device-message-sender/...: one Send on device-service. Devices the client may
// not touch are left out of the request and answered with PERMISSION_DENIED each.
struct CommandPlan {
  northbound::device::v1::SendRequest request;
  std::vector<std::string> denied_devices;
};

// A sub on /device/...: one event subscription on device-service.
struct EventPlan {
  std::string pattern;
};

using SubPlan = std::variant<CommandPlan, EventPlan>;

// The longest property, function or input name a command may carry (thing-model ids are
// far shorter); longer names are PARAMETER_ERROR before any RPC.
inline constexpr size_t kMaxNameBytes = 128;

// Turns a sub frame into the device-service call that serves it, applying every rule of
// docs/protocol.md §4 and §5 and the client's permissions. Errors carry the protocol
// error code (UNKNOWN_TOPIC, PARAMETER_ERROR, UNSUPPORTED_MESSAGE, PERMISSION_DENIED).
absl::StatusOr<SubPlan> PlanSub(const SubFrame& sub,
                                const northbound::auth::v1::Permissions& permissions);

}  // namespace nb::frontend

#endif  // NORTHBOUND_WS_FRONTEND_SUB_PLANNER_H_
